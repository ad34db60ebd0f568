"""The socket path: malformed datagrams counted by reason, the slow-path queue and its bound."""

from __future__ import annotations

import asyncio
import socket
import struct

from engine_wire import rtp, stun_binding_request

from engine import Engine
from engine._rtp import WORK_LEARNED, WORK_SLOW, WORK_TIMED


def accounted(stats: dict) -> int:
    return stats["rtp_routed"] + stats["rtcp_handled"] + stats["slow_queued"] + stats["input_drops"]


async def wait_for_datagrams(engine: Engine, count: int, timeout: float = 2.0) -> dict:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while engine.stats()["datagrams_in"] < count and loop.time() < deadline:
        await asyncio.sleep(0.005)
    return engine.stats()


async def test_malformed_datagrams_are_counted_by_reason(engine: Engine, peers) -> None:
    router = engine.create_router()
    pub = peers()
    transport = router.create_plain_transport(remote=pub.address)
    transport.produce(kind="audio", ssrc=1, payload_type=111)
    bad = {
        "truncated_header": rtp(1, 1, 1)[:9],
        "truncated_csrc": bytes([0x83]) + rtp(1, 1, 1)[1:12] + b"\x00" * 4,
        "truncated_extension": bytes([0x90]) + rtp(1, 1, 1)[1:12] + b"\xbe\xde\x00\x05" + b"\x00" * 4,
        "bad_padding": bytes([0xA0]) + rtp(1, 1, 1, payload=b"abc\x00")[1:],
        "unknown_ssrc": rtp(1, 1, 999),
        "rtcp_bad_length": b"\x81\xc9\x00\x09" + b"\x00" * 8,
        "unknown_kind": b"\xff" * 20,
        "oversize": rtp(1, 1, 1, payload=b"x" * 2000),
    }
    for data in bad.values():
        pub.send(data)
    stats = await wait_for_datagrams(engine, len(bad))
    for reason in bad:
        assert stats["drops"][reason] == 1, reason
    assert stats["datagrams_in"] == len(bad) == accounted(stats)
    assert transport.stats()["drops"]["truncated_header"] == 1
    assert sum(transport.stats()["drops"].values()) == len(bad) - 2  # kind and size fail before the lookup


async def test_slow_path_gets_stun_dtls_and_unknown_sources(engine: Engine, peers) -> None:
    got: list[tuple[bytes, tuple[str, int]]] = []
    engine.on_slow_datagram = lambda data, addr: got.append((data, addr))
    stranger = peers()
    stranger.send(stun_binding_request())
    stranger.send(bytes([22, 0xFE, 0xFD]) + b"\x00" * 10)  # a DTLS record
    stranger.send(rtp(1, 1, 1))  # RTP from an address no transport owns
    stats = await wait_for_datagrams(engine, 3)
    await asyncio.sleep(0.01)
    assert [data for data, _ in got] == [stun_binding_request(), bytes([22, 0xFE, 0xFD]) + b"\x00" * 10, rtp(1, 1, 1)]
    assert {addr for _, addr in got} == {stranger.address}
    assert (stats["stun_in"], stats["dtls_in"], stats["unknown_source"], stats["slow_queued"]) == (1, 1, 1, 3)
    engine.sendto(b"answer", stranger.address)
    assert await stranger.receive(1) == [b"answer"]


async def test_slow_queue_overflow_is_dropped_and_counted(engine: Engine, peers) -> None:
    got = []
    engine.on_slow_datagram = lambda data, addr: got.append(data)
    stranger = peers()
    stranger.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)
    total = 600
    # sent without yielding to the loop: the engine drains them in one call, with room for 256
    for i in range(total):
        stranger.send(stun_binding_request()[:-2] + i.to_bytes(2, "big"))
    stats = await wait_for_datagrams(engine, total)
    await asyncio.sleep(0.01)
    assert stats["datagrams_in"] == total
    assert stats["slow_queued"] == 256 and stats["drops"]["slow_queue_full"] == total - 256
    assert len(got) == 256 and accounted(stats) == total
    assert engine.stats()["slow_pending"] == 0


async def test_failing_slow_handler_does_not_stop_forwarding(engine: Engine, peers) -> None:
    def boom(data, addr):
        raise RuntimeError("handler bug")

    engine.on_slow_datagram = boom
    router = engine.create_router()
    pub, sub = peers(), peers()
    producer = router.create_plain_transport(remote=pub.address).produce(kind="audio", ssrc=2, payload_type=111)
    router.create_plain_transport(remote=sub.address).consume(producer)
    peers().send(stun_binding_request())
    await asyncio.sleep(0.02)
    pub.send(rtp(1, 1, 2, pt=111))
    assert len(await sub.receive(1)) == 1


def with_mid(seq: int, ssrc: int, mid: bytes, pt: int = 96) -> bytes:
    """RTP with one one-byte header extension, id 1: the MID (RFC 8285, padded to 4 bytes)."""
    element = bytes([0x10 | (len(mid) - 1)]) + mid
    element += b"\x00" * (-len(element) % 4)
    return struct.pack("!BBHIIHH", 0x90, pt, seq, 0, ssrc, 0xBEDE, len(element) // 4) + element + b"\x01" * 60


async def test_a_drain_tells_the_loop_what_it_left_for_python(engine: Engine, peers) -> None:
    """Core.drain()'s WORK_* flags: 0 when every datagram was forwarded in C (the loop's reader then
    makes no other call), otherwise exactly the queues that hold something. No await sits between a
    send and the drain, so the loop's own reader cannot take the datagram first (loopback delivers
    it before sendto returns)."""
    core = engine._core
    router = engine.create_router()
    pub, sub, stranger = peers(), peers(), peers()
    transport = router.create_plain_transport(remote=pub.address)
    transport.set_header_extensions(mid=1)
    producer = transport.produce(kind="video", ssrc=7, payload_type=96, mid="0")
    subscriber = router.create_plain_transport(remote=sub.address)
    subscriber.consume(producer)

    pub.send(rtp(1, 0, 7))
    assert core.drain() == 0
    assert len(await sub.receive_rtp(1)) == 1

    stranger.send(stun_binding_request())
    assert core.drain() == WORK_SLOW
    assert core.pop_slow() is not None and core.drain() == 0

    pub.send(with_mid(1, 8, b"0"))
    assert core.drain() == WORK_LEARNED
    assert core.pop_learned()[:2] == (transport.id, 8) and core.drain() == 0

    core.set_transport_pacing(subscriber.id, 1_000_000)  # 20 kB is over its burst, under its queue bound
    for seq in range(2, 22):
        pub.send(rtp(seq, 0, 7, payload=b"\x01" * 1100))
    assert core.drain() == WORK_TIMED
    assert core.paced_pending > 0
