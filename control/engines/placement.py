"""Where a new meeting goes: the least loaded live worker that has what the meeting needs, by measured
load (`control.engines.load`: packets per second from its stats reports, plus an allowance for the
transports placed on it since). Where a meeting's next participant goes (`spill`): its workers while
they have room, then the next worker (the meeting then spans workers, joined by pipes)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
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
    return min(live, key=_order).worker_id


def spill(meeting: Sequence[str], people: Mapping[str, int], capacity: int | None, live: Sequence[str]) -> str:
    """The worker a meeting's new participant goes to: fill a worker, then spill to the next.

    `meeting`: the workers the meeting uses, its first worker first (never empty); `people`:
    participants per worker, every meeting counted; `capacity`: participants a worker takes (None:
    no limit, so a meeting never spans); `live`: the live workers a participant may go to, most
    preferred first (`choose`'s order). Keeps the meeting together while one of its live workers has
    room (in the order the meeting took them); else the first live worker with room; when every live
    worker is full, the meeting's live worker with the fewest people (full for all: no spreading);
    its first worker when none of its workers is live."""
    if capacity is None:
        return meeting[0]
    alive = set(live)
    mine = [w for w in meeting if w in alive]
    for worker in mine:
        if people.get(worker, 0) < capacity:
            return worker
    for worker in live:
        if worker not in meeting and people.get(worker, 0) < capacity:
            return worker
    if not mine:
        return meeting[0]
    return min(mine, key=lambda w: (people.get(w, 0), mine.index(w)))


def preference(workers: Sequence[Load], *, require: Iterable[str] = ()) -> list[str]:
    """The live workers having every required capability, in `choose`'s order (least loaded first)."""
    required = set(require)
    live = [w for w in workers if required <= w.capabilities]
    return [w.worker_id for w in sorted(live, key=_order)]


def _order(w: Load) -> tuple[float, int, int, str]:
    return (w.packet_rate, w.counts["transports"], w.counts["routers"], w.worker_id)
