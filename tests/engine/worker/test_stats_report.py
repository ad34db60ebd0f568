"""The worker's stats report (contract.stats) made from a real engine's counters: every datagram the
engine read is in exactly one of its traffic kinds or drop reasons."""

from __future__ import annotations

import asyncio

from engine_wire import rtp, stun_binding_request

from contract.stats import QUEUES, SLOW_DROPS, parse_stats
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
    assert stats.queues["datagrams"].queued == 2 and stats.queues["datagrams"].depth == 0
    assert stats.queues["datagrams"].overflow == drops["slow_queue_full"] == 0
    assert stats.table == {"routers": 1}
