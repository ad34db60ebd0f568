"""Authority from rights (issue 11): the role grid of room rights × arrival order × whether
participants may start, what each may then do to each other, and random arrival sequences."""

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from moderation_support import T0, M, O, P, allowed, check_invariants, refused

from control.domain.meeting_state import Code, MeetingState, Refused, RoomFeatures
from control.domain.moderation import (
    ROOM_ACTIONS,
    Action,
    Command,
    arrival,
    decide,
    join,
    may_act,
    open_meeting,
    waiting_for_moderator,
)
from control.domain.permissions import Permission
from control.domain.roles import Role
from control.domain.rooms import has_access, rights_in_room

# (company permissions, access right in the room) for each kind of person in the grid
KINDS: dict[str, tuple[frozenset[Permission], Role | None]] = {
    "no right": (frozenset(), None),
    "participant": (frozenset(), P),
    "moderator": (frozenset(), M),
    "organizer": (frozenset(), O),
    "administrate rooms": (frozenset({Permission.ADMINISTRATE_ROOMS}), None),
    "administrate rooms + participant": (frozenset({Permission.MANAGE_COMPANY_SETTINGS}), P),
}
RIGHTS: dict[str, Role | None] = {kind: rights_in_room(*grant) for kind, grant in KINDS.items()}


def test_rights_come_from_access_and_administrate_rooms():
    assert RIGHTS == {
        "no right": None,
        "participant": P,
        "moderator": M,
        "organizer": O,
        "administrate rooms": O,
        "administrate rooms + participant": O,  # Manage company settings includes Administrate rooms
    }
    for kind, (permissions, access) in KINDS.items():
        # no right: no entry at all (the service answers no_access before any role is decided)
        assert has_access(permissions, access) is (RIGHTS[kind] is not None), kind


def expected_role(rights: Role, first: Role | None) -> Role:
    """The grid's oracle, written from the issue: organizer rights organize unless another holder of
    organizer rights already does; moderator rights organize only when nobody else may; everyone
    else participates. `first` is the rights of whoever arrived first (None: nobody)."""
    if rights is O:
        return M if first is O else O
    if rights is M:
        return O if first is None or not first.moderates else M
    return P


def expected_waiting(rights: Role, first: Role | None, *, may_start: bool, waiting_room: bool) -> bool:
    if rights.moderates:
        return False
    moderator_present = first is not None and first.moderates
    return waiting_room or not (moderator_present or may_start)


GRID = list(
    itertools.product(
        [k for k, r in RIGHTS.items() if r is not None],
        [None, *(k for k, r in RIGHTS.items() if r is not None)],  # arrives first, or after that kind
        [False, True],  # the room lets participants start
        [False, True],  # the room has a waiting room
    )
)


def enter(kind: str, earlier: str | None, *, may_start: bool, waiting_room: bool) -> tuple[MeetingState, str]:
    features = RoomFeatures(waiting_room=waiting_room, participants_may_start=may_start)
    if earlier is None:
        state = open_meeting(features, "me", "u:me", registered=True, rights=RIGHTS[kind], now=T0)
        assert not isinstance(state, Refused)
        return state, "me"
    state = open_meeting(features, "first", "u:first", registered=True, rights=RIGHTS[earlier], now=T0)
    assert not isinstance(state, Refused)
    return allowed(join(state, "me", "u:me", registered=True, rights=RIGHTS[kind], now=T0 + 1)).state, "first"


@pytest.mark.parametrize(("kind", "earlier", "may_start", "waiting_room"), GRID)
def test_the_role_grid(kind, earlier, may_start, waiting_room):
    state, _ = enter(kind, earlier, may_start=may_start, waiting_room=waiting_room)
    check_invariants(state, T0 + 1)
    me = state.get("me")
    first_rights = RIGHTS[earlier] if earlier is not None else None
    assert me.rights is RIGHTS[kind]
    assert me.waiting is expected_waiting(me.rights, first_rights, may_start=may_start, waiting_room=waiting_room)
    assert me.role is expected_role(me.rights, first_rights)
    if earlier is not None:
        first = state.get("first")
        if me.role is O:
            assert first.role is not O, "one organizer at a time"
        if first.waiting and me.role.moderates and not waiting_room:
            raise AssertionError("a moderator's arrival lets in those waiting for one")
    organizer = state.organizer()
    if organizer is not None:
        assert organizer.rights.moderates, "the organizer holds organizer (else moderator) rights"
    if me.waiting:
        assert waiting_for_moderator(state, me) is (not state.moderated())


