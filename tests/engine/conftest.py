"""Fixtures for the engine tests: a started engine on loopback, checked for leaks at teardown."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from engine_wire import Peer

from engine import Engine


@pytest.fixture
async def engine() -> AsyncIterator[Engine]:
    eng = Engine(host="127.0.0.1", port=0)
    await eng.start()
    yield eng
    eng.close()
    assert eng.allocations() == {"blocks": 0, "transports": 0, "producers": 0, "consumers": 0, "srtp_contexts": 0}


@pytest.fixture
def peers(engine: Engine) -> Iterator[Callable[..., Peer]]:
    made: list[Peer] = []

    def make(host: str = "127.0.0.1") -> Peer:
        peer = Peer(engine.address, host)
        made.append(peer)
        return peer

    yield make
    for peer in made:
        peer.close()
