"""Moderation policy: the role grid exhaustively, every issue rule by example, and invariants over
random sequences of requests."""

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from control.domain.meeting_state import (
    Code,
    GateConsumer,
    GateProducer,
    MeetingState,
    Ok,
    Participant,
    Refused,
    RoomFeatures,
    media_plan,
    plan_changes,
    removed_until,
)
from control.domain.moderation import (
    ROOM_ACTIONS,
    SELF_ONLY,
    Action,
    Allowed,
    Command,
    Disconnect,
    FloorChanged,
    MeetingEnded,
    PermissionChanged,
    Reason,
    RevokeTokens,
    RoleChanged,
    SourceChanged,
    SuccessorChosen,
    VisitChanged,
    WaitingChanged,
    check_chat,
    check_produce,
    choose_successor,
    decide,
    join,
    may_act,
    open_meeting,
)
from control.domain.roles import (
    ALL_CAPABILITIES,
    REQUIRED_CAPABILITY,
    VISIT_SOURCES,
    Capability,
    Role,
    Source,
    sources_of,
)

O, M, P = Role.ORGANIZER, Role.MODERATOR, Role.PARTICIPANT
MIC, CAM, SCREEN, SCREEN_AUDIO = Source.MICROPHONE, Source.CAMERA, Source.SCREEN, Source.SCREEN_AUDIO
HOUR = 3600.0
T0 = 1_000_000.0

# --- the role grid, written out --------------------------------------------------------------
#
# One grid per kind of action: rows are the actor's role, columns the target (the actor themselves,
# or another participant of that role). Cells: ok, or the refusal code
#   low  = role_too_low      rank = target_not_lower   self = not_self
#   selfx = self_not_allowed mod = not_a_moderator

ABBREVIATIONS = {
    "ok": None,
    "low": Code.ROLE_TOO_LOW,
    "rank": Code.TARGET_NOT_LOWER,
    "self": Code.NOT_SELF,
    "selfx": Code.SELF_NOT_ALLOWED,
    "mod": Code.NOT_A_MODERATOR,
}

SELF_ONLY_GRID = """
      self  O     M     P
O     ok    self  self  self
M     ok    self  self  self
P     ok    self  self  self
"""

MUTE_GRID = """
      self  O     M     P
O     ok    ok    ok    ok
M     ok    ok    ok    ok
P     ok    low   low   low
"""

SCREEN_OFF_GRID = """
      self  O     M     P
O     ok    rank  ok    ok
M     ok    rank  rank  ok
P     ok    low   low   low
"""

RANKED_GRID = """
      self  O     M     P
O     rank  rank  ok    ok
M     rank  rank  rank  ok
P     low   low   low   low
"""

REVOKE_MODERATOR_GRID = """
      self  O     M     P
O     rank  rank  ok    mod
M     rank  rank  rank  mod
P     low   low   low   low
"""

FLOOR_GRID = """
      self  O     M     P
O     ok    rank  ok    ok
M     ok    rank  rank  ok
P     low   low   low   low
"""

HAND_OVER_GRID = """
      self  O     M     P
O     selfx mod   ok    mod
M     low   low   low   low
P     low   low   low   low
"""

ROOM_GRID = """
      -
O     ok
M     ok
P     low
"""

RANKED_ACTIONS = {
    Action.APPOINT_MODERATOR,
    Action.GRANT_PERMISSION,
    Action.REVOKE_PERMISSION,
    Action.ENABLE_CHAT_PARTICIPANT,
    Action.DISABLE_CHAT_PARTICIPANT,
    Action.EXCLUDE,
    Action.REMOVE_FOR_PERIOD,
    Action.BAN,
    Action.ADMIT,
    Action.DENY,
    Action.SEND_BACK,
    Action.VISIT,
}


def parse(grid: str) -> dict[tuple[Role, str], Code | None]:
    lines = [line.split() for line in grid.strip().splitlines()]
    columns = lines[0]
    table = {}
    for row in lines[1:]:
        actor = {"O": O, "M": M, "P": P}[row[0]]
        for column, cell in zip(columns, row[1:], strict=True):
            table[(actor, column)] = ABBREVIATIONS[cell]
    return table


def grid_for(action: Action, source: Source | None) -> str:
    if action in SELF_ONLY:
        return SELF_ONLY_GRID
    if action is Action.TURN_OFF_SOURCE:
        return MUTE_GRID if source in (MIC, CAM) else SCREEN_OFF_GRID
    if action in ROOM_ACTIONS:
        return ROOM_GRID
    if action is Action.REVOKE_MODERATOR:
        return REVOKE_MODERATOR_GRID
    if action in (Action.GIVE_FLOOR, Action.TAKE_FLOOR):
        return FLOOR_GRID
    if action is Action.HAND_OVER:
        return HAND_OVER_GRID
    assert action in RANKED_ACTIONS, action
    return RANKED_GRID


def test_every_action_has_a_grid():
    for action in Action:
        grid_for(action, MIC)


COLUMN_ROLE = {"O": O, "M": M, "P": P}
CASES = [
    (action, source, actor, column)
    for action in Action
    for source in Source
    for actor in Role
    for column in (["-"] if action in ROOM_ACTIONS else ["self", "O", "M", "P"])
]


