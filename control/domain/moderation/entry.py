"""Entry: opening a meeting, joining it, and the waiting room (admit, deny, send back, visit).

Who enters in which role, and who waits for a moderator, is `authority.arrival`: rights, never the
order of arrival. Arrivals without moderator rights wait when the room has a waiting room;
admission turns the admitted person's sources off.
A visit is private both ways: the visited person's microphone and camera go to the visitor only,
and the visitor's to the visited person only; ending a visit turns the visitor's microphone and
camera off.
"""

from collections.abc import Iterable
from dataclasses import replace

from control.domain.meeting_state import (
    Code,
    MeetingState,
    Participant,
    Refused,
    Removal,
    RoomFeatures,
    entry_refusal,
)
from control.domain.moderation.authority import arrival
from control.domain.moderation.commands import (
    Command,
    Decision,
    Disconnect,
    Reason,
    Result,
    outcome,
)
from control.domain.moderation.succession import (
    depart,
    end_visit_of,
    end_visit_to,
    settle,
)
from control.domain.roles import (
    ALL_CAPABILITIES,
    Capability,
    Role,
    default_capabilities,
)


def open_meeting(
    features: RoomFeatures,
    participant_id: str,
    person: str,
    *,
    registered: bool,
    rights: Role,
    now: float,
    removals: Iterable[Removal] = (),
    bans: Iterable[str] = (),
    capabilities: frozenset[Capability] | None = None,
) -> MeetingState | Refused:
    """A new meeting, with its first arrival entered by `join` (their role comes from their rights,
    never from arriving first: see `authority`).

    `removals` and `bans` are the room's, carried into the meeting so that joins are checked.
    """
    state = MeetingState(features=features, removals=frozenset(removals), bans=frozenset(bans))
    decision = join(
        state, participant_id, person, registered=registered, rights=rights, now=now, capabilities=capabilities
    )
    return decision if isinstance(decision, Refused) else decision.state


def join(
    state: MeetingState,
    participant_id: str,
    person: str,
    *,
    registered: bool,
    now: float,
    rights: Role = Role.PARTICIPANT,
    capabilities: frozenset[Capability] | None = None,
) -> Decision:
    """A person arrives (after the service checked their room access or invitation, and quotas).

    Refused when the meeting has ended, the id is taken, or the person is banned, removed or
    excluded. `rights` is the highest role their rights in the room give them (guests: participant,
    whatever is passed); the role they take and whether they wait follow `authority.arrival`.
    Holders of moderator rights hold every capability; others get `capabilities`, by default the
    room's participant defaults (for a guest, pass the invitation's rights).
    """
    if state.ended:
        return Refused(Code.MEETING_ENDED, "the meeting has ended")
    if state.get(participant_id) is not None:
        return Refused(Code.ALREADY_IN_MEETING, f"{participant_id} is already in the meeting")
    refused = entry_refusal(person, now, removals=state.removals, bans=state.bans, excluded=state.excluded)
    if refused is not None:
        return refused
    if not registered:
        rights = Role.PARTICIPANT
    entry = arrival(state, rights)
    if entry.role.moderates:
        capabilities = ALL_CAPABILITIES
    elif capabilities is None:
        capabilities = default_capabilities(Role.PARTICIPANT, screen_share_allowed=state.features.screen_share)
    new = state
    if entry.unseats is not None:
        seated = new.get(entry.unseats)
        assert seated is not None
        new = new.put(replace(seated, role=Role.MODERATOR))
    new = new.put(
        Participant(
            participant_id,
            person,
            registered=registered,
            role=entry.role,
            rights=rights,
            joined_at=now,
            waiting=entry.waiting,
            capabilities=frozenset(capabilities),
        )
    )
    if entry.role.moderates and not state.features.waiting_room:
        new = let_in_waiting(new)
    settled, extra = settle(new, [])
    assert isinstance(settled, MeetingState)
    return outcome(state, settled, extra)


def let_in_waiting(state: MeetingState) -> MeetingState:
    """A moderator arrived in a room without a waiting room: everyone waiting for one enters, their
    sources off (as on admission)."""
    for p in state.waiting():
        state = state.put(replace(p, waiting=False, sources_on=frozenset()))
    return state


# --- the waiting room: handlers of `decide` --------------------------------------------------


def admit(state: MeetingState, actor: Participant, target: Participant | None, command: Command, now: float) -> Result:
    """Admission ends any visit to them and turns their sources off: nothing goes live unasked."""
    assert target is not None
    state = end_visit_to(state, target.id).put(replace(target, waiting=False, sources_on=frozenset()))
    return settle(state, [])


def deny(state: MeetingState, actor: Participant, target: Participant | None, command: Command, now: float) -> Result:
    assert target is not None
    return depart(state, target.id), [Disconnect(target.id, Reason.DENIED)]


def send_back(
    state: MeetingState, actor: Participant, target: Participant | None, command: Command, now: float
) -> Result:
    """Back to the waiting room as a plain participant: role, floor, sources and visit are dropped."""
    assert target is not None
    if not state.features.waiting_room:
        return Refused(Code.NO_WAITING_ROOM, "the room has no waiting room"), []
    sent = replace(target, waiting=True, role=Role.PARTICIPANT, floor=False, sources_on=frozenset(), visiting=None)
    return settle(state.put(sent), [])


def visit(state: MeetingState, actor: Participant, target: Participant | None, command: Command, now: float) -> Result:
    """A moderator visits one waiting person at a time; visiting another ends the previous visit."""
    assert target is not None
    visitor = state.visitor_of(target.id)
    if visitor is not None and visitor.id != actor.id:
        return Refused(Code.ALREADY_VISITED, f"{visitor.id} is visiting {target.id}"), []
    return state.put(replace(actor, visiting=target.id)), []


def end_visit(
    state: MeetingState, actor: Participant, target: Participant | None, command: Command, now: float
) -> Result:
    return end_visit_of(state, actor.id), []
