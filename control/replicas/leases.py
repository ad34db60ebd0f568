"""The lease decisions, pure: who runs a room's meeting, given the room's lease row and a clock.

A lease names the replica that runs the room's meeting and when that stops holding unless renewed.
Times are seconds on the database's clock (the one `now()` reads), so replicas with skewed clocks
agree. The SQL of control.replicas.store carries out `claimable` atomically (a conditional upsert);
these functions decide everything else, and are tested exhaustively.
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class Lease:
    room_id: str
    owner: str
    """The replica id holding it."""
    owner_url: str
    """That replica's public base URL."""
    expires_at: float
    """Database-clock seconds after which any replica may claim it."""


def live(lease: Lease, now: float) -> bool:
    """The lease still holds: its owner runs the meeting, nobody else may."""
    return lease.expires_at > now


def claimable(lease: Lease | None, replica: str, now: float) -> bool:
    """`replica` may take (or keep) the room: no lease, its own, or an expired one."""
    return lease is None or lease.owner == replica or not live(lease, now)


class Arrival(StrEnum):
    """What a replica does with a participant whose join names a room."""

    HOST = "host"
    """The meeting runs here (or opens here): serve the join."""
    CLAIM = "claim"
    """Nobody holds the room, or its holder's lease expired: claim it, then take over the meeting the
    database shows running in it (if any), then serve the join."""
    REDIRECT = "redirect"
    """Another live replica runs it: send the participant there."""


def arrival(lease: Lease | None, replica: str, now: float, hosted_here: bool) -> Arrival:
    """Where a join for the room is served. `hosted_here`: this replica holds the room's meeting in
    memory (its lease may meanwhile have been taken: then the other replica has it)."""
    if lease is not None and lease.owner != replica and live(lease, now):
        return Arrival.REDIRECT
    if hosted_here:
        return Arrival.HOST
    return Arrival.CLAIM


def takeovers(leases: Iterable[Lease], replica: str, now: float, hosted: Set[str]) -> list[str]:
    """Rooms whose owner stopped renewing: another replica's expired leases, oldest expiry first,
    that this replica does not already host."""
    expired = [
        lease for lease in leases if lease.owner != replica and not live(lease, now) and lease.room_id not in hosted
    ]
    return [lease.room_id for lease in sorted(expired, key=lambda lease: (lease.expires_at, lease.room_id))]


def lost(hosted: Set[str], renewed: Set[str]) -> set[str]:
    """Rooms this replica hosts whose lease a renewal did not extend: another replica took them
    (this one failed to renew in time), so their meetings must stop here."""
    return set(hosted) - set(renewed)


def renew_interval(ttl: float) -> float:
    """Seconds between renewals: three tries before a lease runs out, so that one slow round trip
    to the database does not lose it."""
    return ttl / 3


def takeover_bound(ttl: float, scan: float) -> float:
    """The longest a room stays without a running owner after its replica died: the rest of the
    lease (at most `ttl`, since the last renewal) plus one scan of the survivors."""
    return ttl + scan
