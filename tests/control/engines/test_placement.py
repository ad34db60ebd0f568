"""Placement: the least loaded live worker that has what the meeting needs."""

from __future__ import annotations

import itertools

import pytest

from control.engines import NoWorkerAvailable
from control.engines.load import PACKETS_PER_NEW_TRANSPORT, PacketRate
from control.engines.placement import Load, choose, preference, spill


def load(worker_id: str, transports: int, routers: int = 0, capabilities: tuple[str, ...] = ("plain",)) -> Load:
    return Load(
        worker_id,
        frozenset(capabilities),
        {"routers": routers, "transports": transports, "producers": 0, "consumers": 0},
    )


def test_fewest_transports_then_routers_then_id() -> None:
    assert choose([load("a", 2), load("b", 1)]) == "b"
    assert choose([load("a", 1, routers=2), load("b", 1, routers=1)]) == "b"
    assert choose([load("b", 1), load("a", 1)]) == "a"


def test_exclude_and_require() -> None:
    workers = [load("a", 0), load("b", 5, capabilities=("plain", "webrtc"))]
    assert choose(workers, require=["webrtc"]) == "b"
    assert choose(workers, exclude=["a"]) == "b"
    with pytest.raises(NoWorkerAvailable, match="no live engine worker with webrtc"):
        choose(workers, exclude=["b"], require=["webrtc"])
    with pytest.raises(NoWorkerAvailable):
        choose([])


def test_measured_packet_rate_comes_before_the_counts() -> None:
    busy, idle = load("a", 1), load("b", 10)
    busy = Load(busy.worker_id, busy.capabilities, busy.counts, packet_rate=900.0)
    idle = Load(idle.worker_id, idle.capabilities, idle.counts, packet_rate=20.0)
    assert choose([busy, idle]) == "b"  # ten quiet transports weigh less than one busy one


def test_packet_rate_between_two_reports() -> None:
    rate = PacketRate()
    rate.update({"datagrams_in": 1000, "packets_out": 5000}, now=10.0, transports=4)
    assert rate.per_second == 0.0  # one report is no rate yet
    rate.update({"datagrams_in": 1500, "packets_out": 7500}, now=15.0, transports=4)
    assert rate.per_second == 600.0
    assert rate.estimate(transports=4) == 600.0
    # transports placed since the report count before any packet of theirs is measured
    assert rate.estimate(transports=6) == 600.0 + 2 * PACKETS_PER_NEW_TRANSPORT
    assert rate.estimate(transports=1) == 600.0
    # a restarted worker's counters start again from zero: no negative rate, the next report measures
    rate.update({"datagrams_in": 10, "packets_out": 0}, now=20.0, transports=0)
    assert rate.per_second == 600.0
    rate.update({"datagrams_in": 60, "packets_out": 0}, now=25.0, transports=0)
    assert rate.per_second == 10.0


def test_spill_fills_a_worker_then_the_next() -> None:
    people: dict[str, int] = {}
    placed = []
    meeting = ["a"]
    for _ in range(10):
        worker = spill(meeting, people, 3, ["a", "b", "c"])
        people[worker] = people.get(worker, 0) + 1
        if worker not in meeting:
            meeting.append(worker)
        placed.append(worker)
    assert placed == ["a"] * 3 + ["b"] * 3 + ["c"] * 3 + ["a"]  # all full: the fewest of the meeting's


def test_spill_without_capacity_never_spans() -> None:
    assert spill(["a"], {"a": 1000}, None, ["b", "a"]) == "a"


def test_spill_exhaustively_against_its_rules() -> None:
    workers = ("a", "b", "c")
    orders = [p for n in (1, 2, 3) for p in itertools.permutations(workers, n)]
    for meeting, live, capacity in itertools.product(orders, [(), *orders], (None, 1, 2)):
        for counts in itertools.product(range(3), repeat=3):
            people = dict(zip(workers, counts, strict=True))
            got = spill(meeting, people, capacity, live)
            room = [w for w in live if capacity is not None and people[w] < capacity]
            mine = [w for w in meeting if w in live]
            if capacity is None:
                assert got == meeting[0]
            elif any(w in room for w in mine):
                assert got == next(w for w in mine if w in room)  # together, in the meeting's order
            elif room:
                assert got == room[0] and got not in meeting  # spilled to the most preferred with room
            elif mine:
                assert got in mine and people[got] == min(people[w] for w in mine)
            else:
                assert got == meeting[0]


def test_preference_orders_like_choose() -> None:
    workers = [load("a", 2, capabilities=("webrtc",)), load("b", 1, capabilities=("webrtc",)), load("c", 0)]
    assert preference(workers, require=["webrtc"]) == ["b", "a"]
    assert preference(workers)[0] == choose(workers) == "c"
