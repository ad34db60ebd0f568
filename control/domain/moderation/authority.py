"""Authority in a meeting follows the rights people were given, never the order they arrived in.

A person's *rights* in a room (`Participant.rights`) are the highest role their access right gives
them there, with Administrate rooms counting as organizer rights for every room of the company
(`control.domain.rooms.rights_in_room`); guests hold participant rights. From them:

- the organizer seat is held only by someone with moderator or organizer rights: a holder of
  organizer rights first, else a holder of moderator rights (the "acting" organizer, who gives the
  seat up to a holder of organizer rights arriving later and stays a moderator); among equals the
  earliest arrival keeps it;
- every other holder of organizer or moderator rights enters as a moderator;
- everyone else enters as a participant, and waits ("waiting for a moderator") while no moderator is
  admitted, unless the room lets participants start; when a moderator arrives in a room without a
  waiting room, everyone waiting is let in (with a waiting room they stay for the moderator to
  admit);
- nobody is promoted above their rights by arriving or by succession; a moderator may still appoint
  a participant moderator (VideoMost: the organizer appoints moderators).
"""

from dataclasses import dataclass

from control.domain.meeting_state import MeetingState, Participant
from control.domain.roles import Role


@dataclass(frozen=True)
class Arrival:
    """How a person enters a running meeting."""

    role: Role
    """The role they take."""
    waiting: bool
    """Whether they wait (for admission, or for a moderator)."""
    unseats: str | None = None
    """The acting organizer (moderator rights only) who gives the seat up to this arrival."""


def may_take_seat(rights: Role) -> bool:
    """Whether rights of this level may hold the organizer seat: moderator or organizer rights."""
    return rights.moderates


def arrival(state: MeetingState, rights: Role) -> Arrival:
    """The role and waiting state of a person with `rights` arriving in `state` (see the module)."""
    if rights.moderates:
        seated = state.organizer()
        if seated is None:
            return Arrival(Role.ORGANIZER, waiting=False)
        if rights.rank > seated.rights.rank:
            return Arrival(Role.ORGANIZER, waiting=False, unseats=seated.id)
        return Arrival(Role.MODERATOR, waiting=False)
    features = state.features
    waits = features.waiting_room or not (state.moderated() or features.participants_may_start)
    return Arrival(Role.PARTICIPANT, waiting=waits)


def waiting_for_moderator(state: MeetingState, p: Participant) -> bool:
    """Whether `p` waits because no moderator is admitted (rather than for admission by one)."""
    return p.waiting and not state.moderated()


def seat_successor(state: MeetingState) -> Participant | None:
    """Who takes the vacant organizer seat: the admitted person with the highest rights that may
    hold it, earliest joined first (ties by id); None when nobody admitted may hold it."""
    eligible = [p for p in state.admitted() if may_take_seat(p.rights)]
    if not eligible:
        return None
    return min(eligible, key=lambda p: (-p.rights.rank, p.joined_at, p.id))
