"""Placement: the least loaded live worker that has what the meeting needs."""

from __future__ import annotations

import pytest

from control.engines import NoWorkerAvailable
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