def management_actions():
    """Every action aimed at someone else (not one's own sources or leaving)."""
    return [a for a in Action if a not in (Action.TURN_ON_SOURCE, Action.LEAVE, Action.VISIT, Action.END_VISIT)]


def command(action: Action, target: str) -> Command:
    from control.domain.roles import Capability, Source

    return Command(
        action,
        target=None if action in ROOM_ACTIONS else target,
        source=Source.MICROPHONE,
        capability=Capability.CHAT,
        person="u:someone",
    )


@pytest.mark.parametrize(
    ("kind", "earlier", "may_start"), [(k, e, s) for k, e, s, w in GRID if e is not None and not w]
)
def test_what_each_may_do_to_the_other(kind, earlier, may_start):
    """Both admitted (no waiting room; the later one let in if they waited): every action of each on
    the other follows the rank rule on the roles their rights gave them; nobody acts on a holder of
    organizer rights by removing them; participants manage nobody."""
    state, _ = enter(kind, earlier, may_start=may_start, waiting_room=False)
    if state.get("me").waiting or state.get("first").waiting:
        assert not state.moderated(), "people wait only while no moderator is admitted"
        return
    for actor, target in (("me", "first"), ("first", "me")):
        a, t = state.get(actor), state.get(target)
        for action in management_actions():
            result = decide(state, actor, command(action, target), T0 + 2)
            rule = may_act(
                a.role, None if action in ROOM_ACTIONS else t.role, action, source=command(action, target).source
            )
            if rule is not None:
                refused(result, rule.code)
                continue
            if action in (Action.EXCLUDE, Action.REMOVE_FOR_PERIOD, Action.BAN) and t.rights is O:
                refused(result, Code.ROOM_RIGHTS_HOLDER)
            if not isinstance(result, Refused):
                check_invariants(result.state, T0 + 2)
            if a.role is P:
                raise AssertionError(f"a participant was allowed to {action} someone else")


def test_the_opening_scenario_of_issue_11():
    """A participant-rights user opens first: they wait (or, where participants may start, enter as a
    participant); the administrator arriving later organizes; the participant can neither end the
    meeting nor ban the administrator."""
    for may_start in (False, True):
        features = RoomFeatures(participants_may_start=may_start)
        state = open_meeting(features, "p", "u:member", registered=True, rights=P, now=T0)
        assert not isinstance(state, Refused)
        assert state.organizer() is None and state.get("p").role is P
        assert state.get("p").waiting is (not may_start)
        refused(
            decide(state, "p", Command(Action.END_MEETING), T0),
            Code.ACTOR_WAITING if not may_start else Code.ROLE_TOO_LOW,
        )
        state = allowed(join(state, "admin", "u:admin", registered=True, rights=O, now=T0 + 1)).state
        assert state.organizer().id == "admin" and state.get("p").admitted
        refused(decide(state, "p", Command(Action.BAN, "admin"), T0 + 2), Code.ROLE_TOO_LOW)
        refused(decide(state, "p", Command(Action.END_MEETING), T0 + 2), Code.ROLE_TOO_LOW)
        ended = allowed(decide(state, "admin", Command(Action.END_MEETING), T0 + 2))
        assert ended.state.ended


def test_a_holder_of_organizer_rights_takes_the_seat_from_an_acting_organizer():
    state = open_meeting(RoomFeatures(), "mod", "u:mod", registered=True, rights=M, now=T0)
    assert state.organizer().id == "mod"
    result = allowed(join(state, "owner", "u:owner", registered=True, rights=O, now=T0 + 1))
    assert result.state.organizer().id == "owner" and result.state.get("mod").role is M
    # the acting organizer is now a moderator: may no longer act on the owner, who may act on them
    refused(decide(result.state, "mod", Command(Action.REVOKE_MODERATOR, "owner"), T0), Code.TARGET_NOT_LOWER)
    allowed(decide(result.state, "owner", Command(Action.REVOKE_MODERATOR, "mod"), T0))


def test_a_guest_never_holds_rights_and_waits_for_a_moderator():
    state = open_meeting(RoomFeatures(), "g", "g:inv", registered=False, rights=O, now=T0)
    assert not isinstance(state, Refused)
    assert state.get("g").rights is P and state.get("g").waiting and state.organizer() is None
    state = allowed(join(state, "m", "u:m", registered=True, rights=M, now=T0 + 1)).state
    assert state.get("g").admitted and state.organizer().id == "m"


