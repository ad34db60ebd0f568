"""Who sees whose name: the "Show all usernames" rule (control.domain.rooms.names_visible) applied to
every participant, waiting-room, chat and presence answer, built per recipient.

A viewer without Show all usernames (every guest: guests hold no company permissions) gets no names of
others: a participant object carries `"name": null` and a `label` "Participant <n>" (n: the order of
arrival in the meeting, the same for every viewer), so people can still be told apart and acted on
by their opaque participant ids. Their own entries (every connection of their own person) keep the
name. Moderators are no exception: the moderator role is a meeting role, Show all usernames a
company permission; a moderator without it moderates "Participant 3".

Pure: plain data in, plain data out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from control.domain.meeting_state import USER_PREFIX, MeetingState
from control.domain.permissions import Permission, closure
from control.domain.rooms import names_visible
from control.types import Principal


@dataclass(frozen=True)
class Viewer:
    """Whom an answer is built for."""

    names: bool
    """Holds Show all usernames: sees everyone's name."""
    person: str | None = None
    """Their person key (u:<user id> or g:<invitation id>): their own entries always show the name."""


NOBODY = Viewer(names=False)
"""The safe default: no names at all."""


def viewer(permissions: Iterable[Permission], person: str | None = None) -> Viewer:
    return Viewer(names_visible(permissions), person)


def label(number: int) -> str:
    """The stand-in for a hidden name."""
    return f"Participant {number}"


def shown(viewer: Viewer, person: str | None, name: str) -> str | None:
    """The name `viewer` may see for `person` (None: hidden)."""
    if viewer.names or (person is not None and person == viewer.person):
        return name
    return None


def sees_hidden(state: MeetingState, caller: Principal) -> bool:
    """Whether a REST caller sees the meeting's hidden participants: holders of Administrate rooms,
    and the caller's own admitted moderator connections (control.domain.meeting_state.listed)."""
    if Permission.ADMINISTRATE_ROOMS in closure(caller.permissions):
        return True
    mine = state.of_person(USER_PREFIX + caller.user_id)
    return any(p.admitted and p.role.moderates for p in mine)