@pytest.mark.parametrize("action, source, actor, column", CASES)
def test_role_grid(action, source, actor, column):
    """Every (actor role, target, action, source) combination, enumerated."""
    expected = parse(grid_for(action, source))[(actor, column)]
    if column == "-":
        target = None
    elif column == "self":
        target = actor
    else:
        target = COLUMN_ROLE[column]
    refused = may_act(actor, target, action, self_target=column == "self", source=source)
    assert (refused.code if refused else None) == expected


def test_nobody_but_the_person_turns_a_source_on():
    for actor, target in itertools.product(Role, Role):
        for source in Source:
            refused = may_act(actor, target, Action.TURN_ON_SOURCE, self_target=False, source=source)
            assert refused is not None and refused.code is Code.NOT_SELF


# --- a standard meeting ------------------------------------------------------------------------


def member(pid, role=P, *, registered=True, joined_at=0.0, waiting=False, on=frozenset(Source), **kw):
    return Participant(
        pid,
        "person-" + pid,
        registered=registered,
        role=role,
        joined_at=joined_at,
        waiting=waiting,
        capabilities=ALL_CAPABILITIES,
        sources_on=frozenset() if waiting else on,
        **kw,
    )


def standard(waiting_room=True, **kw) -> MeetingState:
    """o organizer; m1 registered and m2 guest moderators; p1 registered and p2 guest participants;
    w1, w2 waiting (when the room has a waiting room). Everyone admitted has every source on."""
    state = MeetingState(features=RoomFeatures(waiting_room=waiting_room), **kw)
    people = [
        member("o", O, joined_at=0),
        member("m1", M, joined_at=1),
        member("m2", M, registered=False, joined_at=2),
        member("p1", P, joined_at=3),
        member("p2", P, registered=False, joined_at=4),
    ]
    if waiting_room:
        people += [
            member("w1", P, joined_at=5, waiting=True),
            member("w2", P, registered=False, joined_at=6, waiting=True),
        ]
    for p in people:
        state = state.put(p)
    return state


ACTOR_OF = {O: "o", M: "m1", P: "p1"}
OTHER_OF = {O: None, M: "m2", P: "p2"}


def command_for(action, target, source=MIC):
    return Command(
        action,
        target=target,
        source=source,
        capability=Capability.MICROPHONE,
        person="person-banned",
        seconds=None,
    )


def expected_state_refusal(state, actor, target, action):
    """The refusals that depend on the state rather than on roles, for the standard meeting."""
    if target is not None:
        t = state.get(target)
        if action in (Action.ADMIT, Action.DENY, Action.VISIT) and not t.waiting:
            return Code.TARGET_NOT_WAITING
        if action in (Action.APPOINT_MODERATOR, Action.GIVE_FLOOR, Action.TAKE_FLOOR, Action.SEND_BACK) and t.waiting:
            return Code.TARGET_WAITING
        if action is Action.HAND_OVER and not t.registered:
            return Code.GUEST_CANNOT_ORGANIZE
    if action is Action.END_MEETING and state.get(actor).role is not O:
        return Code.ROLE_TOO_LOW
    return None


DECIDE_CASES = [
    (action, actor, column)
    for action in Action
    for actor in Role
    for column in (["-"] if action in ROOM_ACTIONS else ["self", "O", "M", "P", "waiting"])
    if not (column == "O" and actor is O)  # a meeting has one organizer
]


@pytest.mark.parametrize("action, actor_role, column", DECIDE_CASES)
def test_decide_follows_the_grid_in_a_real_meeting(action, actor_role, column):
    """decide() refuses exactly as the grid says, then only for the documented state reasons, and
    every allowed outcome keeps the invariants."""
    state = standard(bans=frozenset({"person-banned"}))
    actor = ACTOR_OF[actor_role]
    if column == "-":
        target, target_role = None, None
    elif column == "self":
        target, target_role = actor, actor_role
    elif column == "waiting":
        target, target_role = "w1", P
    else:
        target_role = COLUMN_ROLE[column]
        target = OTHER_OF[target_role] if target_role is actor_role else ACTOR_OF[target_role]
    result = decide(state, actor, command_for(action, target), T0)
    role_refusal = may_act(actor_role, target_role, action, self_target=column == "self", source=MIC)
    if role_refusal is not None:
        assert isinstance(result, Refused) and result.code is role_refusal.code
        return
    expected = expected_state_refusal(state, actor, target, action)
    if expected is not None:
        assert isinstance(result, Refused) and result.code is expected, result
        return
    assert isinstance(result, Allowed), result
    check_invariants(result.state, T0)
    check_effects(state, result)


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("source", list(Source))
def test_waiting_people_only_handle_their_microphone_and_camera_and_leave(action, source):
    state = standard()
    result = decide(state, "w1", command_for(action, None if action in ROOM_ACTIONS else "w1", source), T0)
    own_media = action in (Action.TURN_ON_SOURCE, Action.TURN_OFF_SOURCE) and source in VISIT_SOURCES
    if action is Action.LEAVE or own_media:
        assert isinstance(result, Allowed)
    else:
        assert isinstance(result, Refused) and result.code is Code.ACTOR_WAITING


