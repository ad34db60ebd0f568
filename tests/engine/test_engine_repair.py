"""Loss repair at the engine (engine/repair.pxi): a subscriber's NACK is answered from the video
producer's packet cache with RTX to that subscriber only; what the cache misses is asked of the
publisher once, whoever asks, and the publisher's RTX reaches only those who asked; each consumer's
NACKs are rate-limited."""

from __future__ import annotations

import asyncio
import struct

from engine_wire import is_rtcp, nack, rtp, split_rtcp

from engine import Engine
from engine.rtp.rtcp import RtcpNack

MEDIA_SSRC, RTX_SSRC = 0x1234, 0x5678
MEDIA_PT, RTX_PT = 96, 97
WINDOW_LIMIT = 50  # consts.NACK_WINDOW_LIMIT


def payload(seq: int) -> bytes:
    return bytes([seq & 0xFF]) * 200


def rtx(seq: int, osn: int) -> bytes:
    return rtp(seq, osn * 3000, RTX_SSRC, pt=RTX_PT, payload=struct.pack("!H", osn) + payload(osn))


async def nacks_at(peer) -> list[list[int]]:
    """The sequence numbers of each NACK the peer received (anything else ignored)."""
    out = []
    for data in await peer.receive():
        for packet_type, fmt, body in split_rtcp(data) if is_rtcp(data) else []:
            if (packet_type, fmt) == (205, 1):
                items = [struct.unpack("!HH", body[i : i + 4]) for i in range(12, len(body), 4)]
                out.append(RtcpNack(items=items).lost())
    return out


async def call(engine: Engine, peers, subscribers: int = 2):
    router = engine.create_router()
    pub = peers()
    producer = router.create_plain_transport(remote=pub.address).produce(
        kind="video", ssrc=MEDIA_SSRC, payload_type=MEDIA_PT, rtx_ssrc=RTX_SSRC, rtx_payload_type=RTX_PT
    )
    subs, consumers = [], []
    for _ in range(subscribers):
        sub = peers()
        consumers.append(router.create_plain_transport(remote=sub.address).consume(producer))
        subs.append(sub)
    await pub.receive()  # the keyframe requests of the new consumers
    return pub, subs, producer, consumers


async def send_media(pub, subs, seqs) -> None:
    for seq in seqs:
        pub.send(rtp(seq, seq * 3000, MEDIA_SSRC, pt=MEDIA_PT, payload=payload(seq)))
    for sub in subs:
        await sub.receive_rtp(len(seqs))


async def test_a_nack_is_answered_from_the_cache_to_that_subscriber_only(engine: Engine, peers) -> None:
    pub, (a, b), producer, (ca, cb) = await call(engine, peers)
    await send_media(pub, [a, b], range(100, 120))
    a.send(nack(sender=0xA, media=ca.ssrc, items=[(105, 0b101)]))  # 105, 106, 108
    out = await a.receive_rtp(3)
    assert [p.ssrc for p in out] == [ca.rtx_ssrc] * 3
    assert [p.pt for p in out] == [RTX_PT] * 3
    assert [struct.unpack("!H", p.payload[:2])[0] for p in out] == [105, 106, 108]
    assert [p.payload[2:] for p in out] == [payload(s) for s in (105, 106, 108)]
    assert [p.ts for p in out] == [s * 3000 for s in (105, 106, 108)]
    assert await b.receive() == []
    assert await nacks_at(pub) == []  # the publisher is not asked
    stats = engine.stats()
    assert stats["nack_cache_hits"] == 3 and stats["nack_cache_misses"] == 0 and stats["repairs_sent"] == 3
    assert ca.stats()["cache_hits"] == 3 and ca.stats()["repairs_sent"] == 3 and cb.stats()["repairs_sent"] == 0
    assert producer.stats()["nacks"] == 0


