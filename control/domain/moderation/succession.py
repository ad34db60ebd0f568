"""Departures and what follows them: visits ended, vacant roles filled, an empty meeting ended.

The organizer seat goes to a registered moderator, else a registered participant, earliest joined
first, ties by id; with no registered user admitted there is no organizer, and if no moderator
remains either, the earliest-joined guest moderates; the meeting ends when nobody admitted remains.
"""

from dataclasses import replace

from control.domain.meeting_state import MeetingState, Participant
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
    """Who fills a vacant role, deterministically, or None when no role is vacant.

    - No organizer but a registered user is admitted: the organizer seat goes to the earliest-joined
      registered moderator, else the earliest-joined registered participant (ties by id). Only
      registered users may organize, so registered users come first.
    - No registered user admitted and no moderator left: the earliest-joined admitted guest becomes
      moderator, so that someone can still admit, mute and end (ties by id).
    Waiting people are never chosen.
    """
    admitted = state.admitted()
    if state.organizer() is None:
        registered = [p for p in admitted if p.registered]
        if registered:
            best = min(registered, key=lambda p: (not p.role.moderates, p.joined_at, p.id))
            return best.id, Role.ORGANIZER
    if admitted and not state.moderators():
        best = min(admitted, key=lambda p: (p.joined_at, p.id))
        return best.id, Role.MODERATOR
    return None


def fill_vacancies(state: MeetingState) -> tuple[MeetingState, list[SuccessorChosen]]:
    """Apply `choose_successor` until no role is vacant (at most twice)."""
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
    """After someone leaves, is admitted or is sent back: fill vacant roles, or end the meeting when
    no admitted participant remains (those still waiting are disconnected)."""
    if not state.admitted():
        ended, more = end_for_everyone(state, Reason.EMPTY)
        return ended, extra + more
    state, chosen = fill_vacancies(state)
    return state, extra + list(chosen)
