"""Loopback integration: real UDP through one engine on 127.0.0.1 (and ::1)."""

from __future__ import annotations

import asyncio
import struct
from itertools import pairwise

import pytest
from engine_wire import parse_rtp, rtp, rtp_with_extension

from engine import Engine, EngineError


def assert_contiguous(seqs: list[int]) -> None:
    for a, b in pairwise(seqs):
        assert (b - a) & 0xFFFF == 1, seqs


def assert_monotonic(timestamps: list[int]) -> None:
    for a, b in pairwise(timestamps):
        assert 0 < (b - a) & 0xFFFFFFFF < 0x80000000, timestamps


async def test_fanout_to_subscribers_rewrites_ssrc_and_keeps_payload(engine: Engine, peers) -> None:
    router = engine.create_router()
    publishers = [peers(), peers()]
    subscribers = [peers() for _ in range(4)]
    pub_transports = [router.create_plain_transport(remote=p.address) for p in publishers]
    sub_transports = [router.create_plain_transport(remote=s.address) for s in subscribers]
    audio = pub_transports[0].produce(kind="audio", ssrc=1111, payload_type=111)
    video = pub_transports[1].produce(kind="video", ssrc=2222, payload_type=96)
    consumers = {}
    for i, t in enumerate(sub_transports):
        consumers[i] = (t.consume(audio), t.consume(video, payload_type=100 + i))
    await asyncio.sleep(0.05)
    for p in publishers:
        await p.receive()  # the keyframe requests the video consumers triggered

    sent_audio = [rtp(1000 + i, 960 * i, 1111, pt=111, payload=bytes([i]) * 60) for i in range(30)]
    sent_video = [rtp_with_extension(5000 + i, 3000 * i, 2222, pt=96, payload=bytes([i]) * 200) for i in range(30)]
    for a, v in zip(sent_audio, sent_video):
        publishers[0].send(a)
        publishers[1].send(v)

    for i, s in enumerate(subscribers):
        got = await s.receive_rtp(60)
        assert len(got) == 60
        audio_consumer, video_consumer = consumers[i]
        a = [p for p in got if p.ssrc == audio_consumer.ssrc]
        v = [p for p in got if p.ssrc == video_consumer.ssrc]
        assert [p.payload for p in a] == [parse_rtp(x).payload for x in sent_audio]
        assert [p.payload for p in v] == [parse_rtp(x).payload for x in sent_video]
        assert {p.pt for p in a} == {111} and {p.pt for p in v} == {100 + i}
        assert audio_consumer.ssrc not in (1111, 2222) and video_consumer.ssrc != audio_consumer.ssrc
        assert_contiguous([p.seq for p in a])
        assert_contiguous([p.seq for p in v])
        assert video_consumer.stats()["packets_out"] == 30

    stats = engine.stats()
    assert stats["rtp_routed"] == 60
    assert stats["packets_out"] >= 240
    assert audio.stats()["packets_in"] == 30 and audio.stats()["packets_out"] == 120
    assert pub_transports[1].stats()["bytes_in"] == sum(len(v) for v in sent_video)


async def test_header_extension_passes_through(engine: Engine, peers) -> None:
    router = engine.create_router()
    pub, sub = peers(), peers()
    producer = router.create_plain_transport(remote=pub.address).produce(kind="audio", ssrc=7, payload_type=111)
    consumer = router.create_plain_transport(remote=sub.address).consume(producer, ssrc=77)
    packet = rtp_with_extension(1, 2, 7, pt=111)
    pub.send(packet)
    (out,) = await sub.receive(1)
    assert out[12:] == packet[12:] and struct.unpack("!I", out[8:12])[0] == consumer.ssrc == 77


async def test_producer_pause_resume_keeps_sequence_contiguous(engine: Engine, peers) -> None:
    router = engine.create_router()
    pub, sub = peers(), peers()
    producer = router.create_plain_transport(remote=pub.address).produce(kind="video", ssrc=42, payload_type=96)
    consumer = router.create_plain_transport(remote=sub.address).consume(producer)
    await asyncio.sleep(0.02)
    await pub.receive()

    for i in range(10):
        pub.send(rtp(100 + i, 3000 * i, 42))
    first = await sub.receive_rtp(10)
    producer.pause()
    for i in range(10, 20):
        pub.send(rtp(100 + i, 3000 * i, 42))
    assert await sub.receive() == []
    assert producer.stats()["drops"]["producer_gated"] == 10
    assert engine.stats()["drops"]["producer_gated"] == 10
    await asyncio.sleep(0.05)
    producer.resume()
    # opening a video gate asks the publisher for a keyframe, with the producer's SSRC
    (request,) = await pub.receive(1)
    assert (request[0] & 0x1F, request[1]) == (1, 206) and struct.unpack("!I", request[8:12])[0] == 42
    for i in range(30, 40):  # the publisher's own sequence jumped while gated
        pub.send(rtp(100 + i, 3000 * i, 42))
    second = await sub.receive_rtp(10)
    got = first + second
    assert len(got) == 20 and {p.ssrc for p in got} == {consumer.ssrc}
    assert_contiguous([p.seq for p in got])
    assert_monotonic([p.ts for p in got])
    # the timestamp resumes with the wall time elapsed, not the publisher's jump
    assert 1 <= (second[0].ts - first[-1].ts) & 0xFFFFFFFF < 90000 * 5