async def test_misses_are_asked_once_and_the_publisher_rtx_reaches_only_those_who_asked(engine: Engine, peers) -> None:
    pub, (a, b, c), producer, (ca, cb, cc) = await call(engine, peers, subscribers=3)
    await send_media(pub, [a, b, c], [200, 201, 203, 204])  # 202 lost on the publisher's link
    a.send(nack(sender=0xA, media=ca.ssrc, items=[(202, 0b1)]))  # 202 missed, 203 cached
    b.send(nack(sender=0xB, media=cb.ssrc, items=[(202, 0)]))
    (repaired,) = await a.receive_rtp(1)
    assert struct.unpack("!H", repaired.payload[:2])[0] == 203
    assert await nacks_at(pub) == [[202]]  # asked once for both subscribers
    assert producer.stats()["nacks"] == 1
    pub.send(rtx(7, 202))
    for sub, consumer in ((a, ca), (b, cb)):
        (out,) = await sub.receive_rtp(1)
        assert (out.ssrc, struct.unpack("!H", out.payload[:2])[0]) == (consumer.rtx_ssrc, 202)
        assert out.payload[2:] == payload(202)
    assert await c.receive() == []
    stats = engine.stats()
    assert stats["nack_cache_misses"] == 2 and stats["nack_cache_hits"] == 1 and stats["rtx_unrequested"] == 0
    # the publisher's retransmission is cached: the next one who asks is answered by the engine
    c.send(nack(sender=0xC, media=cc.ssrc, items=[(202, 0)]))
    (out,) = await c.receive_rtp(1)
    assert struct.unpack("!H", out.payload[:2])[0] == 202 and out.payload[2:] == payload(202)
    assert await nacks_at(pub) == []
    # RTX nobody asked for is cached, not forwarded
    pub.send(rtx(8, 204))
    await asyncio.sleep(0.05)
    assert engine.stats()["rtx_unrequested"] == 1
    assert [await s.receive() for s in (a, b, c)] == [[], [], []]


async def test_without_rtx_the_media_packet_is_sent_again(engine: Engine, peers) -> None:
    router = engine.create_router()
    pub, sub = peers(), peers()
    producer = router.create_plain_transport(remote=pub.address).produce(
        kind="video", ssrc=MEDIA_SSRC, payload_type=MEDIA_PT
    )
    consumer = router.create_plain_transport(remote=sub.address).consume(producer, ssrc=4242)
    assert consumer.rtx_ssrc is None
    await pub.receive()
    producer.pause()
    producer.resume()  # the consumer's next packet starts a new mapping: 300 -> its 300 + offset
    await pub.receive()
    await send_media(pub, [sub], range(300, 305))
    sub.send(nack(sender=0xA, media=4242, items=[(302, 0)]))
    (out,) = await sub.receive_rtp(1)
    assert (out.ssrc, out.seq, out.ts, out.payload) == (4242, 302, 302 * 3000, payload(302))


async def test_nacks_are_rate_limited_per_consumer(engine: Engine, peers) -> None:
    pub, (a, b), producer, (ca, cb) = await call(engine, peers)
    await send_media(pub, [a, b], range(1000, 1100))
    a.send(nack(sender=0xA, media=ca.ssrc, items=[(1000 + 17 * i, 0xFFFF) for i in range(5)]))  # 85 packets
    out = await a.receive_rtp(WINDOW_LIMIT, timeout=2.0)
    assert len(out) == WINDOW_LIMIT
    assert await a.receive() == []
    assert ca.stats()["nacks_rate_limited"] == 85 - WINDOW_LIMIT
    assert engine.stats()["nack_rate_limited"] == 85 - WINDOW_LIMIT
    # another consumer has a budget of its own
    b.send(nack(sender=0xB, media=cb.ssrc, items=[(1050, 0)]))
    assert len(await b.receive_rtp(1)) == 1


async def test_a_nack_for_an_unknown_consumer_or_before_any_media(engine: Engine, peers) -> None:
    pub, (a, b), producer, (ca, cb) = await call(engine, peers)
    a.send(nack(sender=0xA, media=ca.ssrc, items=[(1, 0)]))  # nothing sent yet
    a.send(nack(sender=0xA, media=0xDEAD, items=[(1, 0)]))
    await asyncio.sleep(0.05)
    assert await a.receive() == [] and await nacks_at(pub) == []
    assert engine.stats()["rtcp_other_terminated"] == 2


async def test_audio_has_no_cache_and_relays_misses(engine: Engine, peers) -> None:
    router = engine.create_router()
    pub, sub = peers(), peers()
    producer = router.create_plain_transport(remote=pub.address).produce(
        kind="audio", ssrc=MEDIA_SSRC, payload_type=111
    )
    consumer = router.create_plain_transport(remote=sub.address).consume(producer)
    await send_media(pub, [sub], range(10, 14))
    sub.send(nack(sender=0xA, media=consumer.ssrc, items=[(11, 0)]))
    assert await nacks_at(pub) == [[11]]
    assert engine.stats()["nack_cache_misses"] == 1
