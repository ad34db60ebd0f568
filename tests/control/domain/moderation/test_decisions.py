"""decide: the role grid exhaustively, the checks before any handler, and invariants over
random sequences of requests."""

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from moderation_support import (
    CAM,
    MIC,
    SCREEN,
    T0,
    M,
    O,
    P,
    allowed,
    check_effects,
    check_invariants,
    refused,
    standard,
)

from control.domain.meeting_state import (
    Code,
    MeetingState,
    Ok,
    Refused,
    RoomFeatures,
    media_plan,
)
from control.domain.moderation import (
    ROOM_ACTIONS,
    SELF_ONLY,
    Action,
    Allowed,
    Command,
    PermissionChanged,
    check_chat,
    check_files,
    check_produce,
    decide,
    join,
    may_act,
    open_meeting,
)
from control.domain.roles import (
    ALL_CAPABILITIES,
    VISIT_SOURCES,
    Capability,
    Role,
    Source,
    sources_of,
)

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
    if action in (Action.GIVE_FLOOR, Action.TAKE_FLOOR, Action.HIDE, Action.UNHIDE):
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
    if action is Action.STOP_RECORDING and not state.recording:
        return Code.NOT_RECORDING
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


def test_files_need_the_chat_rule_and_the_files_capability():
    state = standard()
    assert isinstance(check_files(state, "p1"), Ok)
    assert isinstance(check_files(state, "p1", "p2"), Ok)
    refused(check_files(state, "w1"), Code.ACTOR_WAITING)
    refused(check_files(state, "p1", "w1"), Code.TARGET_WAITING)
    refused(check_files(state, "p1", "nobody"), Code.UNKNOWN_PARTICIPANT)
    refused(check_files(state, "nobody"), Code.UNKNOWN_PARTICIPANT)
    revoked = allowed(decide(state, "m1", Command(Action.REVOKE_PERMISSION, "p1", capability=Capability.FILES), T0))
    assert PermissionChanged("p1", Capability.FILES, False) in revoked.effects
    refused(check_files(revoked.state, "p1"), Code.PERMISSION_MISSING)
    assert isinstance(check_chat(revoked.state, "p1"), Ok)  # chat is a right of its own
    no_chat = allowed(decide(state, "m1", Command(Action.DISABLE_CHAT_PARTICIPANT, "p1"), T0)).state
    refused(check_files(no_chat, "p1"), Code.PERMISSION_MISSING)
    room = allowed(decide(state, "m2", Command(Action.DISABLE_CHAT_ROOM), T0)).state
    refused(check_files(room, "p1"), Code.CHAT_DISABLED)
    assert isinstance(check_files(room, "m2", "p1"), Ok)
    back = allowed(decide(revoked.state, "m1", Command(Action.GRANT_PERMISSION, "p1", capability=Capability.FILES), T0))
    assert isinstance(check_files(back.state, "p1"), Ok)
    refused(
        decide(state, "p2", Command(Action.REVOKE_PERMISSION, "p1", capability=Capability.FILES), T0), Code.ROLE_TOO_LOW
    )


def test_produce():
    state = standard()
    assert isinstance(check_produce(state, "w1", MIC), Ok)
    refused(check_produce(state, "w1", SCREEN), Code.ACTOR_WAITING)
    refused(check_produce(state, "ghost", MIC), Code.UNKNOWN_PARTICIPANT)


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
    state = open_meeting(features, "p0", "person0", registered=True, rights=Role.ORGANIZER, now=T0)
    registered_of = {p: data.draw(st.booleans()) for p in PEOPLE}
    registered_of["person0"] = True
    run_sequence(data, state, T0, registered_of)


@settings(max_examples=120, deadline=None)
@given(st.data())
def test_invariants_hold_over_random_sequences_from_a_busy_meeting(data):
    state = standard(waiting_room=data.draw(st.booleans()))
    registered_of = {p.person: p.registered for p in state.participants} | {"person-new": False}
    run_sequence(data, state, T0, registered_of)