# --- checks shared by the examples and the properties -------------------------------------------


def check_invariants(state: MeetingState, now: float) -> None:
    if state.ended:
        assert state.participants == ()
        return
    admitted = state.admitted()
    assert admitted, "a meeting with nobody admitted has ended"
    assert state.moderators(), "there is always a moderator"
    organizers = [p for p in state.participants if p.role is O]
    assert len(organizers) == (1 if any(p.registered for p in admitted) else 0)
    for o in organizers:
        assert o.registered and o.admitted
    ids = [p.id for p in state.participants]
    assert len(ids) == len(set(ids))
    visited = [p.visiting for p in state.participants if p.visiting is not None]
    assert len(visited) == len(set(visited))
    plan = media_plan(state)
    for p in state.participants:
        assert p.role.rank <= O.rank
        assert p.person not in state.bans and p.person not in state.excluded
        assert removed_until(state.removals, p.person, now) is None
        if p.waiting:
            assert p.role is P and not p.floor and p.visiting is None
        if p.visiting is not None:
            assert p.admitted and p.role.moderates and state.get(p.visiting).waiting
        permitted = set().union(*(sources_of(c) for c in p.capabilities))
        assert p.sources_on <= permitted, "a revoked source is never on"
        if state.presenter_mode and p.admitted and p.visiting is None and MIC in p.sources_on:
            assert p.floor
        for source in Source:
            if plan.is_open(p.id, source):
                assert p.holds(REQUIRED_CAPABILITY[source]), "a revoked source is never open"
    for publisher, source, subscriber in plan.routes():
        pub, sub = state.get(publisher), state.get(subscriber)
        if pub.waiting:
            assert sub.visiting == pub.id and source in VISIT_SOURCES
        if sub.waiting:
            assert pub.visiting == sub.id and source in VISIT_SOURCES
    for w in state.waiting():
        for source in Source:
            if plan.is_open(w.id, source):
                assert source in VISIT_SOURCES and state.visitor_of(w.id) is not None


def check_effects(old: MeetingState, result: Allowed) -> None:
    gates = [e for e in result.effects if isinstance(e, (GateProducer, GateConsumer))]
    assert gates == plan_changes(media_plan(old), media_plan(result.state))
    kinds = [isinstance(e, (GateProducer, GateConsumer)) and e.open for e in result.effects]
    first_open = kinds.index(True) if True in kinds else len(kinds)
    assert all(kinds[first_open:]), "gate opens come last"
    closes = [isinstance(e, (GateProducer, GateConsumer)) and not e.open for e in result.effects]
    assert closes == sorted(closes, reverse=True), "gate closes come first"
    for e in result.effects:
        if isinstance(e, Disconnect):
            assert result.state.get(e.participant) is None


def revoke(target, capability):
    return Command(Action.REVOKE_PERMISSION, target, capability=capability)


def grant(target, capability):
    return Command(Action.GRANT_PERMISSION, target, capability=capability)


def allowed(result) -> Allowed:
    assert isinstance(result, Allowed), result
    return result


def refused(result, code: Code) -> Refused:
    assert isinstance(result, Refused), result
    assert result.code is code, result
    return result


# --- roles ---------------------------------------------------------------------------------


def test_opening_a_meeting_makes_the_registered_opener_organizer():
    state = open_meeting(RoomFeatures(), "o", "alice", registered=True, now=T0)
    assert state.organizer().id == "o" and state.get("o").capabilities == ALL_CAPABILITIES
    assert refused(open_meeting(RoomFeatures(), "g", "guest", registered=False, now=T0), Code.GUEST_CANNOT_ORGANIZE)


def test_moderators_appoint_moderators_including_guests():
    result = allowed(decide(standard(), "m2", Command(Action.APPOINT_MODERATOR, target="p2"), T0))
    assert result.state.get("p2").role is M
    assert RoleChanged("p2", M) in result.effects


def test_appointing_gives_back_every_capability():
    state = allowed(decide(standard(), "o", revoke("p1", Capability.MICROPHONE), T0)).state
    state = allowed(decide(state, "m1", Command(Action.APPOINT_MODERATOR, target="p1"), T0)).state
    assert state.get("p1").capabilities == ALL_CAPABILITIES


def test_only_the_organizer_revokes_a_moderator():
    refused(decide(standard(), "m1", Command(Action.REVOKE_MODERATOR, target="m2"), T0), Code.TARGET_NOT_LOWER)
    result = allowed(decide(standard(), "o", Command(Action.REVOKE_MODERATOR, target="m2"), T0))
    assert result.state.get("m2").role is P


# --- muting, permissions ------------------------------------------------------------------


def test_moderators_mute_the_organizer():
    result = allowed(decide(standard(), "m2", Command(Action.TURN_OFF_SOURCE, "o", source=MIC), T0))
    assert MIC not in result.state.get("o").sources_on
    assert GateProducer("o", MIC, False) in result.effects
    assert SourceChanged("o", MIC, False) in result.effects