async def test_consumer_gate_stops_only_that_copy(engine: Engine, peers) -> None:
    router = engine.create_router()
    pub, sub1, sub2 = peers(), peers(), peers()
    producer = router.create_plain_transport(remote=pub.address).produce(kind="audio", ssrc=5, payload_type=111)
    c1 = router.create_plain_transport(remote=sub1.address).consume(producer)
    c2 = router.create_plain_transport(remote=sub2.address).consume(producer)
    c1.pause()
    for i in range(5):
        pub.send(rtp(i, 960 * i, 5, pt=111))
    assert len(await sub2.receive_rtp(5)) == 5
    assert await sub1.receive() == []
    assert c1.stats()["gated"] == 5 and c1.stats()["packets_out"] == 0
    c1.resume()
    for i in range(5, 10):
        pub.send(rtp(i, 960 * i, 5, pt=111))
    got1 = await sub1.receive_rtp(5)
    got2 = await sub2.receive_rtp(5)
    assert len(got1) == 5 and [p.seq for p in got2] == list(range(5, 10))
    assert_contiguous([p.seq for p in got1])
    assert c2.paused is False and c1.paused is False


async def test_gated_producer_reaches_nobody(engine: Engine, peers) -> None:
    router = engine.create_router()
    pub = peers()
    subs = [peers() for _ in range(3)]
    producer = router.create_plain_transport(remote=pub.address).produce(
        kind="audio", ssrc=9, payload_type=111, paused=True
    )
    consumers = [router.create_plain_transport(remote=s.address).consume(producer) for s in subs]
    for i in range(20):
        pub.send(rtp(i, i * 960, 9, pt=111))
    await asyncio.sleep(0.1)
    for s in subs:
        assert await s.receive() == []
    assert producer.stats()["drops"]["producer_gated"] == 20
    assert all(c.stats()["packets_out"] == 0 for c in consumers)
    assert engine.stats()["rtp_routed"] == 0


async def test_switch_to_another_producer_keeps_one_stream(engine: Engine, peers) -> None:
    router = engine.create_router()
    pub_a, pub_b, sub = peers(), peers(), peers()
    a = router.create_plain_transport(remote=pub_a.address).produce(kind="video", ssrc=0xA, payload_type=96)
    b = router.create_plain_transport(remote=pub_b.address).produce(kind="video", ssrc=0xB, payload_type=98)
    consumer = router.create_plain_transport(remote=sub.address).consume(a, payload_type=96)
    await asyncio.sleep(0.02)
    await pub_a.receive()
    for i in range(10):
        pub_a.send(rtp(60000 + i, 4_000_000_000 + 3000 * i, 0xA))
    first = await sub.receive_rtp(10)
    await asyncio.sleep(0.03)
    consumer.switch(b)
    (request,) = await pub_b.receive(1)  # a keyframe from the new source
    assert struct.unpack("!I", request[8:12])[0] == 0xB
    for i in range(10):
        pub_a.send(rtp(60010 + i, 4_000_030_000 + 3000 * i, 0xA))  # no longer consumed
        pub_b.send(rtp(7 + i, 123 + 3000 * i, 0xB, pt=98))
    second = await sub.receive_rtp(10)
    got = first + second
    assert len(got) == 20 and {p.ssrc for p in got} == {consumer.ssrc} and {p.pt for p in got} == {96}
    assert_contiguous([p.seq for p in got])
    assert_monotonic([p.ts for p in got])
    assert consumer.producer is b and consumer.id in b.consumers and consumer.id not in a.consumers
    with pytest.raises(EngineError):
        consumer.switch(
            router.create_plain_transport(remote=("127.0.0.1", 9)).produce(kind="audio", ssrc=1, payload_type=111)
        )


async def test_table_errors(engine: Engine, peers) -> None:
    router = engine.create_router()
    address = peers().address
    transport = router.create_plain_transport(remote=address)
    with pytest.raises(EngineError, match="belongs to another transport"):
        router.create_plain_transport(remote=address)
    transport.produce(kind="audio", ssrc=5, payload_type=111)
    with pytest.raises(EngineError, match="already produced"):
        transport.produce(kind="audio", ssrc=5, payload_type=111)
    with pytest.raises(ValueError):
        transport.produce(kind="smell", ssrc=6, payload_type=111)
    other = engine.create_router()
    with pytest.raises(EngineError, match="router"):
        other.create_plain_transport(remote=("127.0.0.1", 9)).consume(next(iter(transport.producers.values())))
