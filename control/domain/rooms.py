"""Room access rights and who sees which room: pure rules, reused by the meeting and presence layers."""

from collections.abc import Iterable

from control.domain.permissions import Permission, closure
from control.domain.roles import Role

# A user's access right in a room carries its default role there: the meeting roles of
# control.domain.roles (organizer, moderator, participant). Only registered users may hold the
# organizer role (control.domain.roles.may_hold), so only they create or organize meetings.


def rights_in_room(permissions: Iterable[Permission], access: Role | None) -> Role | None:
    """The highest role a user's rights give them in a room, or None without access: Administrate
    rooms acts as organizer rights for every room of the company; otherwise the access right."""
    if Permission.ADMINISTRATE_ROOMS in closure(permissions):
        return Role.ORGANIZER
    return access


def may_create_room(permissions: Iterable[Permission], *, registered: bool) -> bool:
    return registered and Permission.CREATE_ROOM in closure(permissions)


def may_administrate_room(permissions: Iterable[Permission], role: Role | None) -> bool:
    """Edit a room's name, features and access rights: room administrators and its organizers."""
    return Permission.ADMINISTRATE_ROOMS in closure(permissions) or role is Role.ORGANIZER


def has_access(permissions: Iterable[Permission], role: Role | None) -> bool:
    """Access to a room: an access right in it, or administering all rooms."""
    return role is not None or Permission.ADMINISTRATE_ROOMS in closure(permissions)


def room_visible(permissions: Iterable[Permission], role: Role | None, *, hidden: bool) -> bool:
    """Whether a room appears in the viewer's room lists and search results.

    Rooms the viewer has access to always appear; with List all rooms every other room appears too,
    except hidden rooms, which are absent for everyone without access to them.
    """
    if has_access(permissions, role):
        return True
    return not hidden and Permission.LIST_ALL_ROOMS in closure(permissions)


def presence_visible(permissions: Iterable[Permission], role: Role | None, *, hidden: bool) -> bool:
    """Whether the participants of a room appear in the viewer's presence lists: never for a hidden
    room the viewer has no access to."""
    return not hidden or has_access(permissions, role)


def names_visible(permissions: Iterable[Permission]) -> bool:
    """Show all usernames: without it, participant and room lists give only how many are online."""
    return Permission.SHOW_ALL_USERNAMES in closure(permissions)