def test_moderators_cannot_stop_a_higher_roles_screen():
    refused(decide(standard(), "m1", Command(Action.TURN_OFF_SOURCE, "o", source=SCREEN), T0), Code.TARGET_NOT_LOWER)
    allowed(decide(standard(), "m1", Command(Action.TURN_OFF_SOURCE, "p1", source=SCREEN), T0))


def test_after_a_mute_the_participant_may_unmute():
    state = allowed(decide(standard(), "m1", Command(Action.TURN_OFF_SOURCE, "p1", source=MIC), T0)).state
    result = allowed(decide(state, "p1", Command(Action.TURN_ON_SOURCE, source=MIC), T0))
    assert GateProducer("p1", MIC, True) in result.effects


def test_after_a_revoke_the_participant_cannot_unmute_until_granted():
    result = allowed(decide(standard(), "m1", revoke("p1", Capability.MICROPHONE), T0))
    assert GateProducer("p1", MIC, False) in result.effects
    assert PermissionChanged("p1", Capability.MICROPHONE, False) in result.effects
    state = result.state
    refused(decide(state, "p1", Command(Action.TURN_ON_SOURCE, source=MIC), T0), Code.PERMISSION_MISSING)
    refused(check_produce(state, "p1", MIC), Code.PERMISSION_MISSING)
    state = allowed(decide(state, "m1", grant("p1", Capability.MICROPHONE), T0)).state
    assert MIC not in state.get("p1").sources_on  # granting does not unmute
    assert isinstance(check_produce(state, "p1", MIC), Ok)
    allowed(decide(state, "p1", Command(Action.TURN_ON_SOURCE, source=MIC), T0))


def test_revoking_screen_share_closes_screen_and_screen_audio():
    result = allowed(decide(standard(), "o", revoke("m1", Capability.SCREEN_SHARE), T0))
    assert GateProducer("m1", SCREEN, False) in result.effects
    assert GateProducer("m1", SCREEN_AUDIO, False) in result.effects


def test_nobody_grants_themselves_a_permission():
    refused(decide(standard(), "m1", grant("m1", Capability.CHAT), T0), Code.TARGET_NOT_LOWER)


@pytest.mark.parametrize(
    "action, muted",
    [(Action.MUTE_ALL_AUDIO, {MIC}), (Action.MUTE_ALL_VIDEO, {CAM}), (Action.MUTE_ALL_BOTH, {MIC, CAM})],
)
def test_mute_all_mutes_everyone_but_the_actor_including_the_organizer(action, muted):
    state = allowed(decide(standard(), "m2", Command(action), T0)).state
    for p in state.admitted():
        expected = set(Source) if p.id == "m2" else set(Source) - muted
        assert p.sources_on == expected, p.id


# --- presenter mode and the floor --------------------------------------------------------------


def test_presenter_mode():
    state = allowed(decide(standard(), "m1", Command(Action.GIVE_FLOOR, "p1"), T0)).state
    result = allowed(decide(state, "m1", Command(Action.START_PRESENTER_MODE), T0))
    state = result.state
    assert [p.id for p in state.admitted() if MIC in p.sources_on] == ["p1"]
    assert GateProducer("o", MIC, False) in result.effects
    assert CAM in state.get("p2").sources_on
    refused(decide(state, "p2", Command(Action.TURN_ON_SOURCE, source=MIC), T0), Code.FLOOR_REQUIRED)
    refused(decide(state, "o", Command(Action.TURN_ON_SOURCE, source=MIC), T0), Code.FLOOR_REQUIRED)
    state = allowed(decide(state, "o", Command(Action.GIVE_FLOOR, "o"), T0)).state
    allowed(decide(state, "o", Command(Action.TURN_ON_SOURCE, source=MIC), T0))
    result = allowed(decide(state, "m1", Command(Action.TAKE_FLOOR, "p1"), T0))
    assert FloorChanged("p1", False) in result.effects
    assert GateProducer("p1", MIC, False) in result.effects
    state = allowed(decide(result.state, "m1", Command(Action.STOP_PRESENTER_MODE), T0)).state
    allowed(decide(state, "p2", Command(Action.TURN_ON_SOURCE, source=MIC), T0))


def test_floor_cannot_be_taken_from_a_higher_role():
    state = allowed(decide(standard(), "o", Command(Action.GIVE_FLOOR, "o"), T0)).state
    refused(decide(state, "m1", Command(Action.TAKE_FLOOR, "o"), T0), Code.TARGET_NOT_LOWER)
    refused(decide(state, "p1", Command(Action.GIVE_FLOOR, "p1"), T0), Code.ROLE_TOO_LOW)


# --- waiting room ----------------------------------------------------------------------------


def test_arrivals_wait_when_the_room_has_a_waiting_room():
    state = open_meeting(RoomFeatures(waiting_room=True), "o", "alice", registered=True, now=T0)
    result = allowed(join(state, "g", "guest", registered=False, now=T0 + 1))
    assert result.state.get("g").waiting
    assert all(not isinstance(e, GateConsumer) or not e.open for e in result.effects)
    state = open_meeting(RoomFeatures(waiting_room=False), "o", "alice", registered=True, now=T0)
    result = allowed(join(state, "g", "guest", registered=False, now=T0 + 1))
    assert result.state.get("g").admitted
    assert GateConsumer("o", MIC, "g", True) in result.effects


