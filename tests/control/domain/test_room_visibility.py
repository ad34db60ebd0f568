"""Room visibility and room administration rules, over every permission set, role and hidden flag."""

import itertools

from control.domain.permissions import Permission as P
from control.domain.permissions import closure
from control.domain.roles import Role
from control.domain.rooms import (
    has_access,
    may_administrate_room,
    may_create_room,
    names_visible,
    presence_visible,
    room_visible,
)

SUBSETS = [frozenset(c) for n in range(len(P) + 1) for c in itertools.combinations(list(P), n)]
ROLES = [None, *Role]


def test_room_visibility_everywhere():
    for perms, role, hidden in itertools.product(SUBSETS, ROLES, (False, True)):
        held = closure(perms)
        access = role is not None or P.ADMINISTRATE_ROOMS in held
        assert has_access(perms, role) == access
        expected = access or (not hidden and P.LIST_ALL_ROOMS in held)
        assert room_visible(perms, role, hidden=hidden) == expected, (perms, role, hidden)
        # A hidden room is absent for everyone without access, whatever else they hold.
        if hidden and not access:
            assert not room_visible(perms, role, hidden=True)
            assert not presence_visible(perms, role, hidden=True)
        if not hidden:
            assert presence_visible(perms, role, hidden=False)


def test_room_administration():
    for perms, role in itertools.product(SUBSETS, ROLES):
        assert may_administrate_room(perms, role) == (P.ADMINISTRATE_ROOMS in closure(perms) or role is Role.ORGANIZER)


def test_only_registered_users_with_create_a_room_create_rooms():
    for perms, registered in itertools.product(SUBSETS, (False, True)):
        assert may_create_room(perms, registered=registered) == (registered and P.CREATE_ROOM in closure(perms))


def test_names_need_show_all_usernames():
    for perms in SUBSETS:
        assert names_visible(perms) == (P.SHOW_ALL_USERNAMES in closure(perms))
