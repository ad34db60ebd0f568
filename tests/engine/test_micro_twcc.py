"""Microbenchmark of transport-cc numbering on the routing path: one receive batch of 1200-byte
video from one publisher, fanned out to 10 subscribers whose header extensions are rewritten, with
and without transport-cc (each copy then also gets its transport's number and a send-history entry,
engine/twcc.pxi). No receive syscall, copies discarded before sendmmsg: the CPU the numbering adds.
CI runs it once (--benchmark-disable); `pytest tests/engine/test_micro_twcc.py --benchmark-enable`
measures it (compare the two rows' means)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from engine import Engine, _testing
from engine.rtp import RtpPacket, serialize_rtp

SUBSCRIBERS = 10
BATCH = 64
ROUNDS = 10


def routing(transport_cc: int | None) -> Iterator[tuple[Engine, list[bytes], tuple[str, int]]]:
    engine = Engine(host="127.0.0.1", port=0)
    router = engine.create_router()
    pub_addr = ("127.0.0.1", 40000)  # injected as the source: nothing is sent there
    publisher = router.create_plain_transport(remote=pub_addr)
    publisher.set_header_extensions(mid=4, abs_send_time=2, transport_cc=3)
    producer = publisher.produce(kind="video", ssrc=1, payload_type=96)
    sinks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(SUBSCRIBERS)]
    for i, sink in enumerate(sinks):
        sink.bind(("127.0.0.1", 0))
        subscriber = router.create_plain_transport(remote=sink.getsockname())
        subscriber.set_header_extensions(mid=1, abs_send_time=2, transport_cc=transport_cc)
        subscriber.consume(producer, mid=str(i))
    elements = [(4, b"0"), (2, b"\x01\x02\x03"), (3, b"\x00\x07")]
    packets = [
        serialize_rtp(
            RtpPacket(96, False, i, i * 3000, 1, extension_profile=0xBEDE, extensions=elements, payload=bytes(1168))
        )
        for i in range(BATCH)
    ]
    yield engine, packets, pub_addr
    engine.close()
    for sink in sinks:
        sink.close()


@pytest.fixture
def without_transport_cc() -> Iterator[tuple[Engine, list[bytes], tuple[str, int]]]:
    yield from routing(None)


@pytest.fixture
def with_transport_cc() -> Iterator[tuple[Engine, list[bytes], tuple[str, int]]]:
    yield from routing(3)


def test_rewrite_without_transport_cc(benchmark, without_transport_cc) -> None:
    engine, packets, (host, port) = without_transport_cc
    assert benchmark(_testing.route_batch, engine._core, packets, host, port, ROUNDS, False) == BATCH * ROUNDS
    assert engine.stats()["twcc_seq_written"] == 0 and engine.stats()["ext_rewritten"] > 0


def test_rewrite_with_transport_cc(benchmark, with_transport_cc) -> None:
    engine, packets, (host, port) = with_transport_cc
    assert benchmark(_testing.route_batch, engine._core, packets, host, port, ROUNDS, False) == BATCH * ROUNDS
    assert engine.stats()["twcc_seq_written"] == engine.stats()["ext_rewritten"] > 0