def test_admit_deny_send_back():
    result = allowed(decide(standard(), "m2", Command(Action.ADMIT, "w1"), T0))
    assert WaitingChanged("w1", False) in result.effects
    assert GateConsumer("o", MIC, "w1", True) in result.effects
    result = allowed(decide(standard(), "m2", Command(Action.DENY, "w1"), T0))
    assert result.state.get("w1") is None and Disconnect("w1", Reason.DENIED) in result.effects
    result = allowed(decide(standard(), "o", Command(Action.SEND_BACK, "m1"), T0))
    sent = result.state.get("m1")
    assert sent.waiting and sent.role is P and sent.sources_on == frozenset()
    assert GateConsumer("o", MIC, "m1", False) in result.effects
    assert GateProducer("m1", MIC, False) in result.effects
    refused(decide(standard(), "m1", Command(Action.SEND_BACK, "m2"), T0), Code.TARGET_NOT_LOWER)
    refused(decide(standard(waiting_room=False), "m1", Command(Action.SEND_BACK, "p1"), T0), Code.NO_WAITING_ROOM)


def test_admission_turns_sources_off():
    state = allowed(decide(standard(), "w1", Command(Action.TURN_ON_SOURCE, source=MIC), T0)).state
    state = allowed(decide(state, "m1", Command(Action.ADMIT, "w1"), T0)).state
    assert state.get("w1").sources_on == frozenset()


def test_a_visit_is_two_way_audio_and_video_with_one_moderator_only():
    state = allowed(decide(standard(), "w1", Command(Action.TURN_ON_SOURCE, source=CAM), T0)).state
    result = allowed(decide(state, "m1", Command(Action.VISIT, "w1"), T0))
    state = result.state
    assert VisitChanged("m1", "w1", True) in result.effects
    assert GateProducer("w1", CAM, True) in result.effects
    assert GateConsumer("w1", CAM, "m1", True) in result.effects
    assert GateConsumer("m1", MIC, "w1", True) in result.effects
    assert GateConsumer("m1", MIC, "o", False) in result.effects  # the meeting does not overhear
    plan = media_plan(state)
    assert plan.audiences[("w1", CAM)] == {"m1"}
    assert not plan.may_receive("m1", SCREEN, "w1")
    assert not plan.may_receive("o", MIC, "w1")
    refused(decide(state, "m2", Command(Action.VISIT, "w1"), T0), Code.ALREADY_VISITED)
    # visiting someone else ends the first visit
    state = allowed(decide(state, "m1", Command(Action.VISIT, "w2"), T0)).state
    assert state.visitor_of("w1") is None and state.visitor_of("w2").id == "m1"
    # ending a visit turns the moderator's microphone and camera off
    result = allowed(decide(state, "m1", Command(Action.END_VISIT), T0))
    assert result.state.get("m1").sources_on == {SCREEN, SCREEN_AUDIO}


def test_a_visitor_in_presenter_mode_speaks_to_the_visited_only():
    state = allowed(decide(standard(), "m1", Command(Action.START_PRESENTER_MODE), T0)).state
    state = allowed(decide(state, "m1", Command(Action.VISIT, "w1"), T0)).state
    state = allowed(decide(state, "w1", Command(Action.TURN_ON_SOURCE, source=MIC), T0)).state
    result = allowed(decide(state, "m1", Command(Action.TURN_ON_SOURCE, source=MIC), T0))
    plan = media_plan(result.state)
    assert plan.is_open("m1", MIC) and plan.audiences[("m1", MIC)] == {"w1"}
    assert plan.is_open("w1", MIC) and plan.audiences[("w1", MIC)] == {"m1"}


@pytest.mark.parametrize(
    "who, command",
    [
        ("w1", Command(Action.LEAVE)),
        ("m2", Command(Action.DENY, "w1")),
        ("m2", Command(Action.BAN, "w1")),
        ("m2", Command(Action.ADMIT, "w1")),
    ],
)
def test_when_the_visited_person_goes_the_visitor_is_not_live_in_the_meeting(who, command):
    state = allowed(decide(standard(), "m1", Command(Action.VISIT, "w1"), T0)).state
    result = allowed(decide(state, who, command, T0))
    assert result.state.get("m1").sources_on == {SCREEN, SCREEN_AUDIO}
    assert VisitChanged("m1", "w1", False) in result.effects
    assert not media_plan(result.state).is_open("m1", MIC)


def test_admitting_ends_the_visit():
    state = allowed(decide(standard(), "m1", Command(Action.VISIT, "w1"), T0)).state
    state = allowed(decide(state, "m2", Command(Action.ADMIT, "w1"), T0)).state
    assert state.get("m1").visiting is None


# --- removal -----------------------------------------------------------------------------


def test_exclude_keeps_the_person_out_of_this_meeting():
    result = allowed(decide(standard(), "m1", Command(Action.EXCLUDE, "p2"), T0))
    assert RevokeTokens("person-p2", Reason.EXCLUDED, None) in result.effects
    assert Disconnect("p2", Reason.EXCLUDED) in result.effects
    refused(join(result.state, "p2b", "person-p2", registered=False, now=T0 + 10 * HOUR), Code.EXCLUDED)


