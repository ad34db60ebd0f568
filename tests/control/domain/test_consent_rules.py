"""Settings requests and remote control as pure rules: who may ask whom (every role × waiting pair,
self and absent people), answers only by the person asked, input only from the controller of an
accepted session, ends by either side, and when a session lapses by itself."""

import itertools
from dataclasses import replace

import pytest

from control.domain import consent
from control.domain.consent import ControlSession, Phase, SettingsRequest
from control.domain.meeting_state import Code, MeetingState, Ok, Participant, Refused
from control.domain.roles import ALL_CAPABILITIES, Capability, Role, Source


def person(pid, role=Role.PARTICIPANT, *, waiting=False, sharing=False, may_share=True):
    caps = ALL_CAPABILITIES if may_share else ALL_CAPABILITIES - {Capability.SCREEN_SHARE}
    on = frozenset({Source.SCREEN}) if sharing else frozenset()
    return Participant(pid, "person-" + pid, True, role=role, waiting=waiting, capabilities=caps, sources_on=on)


def meeting(*people, **kw):
    state = MeetingState(**kw)
    for p in people:
        state = state.put(p)
    return state


def code(result):
    return result.code if isinstance(result, Refused) else None


PROFILES = list(itertools.product(Role, (False, True)))


@pytest.mark.parametrize(("actor", "target"), list(itertools.product(PROFILES, PROFILES)))
def test_only_admitted_moderators_ask_admitted_others(actor, target):
    (actor_role, actor_waiting), (target_role, target_waiting) = actor, target
    state = meeting(person("a", actor_role, waiting=actor_waiting), person("t", target_role, waiting=target_waiting))
    if actor_waiting:
        expected = Code.ACTOR_WAITING
    elif not actor_role.moderates:
        expected = Code.ROLE_TOO_LOW
    elif target_waiting:
        expected = Code.TARGET_WAITING
    else:
        expected = None  # any role may be asked: their consent protects them
    assert code(consent.check_ask(state, "a", "t")) == expected
    assert code(consent.check_settings_request(state, [], "a", "t")) == expected


def test_nobody_asks_themselves_absent_people_or_in_an_ended_meeting():
    state = meeting(person("m", Role.MODERATOR), person("t"))
    assert code(consent.check_ask(state, "m", "m")) == Code.SELF_NOT_ALLOWED
    assert code(consent.check_ask(state, "m", "ghost")) == Code.UNKNOWN_PARTICIPANT
    assert code(consent.check_ask(state, "ghost", "t")) == Code.UNKNOWN_PARTICIPANT
    assert code(consent.check_ask(replace(state, ended=True), "m", "t")) == Code.MEETING_ENDED


def test_pending_settings_requests_are_bounded():
    state = meeting(person("m", Role.MODERATOR), person("t"))
    pending = [SettingsRequest(str(i), "m", "t") for i in range(consent.MAX_PENDING)]
    assert code(consent.check_settings_request(state, pending[:-1], "m", "t")) is None
    assert code(consent.check_settings_request(state, pending, "m", "t")) == Code.RATE_LIMITED


def test_a_settings_request_is_answered_by_the_person_asked_only():
    request = SettingsRequest("r", "m", "t")
    assert isinstance(consent.check_settings_answer(request, "t"), Ok)
    for other in ("m", "x"):
        assert code(consent.check_settings_answer(request, other)) == Code.NO_SUCH_REQUEST
    assert code(consent.check_settings_answer(None, "t")) == Code.NO_SUCH_REQUEST


@pytest.mark.parametrize(
    ("state", "lapses"),
    [
        (meeting(person("m", Role.MODERATOR), person("t")), False),
        (meeting(person("m", Role.ORGANIZER), person("t", Role.MODERATOR)), False),
        (meeting(person("m", Role.MODERATOR)), True),
        (meeting(person("t")), True),
        (meeting(person("m", Role.MODERATOR), person("t", waiting=True)), True),
        (meeting(person("m", Role.MODERATOR, waiting=True), person("t")), True),
        (meeting(person("m"), person("t")), True),  # no longer a moderator
    ],
)
def test_a_settings_request_lapses_without_its_two_people(state, lapses):
    assert consent.settings_request_lapses(state, SettingsRequest("r", "m", "t")) is lapses


