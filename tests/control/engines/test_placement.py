"""Placement: the least loaded live worker that has what the meeting needs."""

from __future__ import annotations

import pytest

from control.engines import NoWorkerAvailable
from control.engines.load import PACKETS_PER_NEW_TRANSPORT, PacketRate
from control.engines.placement import Load, choose


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