def test_remove_for_twelve_hours_by_default():
    result = allowed(decide(standard(), "m1", Command(Action.REMOVE_FOR_PERIOD, "p2"), T0))
    assert RevokeTokens("person-p2", Reason.REMOVED, T0 + 12 * HOUR) in result.effects
    state = result.state
    refused(join(state, "x", "person-p2", registered=False, now=T0 + 12 * HOUR - 1), Code.REMOVED)
    allowed(join(state, "x", "person-p2", registered=False, now=T0 + 12 * HOUR))


def test_removal_period_is_configurable():
    state = standard()
    from dataclasses import replace

    state = replace(state, features=replace(state.features, removal_seconds=HOUR))
    result = allowed(decide(state, "m1", Command(Action.REMOVE_FOR_PERIOD, "p2"), T0))
    assert RevokeTokens("person-p2", Reason.REMOVED, T0 + HOUR) in result.effects
    result = allowed(decide(state, "m1", Command(Action.REMOVE_FOR_PERIOD, "p2", seconds=60), T0))
    assert RevokeTokens("person-p2", Reason.REMOVED, T0 + 60) in result.effects
    refused(decide(state, "m1", Command(Action.REMOVE_FOR_PERIOD, "p2", seconds=0), T0), Code.INVALID_ARGUMENT)


def test_ban_and_unban():
    state = allowed(decide(standard(), "m1", Command(Action.BAN, "p1"), T0)).state
    refused(join(state, "x", "person-p1", registered=True, now=T0 + 1000 * HOUR), Code.BANNED)
    state = allowed(decide(state, "m2", Command(Action.UNBAN, person="person-p1"), T0)).state
    allowed(join(state, "x", "person-p1", registered=True, now=T0))
    refused(decide(state, "p2", Command(Action.UNBAN, person="person-p1"), T0), Code.ROLE_TOO_LOW)


def test_removal_takes_every_connection_of_the_person():
    state = standard(waiting_room=False)
    state = allowed(join(state, "p1-phone", "person-p1", registered=True, now=T0)).state
    result = allowed(decide(state, "m1", Command(Action.BAN, "p1"), T0))
    assert result.state.of_person("person-p1") == ()
    assert {Disconnect("p1", Reason.BANNED), Disconnect("p1-phone", Reason.BANNED)} <= set(result.effects)


def test_removal_is_refused_if_any_connection_of_the_person_is_not_lower():
    state = standard(waiting_room=False)
    state = state.put(member("m2-phone", M, registered=False, joined_at=9)).put(
        Participant("m2-laptop", "person-m2", registered=False, joined_at=9, capabilities=ALL_CAPABILITIES)
    )
    refused(decide(state, "m1", Command(Action.EXCLUDE, "m2-laptop"), T0), Code.TARGET_NOT_LOWER)


def test_moderators_cannot_remove_moderators_but_the_organizer_can():
    for action in (Action.EXCLUDE, Action.REMOVE_FOR_PERIOD, Action.BAN):
        refused(decide(standard(), "m1", Command(action, "m2"), T0), Code.TARGET_NOT_LOWER)
        refused(decide(standard(), "m1", Command(action, "o"), T0), Code.TARGET_NOT_LOWER)
        allowed(decide(standard(), "o", Command(action, "m2"), T0))


# --- ending, handing over, succession ------------------------------------------------------


def test_end_meeting_for_everyone():
    refused(decide(standard(), "m1", Command(Action.END_MEETING), T0), Code.ROLE_TOO_LOW)
    result = allowed(decide(standard(), "o", Command(Action.END_MEETING), T0))
    assert result.state.ended and MeetingEnded(Reason.MEETING_ENDED) in result.effects
    disconnected = {e.participant for e in result.effects if isinstance(e, Disconnect)}
    assert disconnected == {"o", "m1", "m2", "p1", "p2", "w1", "w2"}
    assert GateProducer("o", MIC, False) in result.effects
    refused(decide(result.state, "o", Command(Action.LEAVE), T0), Code.MEETING_ENDED)
    refused(join(result.state, "x", "someone", registered=True, now=T0), Code.MEETING_ENDED)


def test_hand_over_to_a_registered_moderator():
    result = allowed(decide(standard(), "o", Command(Action.HAND_OVER, "m1"), T0))
    assert result.state.organizer().id == "m1" and result.state.get("o") is None
    assert Disconnect("o", Reason.HANDED_OVER) in result.effects
    assert RoleChanged("m1", O) in result.effects
    refused(decide(standard(), "o", Command(Action.HAND_OVER, "m2"), T0), Code.GUEST_CANNOT_ORGANIZE)
    refused(decide(standard(), "o", Command(Action.HAND_OVER, "p1"), T0), Code.NOT_A_MODERATOR)


