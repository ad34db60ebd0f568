"""The worker's stats report (contract.stats) made from a real engine's counters: every datagram the
engine read is in exactly one of its traffic kinds or drop reasons."""

from __future__ import annotations

import asyncio
import socket

from engine_wire import rtp, stun_binding_request

from contract.stats import CONGESTION, QUEUES, REPAIR, SLOW_DROPS, TRANSPORT_ESTIMATE, Queue, parse_stats
from engine import Engine
from engine.worker.client import report


async def settled(engine: Engine, count: int) -> dict:
    for _ in range(400):
        if engine.stats()["datagrams_in"] >= count:
            break
        await asyncio.sleep(0.005)
    await asyncio.sleep(0.02)  # the slow path runs in the same callback; let it finish
    return engine.stats()


async def test_report_accounts_for_every_datagram(engine: Engine, peers) -> None:
    router = engine.create_router()
    known, stranger = peers(), peers()
    transport = router.create_plain_transport(remote=known.address)
    transport.produce(kind="audio", ssrc=1, payload_type=111)
    sent = [
        (known, rtp(1, 1, 1)),  # forwarded (to nobody)
        (known, rtp(2, 2, 999)),  # unknown_ssrc
        (known, b"\x80\x00"),  # truncated_header
        (stranger, b"\xff" * 20),  # unknown_kind
        (stranger, b""),  # unknown_kind: empty
        (stranger, rtp(1, 1, 1, payload=b"x" * 2000)),  # oversize
        (stranger, rtp(1, 1, 1)),  # RTP from an unknown address: slow path, nobody takes it
        (stranger, stun_binding_request()),  # STUN: slow path, nobody takes it
    ]
    for peer, data in sent:
        peer.send(data)
    stats = report(await settled(engine, len(sent)), {"routers": 1})

    wire = parse_stats(stats.to_wire())
    assert wire == stats and set(wire.queues) == set(QUEUES) and set(wire.slow_drops) == set(SLOW_DROPS)
    assert set(wire.repair) == set(REPAIR) and not any(wire.repair.values())
    assert set(wire.congestion) == set(CONGESTION) and wire.transports == {}
    traffic, drops = stats.traffic, stats.drops
    assert "none" not in drops
    assert traffic["datagrams_in"] == len(sent)
    kinds = ("rtp_in", "rtcp_in", "stun_in", "dtls_in", "unknown_source_in")
    early = ("oversize", "unknown_kind", "srtp_auth")
    assert traffic["datagrams_in"] == sum(traffic[k] for k in kinds) + sum(drops[r] for r in early)
    assert traffic["rtp_in"] == 2 + 1 and traffic["stun_in"] == 1 and traffic["unknown_source_in"] == 1
    assert {reason: n for reason, n in drops.items() if n} == {
        "unknown_ssrc": 1,
        "truncated_header": 1,
        "unknown_kind": 2,
        "oversize": 1,
    }
    assert stats.slow_drops["unhandled"] == 2  # no WebRTC transport and no handler: counted, then dropped
    assert stats.queues["unknown_source"] == stats.queues["stun"] == Queue(depth=0, queued=1, overflow=0)
    assert stats.queues["dtls"] == Queue() and drops["slow_queue_full"] == 0
    assert stats.table == {"routers": 1}


async def test_overflow_is_counted_by_kind(engine: Engine, peers) -> None:
    stranger = peers()
    stranger.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)
    # sent without yielding to the loop: the engine drains them in one call, with room for 256 in its ring
    for i in range(200):
        stranger.send(bytes([22, 0xFE, 0xFD]) + i.to_bytes(2, "big"))  # DTLS
    for i in range(150):
        stranger.send(stun_binding_request()[:-2] + i.to_bytes(2, "big"))
    for i in range(50):
        stranger.send(rtp(i, i, 7))  # from an address no transport owns
    stats = report(await settled(engine, 400), {})
    assert stats.queues["dtls"] == Queue(depth=0, queued=200, overflow=0)
    assert stats.queues["stun"] == Queue(depth=0, queued=56, overflow=94)
    assert stats.queues["unknown_source"] == Queue(depth=0, queued=0, overflow=50)
    assert stats.drops["slow_queue_full"] == 94 + 50
    assert stats.slow_drops["unhandled"] == 256


async def test_report_carries_each_transports_estimate(engine: Engine, peers) -> None:
    router = engine.create_router()
    transport = router.create_plain_transport(remote=peers().address)
    transport.set_header_extensions(mid=1, transport_cc=3)
    wire = parse_stats(report(engine.stats(), {"transports": 1}, {"t1": transport.stats()}).to_wire())
    assert set(wire.transports["t1"]) == set(TRANSPORT_ESTIMATE)
    assert wire.transports["t1"]["estimate_bps"] == transport.stats()["estimate_bps"] > 0