# --- remote control ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sharing", "may_share", "taken", "expected"),
    [
        (True, True, False, None),
        (False, True, False, Code.NOT_SHARING),
        (True, False, False, Code.NOT_SHARING),  # a revoked share is no share
        (True, True, True, Code.ALREADY_CONTROLLED),
    ],
)
def test_control_needs_a_shared_screen_nobody_else_controls(sharing, may_share, taken, expected):
    state = meeting(
        person("m", Role.MODERATOR), person("n", Role.MODERATOR), person("t", sharing=sharing, may_share=may_share)
    )
    sessions = [ControlSession("s", "n", "t")] if taken else []
    assert code(consent.check_control_request(state, sessions, "m", "t")) == expected


@pytest.mark.parametrize(("actor", "target"), list(itertools.product(PROFILES, PROFILES)))
def test_control_requests_follow_the_asking_rule(actor, target):
    (actor_role, actor_waiting), (target_role, target_waiting) = actor, target
    state = meeting(
        person("a", actor_role, waiting=actor_waiting), person("t", target_role, waiting=target_waiting, sharing=True)
    )
    assert code(consent.check_control_request(state, [], "a", "t")) == code(consent.check_ask(state, "a", "t"))


@pytest.mark.parametrize(("who", "allow"), list(itertools.product(("m", "t", "x"), (True, False))))
def test_only_the_person_answers_an_offered_session(who, allow):
    offered = ControlSession("s", "m", "t")
    got = consent.answer_control(offered, who, allow)
    if who != "t":
        assert code(got) == Code.NO_SUCH_REQUEST
    elif allow:
        assert got == replace(offered, phase=Phase.ACTIVE)
    else:
        assert got is None
    active = replace(offered, phase=Phase.ACTIVE)
    assert code(consent.answer_control(active, "t", allow)) == Code.NO_SUCH_REQUEST  # answered once
    assert code(consent.answer_control(None, "t", allow)) == Code.NO_SUCH_REQUEST


@pytest.mark.parametrize(("who", "phase"), list(itertools.product(("m", "t", "x"), Phase)))
def test_input_only_from_the_controller_of_an_accepted_session(who, phase):
    session = ControlSession("s", "m", "t", phase)
    allowed = who == "m" and phase is Phase.ACTIVE
    assert isinstance(consent.check_control_event(session, who), Ok) is allowed
    assert code(consent.check_control_event(None, who)) == Code.NO_SUCH_REQUEST


@pytest.mark.parametrize(("who", "phase"), list(itertools.product(("m", "t", "x"), Phase)))
def test_either_side_ends_at_any_moment(who, phase):
    session = ControlSession("s", "m", "t", phase)
    assert isinstance(consent.may_end(session, who), Ok) is (who in ("m", "t"))
    assert code(consent.may_end(None, who)) == Code.NO_SUCH_REQUEST


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        (meeting(person("m", Role.MODERATOR), person("t", sharing=True)), None),
        (meeting(person("m", Role.MODERATOR), person("t")), "not_sharing"),
        (meeting(person("m", Role.MODERATOR), person("t", sharing=True, may_share=False)), "not_sharing"),
        (meeting(person("m"), person("t", sharing=True)), "not_a_moderator"),
        (meeting(person("t", sharing=True)), "left"),
        (meeting(person("m", Role.MODERATOR)), "left"),
        (meeting(person("m", Role.MODERATOR), person("t", sharing=True, waiting=True)), "left"),
        (meeting(person("m", Role.MODERATOR, waiting=True), person("t", sharing=True)), "left"),
        (meeting(person("m", Role.MODERATOR), person("t", sharing=True), ended=True), "left"),
    ],
)
def test_a_session_lapses_when_its_people_or_the_share_go(state, reason):
    for phase in Phase:
        assert consent.control_lapse(state, ControlSession("s", "m", "t", phase)) == reason


def test_sharing_is_the_screen_on_with_the_right_to_share():
    state = meeting(person("a", sharing=True), person("b"), person("c", sharing=True, may_share=False))
    assert [consent.sharing(state, pid) for pid in ("a", "b", "c", "ghost")] == [True, False, False, False]
    assert Source.SCREEN in state.get("a").sources_on