def test_organizer_leaving_passes_to_the_earliest_registered_moderator():
    state = standard()
    state = state.put(member("m0", M, registered=False, joined_at=0.5))  # guest moderator, earlier
    result = allowed(decide(state, "o", Command(Action.LEAVE), T0))
    assert result.state.organizer().id == "m1"
    assert SuccessorChosen("m1", O) in result.effects


def test_a_registered_moderator_comes_before_an_earlier_registered_participant():
    state = MeetingState().put(member("o", O)).put(member("early", P, joined_at=1)).put(member("late", M, joined_at=2))
    result = allowed(decide(state, "o", Command(Action.LEAVE), T0))
    assert result.state.organizer().id == "late"


def test_without_registered_moderators_the_earliest_registered_participant_organizes():
    state = allowed(decide(standard(), "o", Command(Action.REVOKE_MODERATOR, "m1"), T0)).state
    result = allowed(decide(state, "o", Command(Action.LEAVE), T0))
    # m1 (joined 1) and p1 (joined 3) are both registered participants now; m2 is a guest moderator
    assert result.state.organizer().id == "m1"
    assert result.state.get("m2").role is M


def test_successor_ties_are_broken_by_id():
    state = MeetingState()
    for pid in ["b", "a", "c"]:
        state = state.put(member(pid, joined_at=1.0))
    assert choose_successor(state) == ("a", O)


def test_with_only_guests_left_the_earliest_guest_moderates():
    state = MeetingState(features=RoomFeatures(waiting_room=True))
    state = state.put(member("o", O, joined_at=0))
    state = state.put(member("g2", registered=False, joined_at=2)).put(member("g1", registered=False, joined_at=1))
    state = state.put(member("w", registered=True, joined_at=0.5, waiting=True))
    result = allowed(decide(state, "o", Command(Action.LEAVE), T0))
    assert result.state.organizer() is None
    assert result.state.get("g1").role is M
    assert result.state.get("w").role is P  # waiting people are never chosen
    # a registered user admitted later becomes organizer
    result = allowed(decide(result.state, "g1", Command(Action.ADMIT, "w"), T0))
    assert result.state.organizer().id == "w"
    assert SuccessorChosen("w", O) in result.effects
    check_invariants(result.state, T0)


def test_a_guest_moderator_stays_when_the_last_registered_user_leaves():
    state = MeetingState().put(member("o", O)).put(member("gm", M, registered=False, joined_at=1))
    state = state.put(member("g", registered=False, joined_at=0.5))
    result = allowed(decide(state, "o", Command(Action.LEAVE), T0))
    assert result.state.get("gm").role is M and result.state.get("g").role is P
    assert not any(isinstance(e, SuccessorChosen) for e in result.effects)


def test_the_meeting_ends_when_the_last_admitted_participant_leaves():
    state = MeetingState(features=RoomFeatures(waiting_room=True)).put(member("o", O)).put(member("w", waiting=True))
    result = allowed(decide(state, "o", Command(Action.LEAVE), T0))
    assert result.state.ended
    assert Disconnect("w", Reason.EMPTY) in result.effects and MeetingEnded(Reason.EMPTY) in result.effects


def test_a_moderator_may_end_a_meeting_without_organizer():
    state = MeetingState().put(member("gm", M, registered=False)).put(member("g", registered=False))
    allowed(decide(state, "gm", Command(Action.END_MEETING), T0))


# --- chat --------------------------------------------------------------------------------


def test_chat():
    state = standard()
    assert isinstance(check_chat(state, "p1"), Ok)
    assert isinstance(check_chat(state, "p1", "p2"), Ok)
    refused(check_chat(state, "w1"), Code.ACTOR_WAITING)
    refused(check_chat(state, "p1", "w1"), Code.TARGET_WAITING)
    refused(check_chat(state, "p1", "nobody"), Code.UNKNOWN_PARTICIPANT)
    one = allowed(decide(state, "m1", Command(Action.DISABLE_CHAT_PARTICIPANT, "p1", capability=Capability.CAMERA), T0))
    assert PermissionChanged("p1", Capability.CHAT, False) in one.effects
    assert one.state.get("p1").capabilities == ALL_CAPABILITIES - {Capability.CHAT}
    refused(check_chat(one.state, "p1"), Code.PERMISSION_MISSING)
    assert isinstance(check_chat(one.state, "p2"), Ok)
    again = allowed(decide(one.state, "m1", Command(Action.ENABLE_CHAT_PARTICIPANT, "p1"), T0)).state
    assert isinstance(check_chat(again, "p1"), Ok)
    room = allowed(decide(state, "m2", Command(Action.DISABLE_CHAT_ROOM), T0)).state
    refused(check_chat(room, "p1"), Code.CHAT_DISABLED)
    assert isinstance(check_chat(room, "m2", "p1"), Ok)
    room = allowed(decide(room, "m2", Command(Action.ENABLE_CHAT_ROOM), T0)).state
    assert isinstance(check_chat(room, "p1"), Ok)


def test_produce():
    state = standard()
    assert isinstance(check_produce(state, "w1", MIC), Ok)
    refused(check_produce(state, "w1", SCREEN), Code.ACTOR_WAITING)
    refused(check_produce(state, "ghost", MIC), Code.UNKNOWN_PARTICIPANT)


