"""Microbenchmark of the routing path: one receive batch of RTP from one publisher, fanned out
to subscribers, rewritten and queued (handle_datagram per packet, no receive syscall).
CI runs it once (--benchmark-disable); `pytest tests/engine/test_micro_routing.py --benchmark-enable`
measures it."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from engine_wire import rtp

from engine import Engine, _testing

SUBSCRIBERS = 8
BATCH = 64


@pytest.fixture
def routing() -> Iterator[tuple[Engine, list[bytes], tuple[str, int]]]:
    engine = Engine(host="127.0.0.1", port=0)
    router = engine.create_router()
    pub_addr = ("127.0.0.1", 40000)  # injected as the source: nothing is sent there
    producer = router.create_plain_transport(remote=pub_addr).produce(kind="video", ssrc=1, payload_type=96)
    # bound sinks that never read: sends cost what they cost to a live peer (no ICMP errors)
    sinks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(SUBSCRIBERS)]
    for sink in sinks:
        sink.bind(("127.0.0.1", 0))
        router.create_plain_transport(remote=sink.getsockname()).consume(producer)
    packets = [rtp(i, i * 3000, 1, payload=bytes(1100)) for i in range(BATCH)]
    yield engine, packets, pub_addr
    engine.close()
    for sink in sinks:
        sink.close()


def test_routing_without_send(benchmark, routing) -> None:
    engine, packets, (host, port) = routing
    routed = benchmark(_testing.route_batch, engine._core, packets, host, port, 10, False)
    assert routed == BATCH * 10
    stats = engine.stats()
    assert stats["rtp_routed"] >= BATCH * 10 and stats["input_drops"] == 0


def test_routing_with_sendmmsg(benchmark, routing) -> None:
    engine, packets, (host, port) = routing
    benchmark(_testing.route_batch, engine._core, packets, host, port, 1, True)
    assert engine.stats()["packets_out"] >= BATCH * SUBSCRIBERS


def test_routing_without_send_refuses_a_fan_out_beyond_the_send_queue() -> None:
    engine = Engine(host="127.0.0.1", port=0)
    router = engine.create_router()
    pub_addr = ("127.0.0.1", 40000)
    producer = router.create_plain_transport(remote=pub_addr).produce(kind="audio", ssrc=1, payload_type=111)
    try:
        # more subscribers than SEND_SLOTS (1024); nothing listens there, and nothing is sent
        for port in range(41000, 41000 + 1030):
            router.create_plain_transport(remote=("127.0.0.1", port)).consume(producer)
        with pytest.raises(RuntimeError, match="fanned out"):
            _testing.route_batch(engine._core, [rtp(1, 1, 1, pt=111)], *pub_addr, 1, False)
    finally:
        engine.close()
