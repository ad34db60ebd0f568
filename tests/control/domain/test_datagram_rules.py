"""WebTransport datagrams' pure rules (control.domain.datagrams): who may send a whiteboard preview and
who receives it (every role × waiting × whiteboard right, for sender and recipient, meeting on or
ended), who may send a pointer datagram (every sender × session phase), stale numbers, the preview
rate, and which drop reason a refusal counts as."""

import itertools

import pytest

from control.domain import consent
from control.domain import datagrams as dg
from control.domain.consent import ControlSession, Phase
from control.domain.datagrams import DropReason, LastNumbers
from control.domain.meeting_state import Code, MeetingState, Participant, Refused
from control.domain.roles import ALL_CAPABILITIES, Capability, Role

PROFILES = list(itertools.product(Role, (False, True), (False, True)))
"""(role, waiting, holds whiteboard)"""


def person(pid, role=Role.PARTICIPANT, *, waiting=False, board=True):
    caps = ALL_CAPABILITIES if board else ALL_CAPABILITIES - {Capability.WHITEBOARD}
    return Participant(pid, "person-" + pid, True, role=role, waiting=waiting, capabilities=caps)


def meeting(*people, **kw):
    state = MeetingState(**kw)
    for p in people:
        state = state.put(p)
    return state


@pytest.mark.parametrize(("sender", "recipient", "ended"), list(itertools.product(PROFILES, PROFILES, (False, True))))
def test_preview_sender_and_recipients_over_the_permission_grid(sender, recipient, ended):
    (s_role, s_waiting, s_board), (r_role, r_waiting, r_board) = sender, recipient
    state = meeting(
        person("s", s_role, waiting=s_waiting, board=s_board),
        person("r", r_role, waiting=r_waiting, board=r_board),
        ended=ended,
    )
    may_send = not ended and not s_waiting and s_board
    got = dg.check_preview(state, "s")
    assert (not isinstance(got, Refused)) == may_send
    if isinstance(got, Refused):
        assert dg.drop_reason(got) is DropReason.NOT_PERMITTED
    receives = not ended and not r_waiting and r_board
    assert dg.receives_preview(state, "r") == receives
    assert dg.preview_recipients(state, "s") == (("r",) if receives else ())  # never the sender itself


def test_preview_from_someone_not_in_the_meeting_is_not_permitted():
    state = meeting(person("r"))
    got = dg.check_preview(state, "ghost")
    assert isinstance(got, Refused) and dg.drop_reason(got) is DropReason.NOT_PERMITTED
    assert not dg.receives_preview(state, "ghost")


SENDERS = ("controller", "target", "other-moderator", "participant")


@pytest.mark.parametrize(("sender", "phase"), list(itertools.product(SENDERS, (None, *Phase))))
def test_pointer_datagram_only_from_the_consented_controller(sender, phase):
    session = None if phase is None else ControlSession("sid", "controller", "target", phase)
    got = consent.check_control_event(session, sender)
    permitted = sender == "controller" and phase is Phase.ACTIVE
    assert (not isinstance(got, Refused)) == permitted
    if isinstance(got, Refused):
        assert dg.drop_reason(got) is DropReason.NOT_PERMITTED


@pytest.mark.parametrize("code", list(Code))
def test_drop_reason_of_every_refusal(code):
    expected = DropReason.RATE_LIMITED if code is Code.RATE_LIMITED else DropReason.NOT_PERMITTED
    assert dg.drop_reason(Refused(code, "x")) is expected


def test_stale_and_duplicated_numbers_are_refused_per_type():
    numbers = LastNumbers()
    assert numbers.admit("control-event", 1)
    assert not numbers.admit("control-event", 1)  # duplicated
    assert numbers.admit("control-event", 5)  # a gap: some were lost
    assert not numbers.admit("control-event", 3)  # late
    assert numbers.admit("whiteboard-preview", 2)  # each type on its own
    assert not numbers.admit("whiteboard-preview", 2)
    assert numbers.admit("control-event", 6)
    assert numbers.last == {"control-event": 6, "whiteboard-preview": 2}


def test_preview_rate_is_a_moving_second():
    recent = [10.0 + i / (2 * dg.PREVIEW_RATE) for i in range(dg.PREVIEW_RATE)]  # all within half a second
    assert dg.preview_rate_refusal(recent[:-1], 10.5) is None
    refused = dg.preview_rate_refusal(recent, 10.5)
    assert isinstance(refused, Refused) and dg.drop_reason(refused) is DropReason.RATE_LIMITED
    assert dg.preview_rate_refusal(recent, 11.0 + 0.5) is None  # a second later they no longer count


def test_every_reason_is_a_metric_label():
    assert {str(r) for r in DropReason} == {
        "malformed", "rate_limited", "not_permitted", "stale", "too_big", "unknown_session"
    }  # fmt: skip
