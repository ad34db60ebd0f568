"""The permission tree and its grant/revoke rules, checked over every combination (not sampled)."""

import functools
import itertools

import pytest

from control.domain.permissions import (
    ALL,
    LABELS,
    PARENT,
    Change,
    Permission,
    Refusal,
    ancestors,
    apply,
    closure,
    covers,
    descendants,
    refusal,
)

P = Permission
SUBSETS = [frozenset(c) for n in range(len(P) + 1) for c in itertools.combinations(list(P), n)]

# The tree as the operator's manual draws it, written out by hand (not derived from PARENT).
MANUAL_TREE = {
    P.MANAGE_COMPANY_SETTINGS: {P.SHOW_ALL_USERNAMES, P.ADMINISTRATE_USERS, P.ADMINISTRATE_ROOMS},
    P.ADMINISTRATE_USERS: {P.LIST_ALL_USERS},
    P.ADMINISTRATE_ROOMS: {P.LIST_ALL_ROOMS, P.CREATE_ROOM},
}


@functools.cache
def held_by_manual(grants: frozenset[Permission]) -> frozenset[Permission]:
    """Granting a parent grants its children: expand until nothing changes."""
    held = set(grants)
    while True:
        grown = held | {child for parent in held for child in MANUAL_TREE.get(parent, ())}
        if grown == held:
            return frozenset(held)
        held = grown


def expected(
    granter: frozenset[Permission],
    target: frozenset[Permission],
    permission: Permission,
    change: Change,
    self_change: bool,
) -> Refusal | None:
    """The manual's rules, in the manual's order, as an independent oracle."""
    granter = held_by_manual(frozenset(granter))
    target = granter if self_change else held_by_manual(frozenset(target))
    if P.ADMINISTRATE_USERS not in granter:
        return Refusal.NOT_USER_ADMINISTRATOR  # only user administrators grant or revoke
    if self_change and change is Change.REVOKE:
        return Refusal.OWN_PERMISSIONS  # nobody revokes their own permissions
    if permission is P.MANAGE_COMPANY_SETTINGS and P.MANAGE_COMPANY_SETTINGS not in granter:
        return Refusal.COMPANY_SETTINGS_REQUIRED  # Administrate users alone is not enough
    if permission not in granter:
        return Refusal.NOT_HELD  # only permissions one holds
    parents_held = [
        p
        for p, children in MANUAL_TREE.items()
        if permission in held_by_manual(frozenset(children)) and p != permission and p in target
    ]
    if change is Change.REVOKE and parents_held:
        return Refusal.IMPLIED_BY_PARENT
    return None


def test_tree_matches_the_manual():
    assert {child: parent for parent, children in MANUAL_TREE.items() for child in children} == {
        p: parent for p, parent in PARENT.items() if parent is not None
    }
    assert [p for p, parent in PARENT.items() if parent is None] == [P.MANAGE_COMPANY_SETTINGS]
    assert closure([P.MANAGE_COMPANY_SETTINGS]) == ALL
    assert LABELS[P.CREATE_ROOM] == "Create a room" and set(LABELS) == set(P)


@pytest.mark.parametrize("grants", SUBSETS)
def test_closure_grants_children_and_only_them(grants):
    assert closure(grants) == held_by_manual(grants)


def test_a_child_can_be_held_without_its_parent():
    for p in P:
        assert closure([p]) == descendants(p)
        assert not (ancestors(p) & closure([p]))


def test_ancestors_and_descendants_are_inverse():
    for a, b in itertools.product(P, P):
        assert (a in ancestors(b)) == (b in descendants(a) and a != b)


def test_every_combination_of_granter_target_permission_and_change():
    """128 granter sets × 128 target sets × 7 permissions × 2 changes, plus every self-change."""
    checked = 0
    for granter, target, permission, change in itertools.product(SUBSETS, SUBSETS, P, Change):
        assert refusal(granter, target, permission, change, self_change=False) == expected(
            granter, target, permission, change, False
        ), (granter, target, permission, change)
        checked += 1
    for granter, permission, change in itertools.product(SUBSETS, P, Change):
        assert refusal(granter, granter, permission, change, self_change=True) == expected(
            granter, granter, permission, change, True
        ), (granter, permission, change)
        checked += 1
    assert checked == 128 * 128 * 7 * 2 + 128 * 7 * 2


def test_every_allowed_change_keeps_the_set_closed_and_does_what_it_says():
    for granter, target, permission, change in itertools.product(SUBSETS, SUBSETS, P, Change):
        if refusal(granter, target, permission, change, self_change=False) is not None:
            continue
        after = apply(target, permission, change)
        assert closure(after) == after
        if change is Change.GRANT:
            assert after == closure(target) | descendants(permission)
        else:
            assert permission not in after and after == closure(target) - descendants(permission)
        # A granter never hands out (or takes away) anything it does not hold itself.
        assert after ^ closure(target) <= closure(granter)


def test_manage_company_settings_needs_itself_not_just_administrate_users():
    user_admin = closure([P.ADMINISTRATE_USERS])
    assert (
        refusal(user_admin, set(), P.MANAGE_COMPANY_SETTINGS, Change.GRANT, self_change=False)
        is Refusal.COMPANY_SETTINGS_REQUIRED
    )
    assert (
        refusal(user_admin, ALL, P.MANAGE_COMPANY_SETTINGS, Change.REVOKE, self_change=False)
        is Refusal.COMPANY_SETTINGS_REQUIRED
    )
    assert refusal(ALL, set(), P.MANAGE_COMPANY_SETTINGS, Change.GRANT, self_change=False) is None


def test_nobody_revokes_their_own_permissions_even_with_everything():
    for p in P:
        assert refusal(ALL, ALL, p, Change.REVOKE, self_change=True) is Refusal.OWN_PERMISSIONS


def test_revoking_a_child_held_through_its_parent_is_refused():
    assert (
        refusal(ALL, [P.ADMINISTRATE_ROOMS], P.CREATE_ROOM, Change.REVOKE, self_change=False)
        is Refusal.IMPLIED_BY_PARENT
    )
    assert refusal(ALL, [P.CREATE_ROOM], P.CREATE_ROOM, Change.REVOKE, self_change=False) is None


@pytest.mark.parametrize("actor", SUBSETS)
def test_covers_is_inclusion_of_closures(actor):
    for subject in SUBSETS:
        assert covers(actor, subject) == (held_by_manual(subject) <= held_by_manual(actor))
