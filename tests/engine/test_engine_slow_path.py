"""The socket path: malformed datagrams counted by reason, the slow-path queue and its bound."""

from __future__ import annotations

import asyncio
import socket

from engine_wire import rtp, stun_binding_request

from engine import Engine


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