def test_with_a_waiting_room_a_moderator_arriving_admits_nobody_by_itself():
    state = open_meeting(RoomFeatures(waiting_room=True), "p", "u:p", registered=True, rights=P, now=T0)
    state = allowed(join(state, "m", "u:m", registered=True, rights=M, now=T0 + 1)).state
    assert state.get("p").waiting and not waiting_for_moderator(state, state.get("p"))
    state = allowed(decide(state, "m", Command(Action.ADMIT, "p"), T0 + 2)).state
    assert state.get("p").admitted


def test_holders_of_organizer_rights_are_never_removed_or_banned():
    state = open_meeting(RoomFeatures(), "owner", "u:owner", registered=True, rights=O, now=T0)
    state = allowed(join(state, "admin", "u:admin", registered=True, rights=O, now=T0 + 1)).state
    assert state.get("admin").role is M
    for action in (Action.BAN, Action.EXCLUDE, Action.REMOVE_FOR_PERIOD):
        refused(decide(state, "owner", Command(action, "admin"), T0 + 2), Code.ROOM_RIGHTS_HOLDER)


# --- random arrivals and departures --------------------------------------------------------------

RIGHTS_OF = st.sampled_from([P, P, M, O])


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_authority_follows_rights_over_random_arrivals_and_departures(data):
    features = RoomFeatures(waiting_room=data.draw(st.booleans()), participants_may_start=data.draw(st.booleans()))
    rights = data.draw(RIGHTS_OF)
    state = open_meeting(features, "x0", "u:x0", registered=True, rights=rights, now=T0)
    assert not isinstance(state, Refused)
    now = T0
    for n in range(1, data.draw(st.integers(1, 25))):
        now += 1
        if state.participants and data.draw(st.booleans()):
            leaving = data.draw(st.sampled_from([p.id for p in state.participants]))
            result = allowed(decide(state, leaving, Command(Action.LEAVE), now))
        else:
            rights = data.draw(RIGHTS_OF)
            moderated = state.moderated()
            entry = arrival(state, rights)
            result = allowed(join(state, f"x{n}", f"u:x{n}", registered=True, rights=rights, now=now))
            me = result.state.get(f"x{n}")
            assert me.role is entry.role
            if not rights.moderates:
                assert me.role is P
                assert me.waiting is (features.waiting_room or not (moderated or features.participants_may_start))
        state = result.state
        if state.ended:
            assert not state.participants
            break
        check_invariants(state, now)
        admitted_rights = [p.rights.rank for p in state.admitted() if p.rights.moderates]
        organizer = state.organizer()
        if admitted_rights:
            assert organizer is not None and organizer.rights.rank == max(admitted_rights)
        else:
            assert organizer is None
        if state.moderated() and not features.waiting_room:
            assert not state.waiting(), "nobody waits for a moderator who is there"


# --- hidden participants -------------------------------------------------------------------------


def test_hidden_people_are_listed_to_moderators_and_themselves_only():
    from control.domain.meeting_state import listed, listed_count

    state = open_meeting(RoomFeatures(), "o", "u:o", registered=True, rights=O, now=T0)
    for pid in ("interpreter", "p"):
        state = allowed(join(state, pid, "u:" + pid, registered=True, rights=P, now=T0 + 1)).state
    refused(decide(state, "p", Command(Action.HIDE, "interpreter"), T0), Code.ROLE_TOO_LOW)
    refused(decide(state, "p", Command(Action.HIDE, "p"), T0), Code.ROLE_TOO_LOW)  # participants manage nobody
    result = allowed(decide(state, "o", Command(Action.HIDE, "interpreter"), T0))
    from control.domain.moderation import HiddenChanged

    assert HiddenChanged("interpreter", True) in result.effects
    state = result.state
    hidden = state.get("interpreter")
    assert listed(hidden, state.get("o")) and listed(hidden, hidden)
    assert not listed(hidden, state.get("p")) and not listed(hidden, None)
    assert listed_count(state) == 2 and len(state.admitted()) == 3
    assert allowed(decide(state, "o", Command(Action.HIDE, "o"), T0)).state.get("o").hidden  # a recorder
    state = allowed(decide(state, "o", Command(Action.UNHIDE, "interpreter"), T0)).state
    assert listed(state.get("interpreter"), state.get("p"))
