"""Group links: who may redeem a room link for registered users, and the role it leaves them with.

Pure functions over plain data, no I/O. A group link (as opposed to a personalized guest invitation,
control.domain.invitations) is for registered users of the room's company: redeeming it gives the
redeemer an access right in the room with the link's default role. It is
- never an organizer link: organizers are appointed by name (PUT /rooms/{id}/access/{user});
- optionally limited to a list of users (users belong to no department, so a link is scoped by user);
- optionally expiring, and revocable;
- idempotent to redeem, and never lowers a role the redeemer already holds in the room.
"""

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from control.domain.roles import Role

LINK_ROLES: frozenset[Role] = frozenset({Role.PARTICIPANT, Role.MODERATOR})
"""The roles a group link may give."""


class Refusal(StrEnum):
    """Why a redemption is refused; each value is a stable API error code."""

    REVOKED = "group_link_revoked"
    """The link was revoked."""
    EXPIRED = "group_link_expired"
    """The link's expiry has passed."""
    NOT_LISTED = "group_link_not_for_you"
    """The link is limited to a list of users, and the redeemer is not on it."""


@dataclass(frozen=True)
class Link:
    role: Role
    user_ids: Collection[str] | None
    """None: every registered user of the company."""
    expires_at: float | None
    """Seconds since the epoch; valid while now < expires_at. None: no expiry."""
    revoked: bool = False


def refusal(link: Link, *, user_id: str, now: float) -> Refusal | None:
    """Why `user_id` (a registered user of the link's company) may not redeem `link` at `now`, or None."""
    if link.revoked:
        return Refusal.REVOKED
    if link.expires_at is not None and now >= link.expires_at:
        return Refusal.EXPIRED
    if link.user_ids is not None and user_id not in link.user_ids:
        return Refusal.NOT_LISTED
    return None


def role_after(current: Role | None, offered: Role) -> Role:
    """The redeemer's role in the room after redeeming: the higher of the one held and the one offered."""
    if current is not None and current.rank >= offered.rank:
        return current
    return offered
