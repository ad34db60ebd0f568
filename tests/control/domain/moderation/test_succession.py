"""Ending, handing over, and who succeeds when a role falls vacant."""

from moderation_support import (
    MIC,
    T0,
    M,
    O,
    P,
    allowed,
    check_invariants,
    member,
    refused,
    standard,
)

from control.domain.meeting_state import (
    Code,
    GateProducer,
    MeetingState,
    RoomFeatures,
)
from control.domain.moderation import (
    Action,
    Command,
    Disconnect,
    MeetingEnded,
    Reason,
    RoleChanged,
    SuccessorChosen,
    choose_successor,
    decide,
    join,
)

# --- ending, handing over, succession ------------------------------------------------------


def test_any_moderator_ends_the_meeting_for_everyone_organizer_included():
    refused(decide(standard(), "p1", Command(Action.END_MEETING), T0), Code.ROLE_TOO_LOW)
    by_moderator = allowed(decide(standard(), "m2", Command(Action.END_MEETING), T0))
    assert by_moderator.state.ended and Disconnect("o", Reason.MEETING_ENDED) in by_moderator.effects
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
    appointed = allowed(decide(standard(), "o", Command(Action.APPOINT_MODERATOR, "p1"), T0)).state
    refused(decide(appointed, "o", Command(Action.HAND_OVER, "p1"), T0), Code.RIGHTS_MISSING)


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
        state = state.put(member(pid, joined_at=1.0, rights=M))
    assert choose_successor(state) == ("a", O)


def test_organizer_rights_come_before_earlier_moderator_rights():
    state = MeetingState().put(member("early", M, joined_at=1)).put(member("owner", M, joined_at=2, rights=O))
    assert choose_successor(state) == ("owner", O)


def test_succession_never_promotes_someone_without_the_rights():
    """The hole of issue 11: a registered participant was handed the empty organizer seat."""
    state = MeetingState().put(member("o", O)).put(member("p", P, joined_at=1)).put(member("g", registered=False))
    result = allowed(decide(state, "o", Command(Action.LEAVE), T0))
    assert result.state.organizer() is None and not result.state.moderators()
    assert {p.role for p in result.state.participants} == {P}
    assert not any(isinstance(e, SuccessorChosen) for e in result.effects)
    refused(decide(result.state, "p", Command(Action.BAN, "g"), T0), Code.ROLE_TOO_LOW)
    refused(decide(result.state, "p", Command(Action.END_MEETING), T0), Code.ROLE_TOO_LOW)


def test_an_appointed_moderator_keeps_moderating_but_never_takes_the_seat():
    state = MeetingState(features=RoomFeatures(waiting_room=True))
    state = state.put(member("o", O, joined_at=0)).put(member("gm", M, registered=False, joined_at=1))
    state = state.put(member("pm", M, joined_at=2, rights=P))  # a registered participant, appointed
    state = state.put(member("w", registered=True, joined_at=0.5, waiting=True, rights=O))
    result = allowed(decide(state, "o", Command(Action.LEAVE), T0))
    assert result.state.organizer() is None
    assert result.state.get("gm").role is M and result.state.get("pm").role is M
    assert result.state.get("w").role is P  # waiting people are never chosen
    # a holder of organizer rights admitted later takes the seat
    result = allowed(decide(result.state, "gm", Command(Action.ADMIT, "w"), T0))
    assert result.state.organizer().id == "w"
    assert SuccessorChosen("w", O) in result.effects
    check_invariants(result.state, T0)


def test_a_guest_moderator_stays_when_the_last_registered_user_leaves():
    state = MeetingState().put(member("o", O)).put(member("gm", M, registered=False, joined_at=1))
    state = state.put(member("g", registered=False, joined_at=0.5))
    result = allowed(decide(state, "o", Command(Action.LEAVE), T0))
    assert result.state.get("gm").role is M and result.state.get("g").role is P
    assert not any(isinstance(e, SuccessorChosen) for e in result.effects)


def test_a_waiting_person_is_not_dropped_when_the_last_admitted_person_leaves():
    state = MeetingState(features=RoomFeatures(waiting_room=True)).put(member("o", O)).put(member("w", waiting=True))
    result = allowed(decide(state, "o", Command(Action.LEAVE), T0))
    assert not result.state.ended and result.state.get("w").waiting
    assert not any(isinstance(e, Disconnect) and e.participant == "w" for e in result.effects)
    # they leave in turn: nobody remains, the meeting ends
    result = allowed(decide(result.state, "w", Command(Action.LEAVE), T0))
    assert result.state.ended and MeetingEnded(Reason.EMPTY) in result.effects


def test_a_moderator_may_end_a_meeting_without_organizer():
    state = MeetingState().put(member("gm", M, registered=False)).put(member("g", registered=False))
    allowed(decide(state, "gm", Command(Action.END_MEETING), T0))
