"""Departures and what follows them: visits ended, the organizer seat filled, an empty meeting ended.

The organizer seat goes only to an admitted holder of organizer rights, else of moderator rights,
earliest joined first, ties by id (`authority`); nobody is promoted above their rights. The meeting
ends when nobody remains, admitted or waiting.
"""

from dataclasses import replace

from control.domain.meeting_state import MeetingState, Participant
from control.domain.moderation.authority import seat_successor
from control.domain.moderation.commands import (
    Disconnect,
    Extra,
    MeetingEnded,
    Reason,
    Result,
    SuccessorChosen,
)
from control.domain.roles import ALL_CAPABILITIES, VISIT_SOURCES, Role


def choose_successor(state: MeetingState) -> tuple[str, Role] | None:
    """Who fills the vacant organizer seat, deterministically, or None.

    The seat goes only to someone whose rights in the room let them hold it
    (`authority.seat_successor`: organizer rights first, then moderator rights, earliest joined,
    ties by id). Nobody is ever promoted above their rights: with no such person admitted the seat
    stays empty, and with no moderator left the meeting goes on without one (arrivals without
    moderator rights then wait, unless the room lets participants start). Waiting people are never
    chosen.
    """
    if state.organizer() is not None:
        return None
    successor = seat_successor(state)
    return (successor.id, Role.ORGANIZER) if successor is not None else None


def fill_vacancies(state: MeetingState) -> tuple[MeetingState, list[SuccessorChosen]]:
    """Apply `choose_successor` until no role is vacant (at most once)."""
    chosen = []
    while (choice := choose_successor(state)) is not None:
        participant_id, role = choice
        p = state.get(participant_id)
        assert p is not None
        state = state.put(promote(p, role))
        chosen.append(SuccessorChosen(participant_id, role))
    return state, chosen


def promote(p: Participant, role: Role) -> Participant:
    """A promoted person gets every capability: a moderator is never left unable to speak."""
    return replace(p, role=role, capabilities=ALL_CAPABILITIES)


def end_visit_of(state: MeetingState, moderator_id: str) -> MeetingState:
    """End the moderator's visit, turning their microphone and camera off: what they said to the
    waiting person never carries on into the meeting unasked."""
    p = state.get(moderator_id)
    if p is None or p.visiting is None:
        return state
    return state.put(replace(p, visiting=None, sources_on=p.sources_on - VISIT_SOURCES))


def depart(state: MeetingState, participant_id: str) -> MeetingState:
    """Take a participant out of the meeting, ending any visit to them first."""
    return end_visit_to(state, participant_id).drop(participant_id)


def end_visit_to(state: MeetingState, waiting_id: str) -> MeetingState:
    """End the visit to a waiting person, if any (see `end_visit_of`)."""
    visitor = state.visitor_of(waiting_id)
    return state if visitor is None else end_visit_of(state, visitor.id)


def end_for_everyone(state: MeetingState, reason: Reason) -> Result:
    """The meeting is over: everyone still present, waiting or admitted, is disconnected."""
    extra: Extra = [Disconnect(p.id, reason) for p in state.participants]
    extra.append(MeetingEnded(reason))
    return replace(state, participants=(), ended=True), extra


def settle(state: MeetingState, extra: Extra) -> Result:
    """After someone arrives, leaves, is admitted or is sent back: fill the vacant organizer seat, or
    end the meeting when nobody remains. People still waiting keep the meeting open: they wait for
    a moderator to arrive, and are not dropped when the last admitted person leaves."""
    if not state.participants:
        ended, more = end_for_everyone(state, Reason.EMPTY)
        return ended, extra + more
    state, chosen = fill_vacancies(state)
    return state, extra + list(chosen)
