"""Group-link redemption rules, over every role held, role offered, list, expiry and revocation."""

import itertools

from control.domain.group_links import LINK_ROLES, Link, Refusal, refusal, role_after
from control.domain.roles import Role


def test_redemption_refusals_everywhere():
    lists = [None, ("u1",), ("u2", "u3")]
    expiries = [None, 99.0, 100.0, 101.0]
    for role, users, expires, revoked in itertools.product(LINK_ROLES, lists, expiries, (False, True)):
        link = Link(role, users, expires, revoked=revoked)
        got = refusal(link, user_id="u1", now=100.0)
        if revoked:
            assert got is Refusal.REVOKED
        elif expires is not None and expires <= 100.0:
            assert got is Refusal.EXPIRED
        elif users is not None and "u1" not in users:
            assert got is Refusal.NOT_LISTED
        else:
            assert got is None


def test_the_role_after_redeeming_is_never_lower():
    assert {Role.PARTICIPANT, Role.MODERATOR} == LINK_ROLES
    for current, offered in itertools.product([None, *Role], LINK_ROLES):
        after = role_after(current, offered)
        assert after.rank == max(offered.rank, current.rank if current else -1)
        assert after in (current, offered)
    assert role_after(Role.ORGANIZER, Role.PARTICIPANT) is Role.ORGANIZER
    assert role_after(Role.PARTICIPANT, Role.MODERATOR) is Role.MODERATOR
    assert role_after(None, Role.PARTICIPANT) is Role.PARTICIPANT