def test_join_defaults_and_refusals():
    state = open_meeting(RoomFeatures(screen_share=False), "o", "alice", registered=True, now=T0)
    state = allowed(join(state, "p", "bob", registered=True, now=T0)).state
    assert Capability.SCREEN_SHARE not in state.get("p").capabilities
    refused(join(state, "p", "carol", registered=True, now=T0), Code.ALREADY_IN_MEETING)
    state = allowed(join(state, "g", "gus", registered=False, now=T0, capabilities=frozenset({Capability.CHAT}))).state
    assert state.get("g").capabilities == {Capability.CHAT}


def test_argument_checks():
    state = standard()
    refused(decide(state, "ghost", Command(Action.LEAVE), T0), Code.UNKNOWN_PARTICIPANT)
    refused(decide(state, "m1", Command(Action.BAN, "ghost"), T0), Code.UNKNOWN_PARTICIPANT)
    refused(decide(state, "m1", Command(Action.BAN), T0), Code.MISSING_ARGUMENT)
    refused(decide(state, "m1", Command(Action.TURN_OFF_SOURCE, "p1"), T0), Code.MISSING_ARGUMENT)
    refused(decide(state, "m1", Command(Action.GRANT_PERMISSION, "p1"), T0), Code.MISSING_ARGUMENT)
    refused(decide(state, "m1", Command(Action.UNBAN), T0), Code.MISSING_ARGUMENT)


# --- random sequences ---------------------------------------------------------------------------

PEOPLE = [f"person{i}" for i in range(5)]


WEIGHTED_ACTIONS = [a for a in Action for _ in range(1 if a is Action.END_MEETING else 4)]


@st.composite
def requests(draw, state, actor):
    """A request with mostly well-formed arguments, often aimed at someone the actor may act on;
    ending the meeting is rarer, so that sequences last."""
    rarely = st.integers(0, 9).map(lambda n: n == 0)
    rank = state.get(actor).role.rank
    groups = [
        [p.id for p in state.participants],
        [p.id for p in state.participants if p.role.rank < rank],
        [p.id for p in state.participants if p.role is Role.MODERATOR],
        [p.id for p in state.participants if p.waiting],
    ]
    ids = draw(st.sampled_from([g for g in groups if g]))
    return Command(
        draw(st.sampled_from(WEIGHTED_ACTIONS)),
        target=None if draw(rarely) else draw(st.sampled_from(ids)),
        source=None if draw(rarely) else draw(st.sampled_from(Source)),
        capability=None if draw(rarely) else draw(st.sampled_from(Capability)),
        person=draw(st.sampled_from(PEOPLE)),
        seconds=draw(st.sampled_from([None, None, 60.0, -1.0])),
    )


def run_sequence(data, state: MeetingState, now: float, registered_of: dict[str, bool]) -> None:
    """Apply random joins and requests; after every allowed one, check effects and invariants, and
    that no capability revoked (and not granted back since) has an open producer."""
    check_invariants(state, now)
    revoked: set[tuple[str, Capability]] = {
        (p.id, c) for p in state.participants for c in Capability if c not in p.capabilities
    }
    next_id = 0
    for _ in range(data.draw(st.integers(1, 40))):
        now += data.draw(st.sampled_from([0.0, 1.0, 50.0]))
        if data.draw(st.integers(0, 2)) == 0:
            person = data.draw(st.sampled_from(sorted(registered_of)))
            next_id += 1
            result = join(state, f"j{next_id}", person, registered=registered_of[person], now=now)
        else:
            moderators = [p.id for p in state.moderators()]
            everyone = [p.id for p in state.participants]
            actor = data.draw(st.sampled_from(moderators if moderators and data.draw(st.booleans()) else everyone))
            result = decide(state, actor, data.draw(requests(state, actor)), now)
        if isinstance(result, Refused):
            assert isinstance(result.code, Code) and result.message
            continue
        check_effects(state, result)
        for effect in result.effects:
            if isinstance(effect, PermissionChanged):
                (revoked.discard if effect.held else revoked.add)((effect.participant, effect.capability))
        state = result.state
        check_invariants(state, now)
        plan = media_plan(state)
        for pid, capability in revoked:
            for source in sources_of(capability):
                assert not plan.is_open(pid, source), "a revoked source is never open"
        if state.ended:
            break


@settings(max_examples=120, deadline=None)
@given(st.data())
def test_invariants_hold_over_random_sequences_from_a_fresh_meeting(data):
    features = RoomFeatures(
        waiting_room=data.draw(st.booleans()), screen_share=data.draw(st.booleans()), removal_seconds=100.0
    )
    state = open_meeting(features, "p0", "person0", registered=True, now=T0)
    registered_of = {p: data.draw(st.booleans()) for p in PEOPLE}
    registered_of["person0"] = True
    run_sequence(data, state, T0, registered_of)


@settings(max_examples=120, deadline=None)
@given(st.data())
def test_invariants_hold_over_random_sequences_from_a_busy_meeting(data):
    state = standard(waiting_room=data.draw(st.booleans()))
    registered_of = {p.person: p.registered for p in state.participants} | {"person-new": False}
    run_sequence(data, state, T0, registered_of)
