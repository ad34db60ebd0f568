"""Where a new meeting goes: the least loaded live worker that has what the meeting needs, by measured
load (`control.engines.load`: packets per second from its stats reports, plus an allowance for the
transports placed on it since)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from control.engines.errors import NoWorkerAvailable


@dataclass(frozen=True)
class Load:
    """A live worker as placement sees it."""

    worker_id: str
    capabilities: frozenset[str]
    """What its engine can do ("plain", "webrtc"), from its hello."""
    counts: dict[str, int]
    """Objects in its desired table: routers, transports, producers, consumers."""
    packet_rate: float = 0.0
    """Its estimated packets per second (`PacketRate.estimate`)."""


def choose(workers: Sequence[Load], *, exclude: Iterable[str] = (), require: Iterable[str] = ()) -> str:
    """The worker with the lowest estimated packet rate (ties: the fewest transports, then the fewest
    routers, then by id), among those not excluded and having every required capability;
    NoWorkerAvailable when there is none."""
    excluded, required = set(exclude), set(require)
    live = [w for w in workers if w.worker_id not in excluded and required <= w.capabilities]
    if not live:
        raise NoWorkerAvailable("no live engine worker" + (" with " + ", ".join(sorted(required)) if required else ""))
    return min(live, key=lambda w: (w.packet_rate, w.counts["transports"], w.counts["routers"], w.worker_id)).worker_id
