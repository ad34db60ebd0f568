"""The lease decisions (control.replicas.leases), over every combination of lease, clock and host."""

import itertools

import pytest

from control.replicas.leases import (
    Arrival,
    Lease,
    arrival,
    claimable,
    live,
    lost,
    renew_interval,
    takeover_bound,
    takeovers,
)

ME, OTHER = "r-me", "r-other"
NOW = 100.0
EXPIRIES = (NOW - 5, NOW, NOW + 5)
"""expired, expiring this instant (no longer holds), holding"""


def lease(owner: str, expires_at: float, room: str = "room") -> Lease:
    return Lease(room, owner, f"https://{owner}.example", expires_at)


LEASES = [None] + [lease(owner, at) for owner in (ME, OTHER) for at in EXPIRIES]


def test_a_lease_holds_strictly_before_its_expiry() -> None:
    assert [live(lease(OTHER, at), NOW) for at in EXPIRIES] == [False, False, True]


@pytest.mark.parametrize("current", LEASES)
def test_claimable_unless_another_replica_holds_it(current: Lease | None) -> None:
    held_by_other = current is not None and current.owner == OTHER and current.expires_at > NOW
    assert claimable(current, ME, NOW) is (not held_by_other)


@pytest.mark.parametrize(("current", "hosted"), list(itertools.product(LEASES, (False, True))))
def test_arrival(current: Lease | None, hosted: bool) -> None:
    decision = arrival(current, ME, NOW, hosted_here=hosted)
    if current is not None and current.owner == OTHER and current.expires_at > NOW:
        # another replica holds the room: there, even if this one still has the meeting in memory
        # (it lost the lease; its renewal stops it here)
        assert decision is Arrival.REDIRECT
    elif hosted:
        assert decision is Arrival.HOST
    else:
        assert decision is Arrival.CLAIM
    # never two owners: redirect exactly when this replica may not claim
    assert (decision is Arrival.REDIRECT) is (not claimable(current, ME, NOW))


def test_takeovers_are_the_expired_leases_of_others_not_hosted_here_oldest_first() -> None:
    rooms = [
        lease(OTHER, NOW - 1, "b"),
        lease(OTHER, NOW - 3, "a"),
        lease(OTHER, NOW, "c"),  # expires this instant: taken
        lease(OTHER, NOW + 1, "d"),  # holds
        lease(ME, NOW - 9, "e"),  # this replica's own (it renews it, or the database was away)
        lease(OTHER, NOW - 2, "f"),  # hosted here already
        lease("r-third", NOW - 4, "g"),
    ]
    assert takeovers(rooms, ME, NOW, {"f"}) == ["g", "a", "b", "c"]
    assert takeovers([], ME, NOW, set()) == []
    assert takeovers(rooms, ME, NOW - 100, set()) == []


@pytest.mark.parametrize(("current", "hosted"), list(itertools.product(LEASES, (False, True))))
def test_a_room_is_taken_over_only_where_a_claim_would_succeed(current: Lease | None, hosted: bool) -> None:
    if current is None:
        return
    taken = takeovers([current], ME, NOW, {"room"} if hosted else set())
    assert taken == (["room"] if current.owner == OTHER and not live(current, NOW) and not hosted else [])
    if taken:
        assert claimable(current, ME, NOW)


def test_lost_rooms_are_hosted_ones_a_renewal_did_not_extend() -> None:
    for hosted_bits, renewed_bits in itertools.product(range(8), range(8)):
        rooms = ["a", "b", "c"]
        hosted = {r for i, r in enumerate(rooms) if hosted_bits >> i & 1}
        renewed = {r for i, r in enumerate(rooms) if renewed_bits >> i & 1} & hosted
        assert lost(hosted, renewed) == hosted - renewed


def test_timings() -> None:
    assert renew_interval(6.0) == 2.0
    assert takeover_bound(6.0, 1.0) == 7.0
