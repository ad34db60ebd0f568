"""The permission tree of the operator's manual, and who may grant or revoke what.

Pure functions over plain data: no I/O. A user's stored permission set is always *closed downward*
(holding a parent means holding all of its children), so `closure()` is the only normalisation.

    Manage company settings
    ├── Show all usernames
    ├── Administrate users
    │   └── List all users
    └── Administrate rooms
        ├── List all rooms
        └── Create a room
"""

from collections.abc import Iterable
from enum import StrEnum


class Permission(StrEnum):
    MANAGE_COMPANY_SETTINGS = "manage_company_settings"
    SHOW_ALL_USERNAMES = "show_all_usernames"
    ADMINISTRATE_USERS = "administrate_users"
    LIST_ALL_USERS = "list_all_users"
    ADMINISTRATE_ROOMS = "administrate_rooms"
    LIST_ALL_ROOMS = "list_all_rooms"
    CREATE_ROOM = "create_room"


class Change(StrEnum):
    GRANT = "grant"
    REVOKE = "revoke"


class Refusal(StrEnum):
    """Why a permission change is refused; each value is a stable API error code."""

    NOT_USER_ADMINISTRATOR = "administrate_users_required"
    """Only holders of Administrate users grant or revoke permissions of others."""
    OWN_PERMISSIONS = "own_permissions"
    """Nobody can revoke their own permissions."""
    COMPANY_SETTINGS_REQUIRED = "manage_company_settings_required"
    """Granting or revoking Manage company settings requires holding it."""
    NOT_HELD = "permission_not_held"
    """One can grant or revoke only permissions one holds."""
    IMPLIED_BY_PARENT = "permission_implied_by_parent"
    """The target holds a parent of the permission: revoke the parent instead."""


PARENT: dict[Permission, Permission | None] = {
    Permission.MANAGE_COMPANY_SETTINGS: None,
    Permission.SHOW_ALL_USERNAMES: Permission.MANAGE_COMPANY_SETTINGS,
    Permission.ADMINISTRATE_USERS: Permission.MANAGE_COMPANY_SETTINGS,
    Permission.LIST_ALL_USERS: Permission.ADMINISTRATE_USERS,
    Permission.ADMINISTRATE_ROOMS: Permission.MANAGE_COMPANY_SETTINGS,
    Permission.LIST_ALL_ROOMS: Permission.ADMINISTRATE_ROOMS,
    Permission.CREATE_ROOM: Permission.ADMINISTRATE_ROOMS,
}

ALL: frozenset[Permission] = frozenset(Permission)


def ancestors(permission: Permission) -> frozenset[Permission]:
    """The parent, grandparent, … of `permission` (not itself)."""
    found = []
    parent = PARENT[permission]
    while parent is not None:
        found.append(parent)
        parent = PARENT[parent]
    return frozenset(found)


def descendants(permission: Permission) -> frozenset[Permission]:
    """`permission` and everything below it: what granting it grants."""
    return _DESCENDANTS[permission]


def closure(permissions: Iterable[Permission]) -> frozenset[Permission]:
    """Everything held when `permissions` are held: each permission with all of its descendants."""
    held: frozenset[Permission] = frozenset()
    for permission in permissions:
        held |= _DESCENDANTS[permission]
    return held


_DESCENDANTS: dict[Permission, frozenset[Permission]] = {
    permission: frozenset(p for p in Permission if p == permission or permission in ancestors(p))
    for permission in Permission
}


def refusal(
    granter: Iterable[Permission],
    target: Iterable[Permission],
    permission: Permission,
    change: Change,
    *,
    self_change: bool,
) -> Refusal | None:
    """Why `granter` may not apply `change` of `permission` to `target`, or None when allowed.

    `self_change` is true when granter and target are the same user (then `target` is ignored and
    taken to be `granter`). Granting a permission already held, or revoking one not held, is allowed
    and changes nothing.
    """
    granter = closure(granter)
    target = granter if self_change else closure(target)
    if Permission.ADMINISTRATE_USERS not in granter:
        return Refusal.NOT_USER_ADMINISTRATOR
    if self_change and change is Change.REVOKE:
        return Refusal.OWN_PERMISSIONS
    if permission is Permission.MANAGE_COMPANY_SETTINGS and permission not in granter:
        return Refusal.COMPANY_SETTINGS_REQUIRED
    if permission not in granter:
        return Refusal.NOT_HELD
    if change is Change.REVOKE and ancestors(permission) & target:
        return Refusal.IMPLIED_BY_PARENT
    return None


def apply(target: Iterable[Permission], permission: Permission, change: Change) -> frozenset[Permission]:
    """`target`'s permissions after the change (assumed allowed by `refusal`)."""
    target = closure(target)
    if change is Change.GRANT:
        return target | descendants(permission)
    return target - descendants(permission)


def covers(actor: Iterable[Permission], subject: Iterable[Permission]) -> bool:
    """Whether `actor` holds every permission `subject` holds.

    Acting on behalf of someone (resetting their password, deleting them, issuing an API key for
    their profile) must never give the actor permissions it does not hold.
    """
    return closure(subject) <= closure(actor)


LABELS: dict[Permission, str] = {
    Permission.MANAGE_COMPANY_SETTINGS: "Manage company settings",
    Permission.SHOW_ALL_USERNAMES: "Show all usernames",
    Permission.ADMINISTRATE_USERS: "Administrate users",
    Permission.LIST_ALL_USERS: "List all users",
    Permission.ADMINISTRATE_ROOMS: "Administrate rooms",
    Permission.LIST_ALL_ROOMS: "List all rooms",
    Permission.CREATE_ROOM: "Create a room",
}
"""The names the operator's manual uses."""
