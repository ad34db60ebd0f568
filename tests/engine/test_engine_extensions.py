"""Loopback: each consumer's packets carry its subscriber's extension ids and its own MID, whatever
ids the publisher used; audio levels reach the producer's ring; the router's dominant speaker
follows the louder publisher, and a paused producer is never it; a router whose media crosses a pipe
reports its own producers' levels (AudioLevels) for the meeting-wide decision."""

from __future__ import annotations

import asyncio

import pytest
from engine_wire import nack

from engine import Engine, EngineError
from engine.events import AudioLevels, DominantSpeakerChanged
from engine.rtp import RtpPacket, parse_rtp, serialize_rtp

CHROMIUM_AUDIO = {"audio_level": 1, "abs_send_time": 2, "transport_cc": 3, "mid": 4}


def audio(seq: int, level: int, ssrc: int = 1111, mid: bytes = b"0", pt: int = 111) -> bytes:
    """An audio packet as Chromium numbers its extensions, plus one id nobody negotiated (9)."""
    elements = [(1, bytes([level])), (2, b"\x01\x02\x03"), (3, seq.to_bytes(2, "big")), (4, mid), (9, b"?")]
    packet = RtpPacket(pt, False, seq, 960 * seq, ssrc, extension_profile=0xBEDE, extensions=elements)
    packet.payload = bytes([seq & 0xFF]) * 50
    return serialize_rtp(packet)


async def test_each_consumer_gets_its_subscribers_ids_and_mid(engine: Engine, peers) -> None:
    router = engine.create_router()
    publisher, aiortc, offered, plain = peers(), peers(), peers(), peers()
    pub = router.create_plain_transport(remote=publisher.address)
    pub.set_header_extensions(**CHROMIUM_AUDIO)
    producer = pub.produce(kind="audio", ssrc=1111, payload_type=111)
    to_aiortc = router.create_plain_transport(remote=aiortc.address)
    to_aiortc.set_header_extensions(mid=1, audio_level=2)
    to_offered = router.create_plain_transport(remote=offered.address)
    to_offered.set_header_extensions(mid=1, abs_send_time=2, transport_cc=3, audio_level=4)
    untold = router.create_plain_transport(remote=plain.address)  # never told: forwarded as sent
    c1 = to_aiortc.consume(producer, mid="0")
    c2 = to_offered.consume(producer, mid="5")
    untold.consume(producer, mid="9")
    sent = [audio(100 + i, 20 + i) for i in range(10)]
    for data in sent:
        publisher.send(data)
    got = [parse_rtp(d) for d in await aiortc.receive(10)]
    assert [p.extensions for p in got] == [[(1, b"0"), (2, bytes([20 + i]))] for i in range(10)]
    assert [p.payload for p in got] == [parse_rtp(d).payload for d in sent] and {p.ssrc for p in got} == {c1.ssrc}
    got = [parse_rtp(d) for d in await offered.receive(10)]
    assert got[3].extensions[:3] == [(1, b"5"), (4, bytes([23])), (2, b"\x01\x02\x03")]
    # transport-cc: the subscriber transport's own numbers, consecutive, never the publisher's
    numbers = [int.from_bytes(p.extensions[3][1], "big") for p in got if p.extensions[3][0] == 3]
    assert numbers == [(numbers[0] + i) & 0xFFFF for i in range(10)]
    assert {p.ssrc for p in got} == {c2.ssrc}
    raw = await plain.receive(10)
    assert [parse_rtp(d).extensions for d in raw] == [parse_rtp(d).extensions for d in sent]
    stats = engine.stats()
    assert stats["ext_rewritten"] == 20 and stats["ext_unmapped"] == 10  # id 9, once per packet
    assert stats["audio_levels"] == 10 and producer.stats()["audio_levels"] == 10
    assert producer.take_levels() == bytes(range(20, 30)) and producer.take_levels() == b""
    assert c2.stats()["mid"] == "5"


async def test_retransmissions_are_rewritten_too(engine: Engine, peers) -> None:
    """A NACKed packet answered from the cache, and one the cache missed that the publisher sends
    again on its RTX stream, both reach the asker with its own ids and MID."""
    router = engine.create_router()
    publisher, subscriber = peers(), peers()
    pub = router.create_plain_transport(remote=publisher.address)
    pub.set_header_extensions(mid=4, abs_send_time=2)
    producer = pub.produce(kind="video", ssrc=2222, payload_type=96, rtx_ssrc=3333, rtx_payload_type=97)
    sub = router.create_plain_transport(remote=subscriber.address)
    sub.set_header_extensions(mid=1, abs_send_time=3)
    consumer = sub.consume(producer, mid="1")
    await asyncio.sleep(0.05)
    await publisher.receive()  # the keyframe request
    media = RtpPacket(96, False, 500, 9000, 2222, extension_profile=0xBEDE, extensions=[(4, b"0"), (2, b"abc")])
    media.payload = b"\x10" * 30
    publisher.send(serialize_rtp(media))
    media.sequence = 502  # 501 is lost on the way in
    publisher.send(serialize_rtp(media))
    first, _ = (parse_rtp(d) for d in await subscriber.receive(2))
    assert first.extensions == [(1, b"1"), (3, b"abc")] and first.ssrc == consumer.ssrc
    # from the cache: the original packet's extensions, written with the subscriber's ids
    subscriber.send(nack(sender=0xA, media=consumer.ssrc, items=[(first.sequence, 0b1)]))  # 500 and 501
    (cached,) = (parse_rtp(d) for d in await subscriber.receive(1))
    assert cached.ssrc == consumer.rtx_ssrc and cached.extensions == [(1, b"1"), (3, b"abc")]
    assert cached.payload == first.sequence.to_bytes(2, "big") + b"\x10" * 30  # OSN in the consumer's space
    # the miss (501) was asked of the publisher; its RTX reaches the asker, rewritten
    rtx = RtpPacket(97, False, 7, 9000, 3333, extension_profile=0xBEDE, extensions=[(2, b"xyz"), (4, b"0")])
    rtx.payload = (501).to_bytes(2, "big") + b"\x10" * 30
    publisher.send(serialize_rtp(rtx))
    (repaired,) = (parse_rtp(d) for d in await subscriber.receive(1))
    assert repaired.ssrc == consumer.rtx_ssrc and repaired.extensions == [(1, b"1"), (3, b"xyz")]
    assert repaired.payload[:2] == ((first.sequence + 1) & 0xFFFF).to_bytes(2, "big")


async def test_an_id_given_twice_and_a_long_mid_are_refused(engine: Engine) -> None:
    router = engine.create_router()
    transport = router.create_plain_transport(remote=("127.0.0.1", 9))
    with pytest.raises(EngineError, match="extension id 1 is given twice"):
        transport.set_header_extensions(mid=1, audio_level=1)
    producer = transport.produce(kind="audio", ssrc=5, payload_type=111)
    other = router.create_plain_transport(remote=("127.0.0.1", 10))
    with pytest.raises(EngineError, match="mid is 1 to 16 bytes"):
        other.consume(producer, mid="x" * 17)
    assert not other.consumers


async def test_the_dominant_speaker_follows_the_louder_and_never_a_paused_producer(engine: Engine, peers) -> None:
    engine._speaker_timer.cancel()  # the test decides when the router decides
    events: list[object] = []
    engine.on_event = events.append
    router = engine.create_router()
    a, b = peers(), peers()
    producers = []
    for peer, ssrc in ((a, 1), (b, 2)):
        t = router.create_plain_transport(remote=peer.address)
        t.set_header_extensions(**CHROMIUM_AUDIO)
        producers.append(t.produce(kind="audio", ssrc=ssrc, payload_type=111))
    loud, quiet = producers

    async def speak(levels: dict[int, int], ticks: int = 5) -> object:
        seq = speak.seq  # type: ignore[attr-defined]
        for _ in range(ticks):
            for i in range(10):  # 200 ms of 20 ms packets
                for peer, ssrc in ((a, 1), (b, 2)):
                    peer.send(audio(seq + i, levels[ssrc], ssrc=ssrc))
            seq += 10
            await asyncio.sleep(0.02)
            router._decide_speaker(0.0, 0.2)
        speak.seq = seq  # type: ignore[attr-defined]
        return router.speaker.dominant

    speak.seq = 0  # type: ignore[attr-defined]
    assert await speak({1: 10, 2: 70}) == loud.id
    assert events[-1] == DominantSpeakerChanged(router.id, loud.id)
    assert await speak({1: 127, 2: 15}) == quiet.id
    quiet.pause()  # muted: its levels stop, and it is no candidate
    assert await speak({1: 60, 2: 5}) == loud.id
    loud.pause()
    assert await speak({1: 5, 2: 5}) is None
    assert events[-1] == DominantSpeakerChanged(router.id, None)
    assert [e.producer_id for e in events if isinstance(e, DominantSpeakerChanged)] == [
        loud.id,
        quiet.id,
        loud.id,
        None,
    ]


async def test_a_router_whose_media_crosses_a_pipe_reports_its_own_producers_levels(engine: Engine, peers) -> None:
    engine._speaker_timer.cancel()  # the test decides when the router decides
    events: list[object] = []
    engine.on_event = events.append
    router, pipes = engine.create_router(), engine.create_router()
    a, b, other_worker = peers(), peers(), peers()
    producers = []
    for peer, ssrc in ((a, 1), (b, 2)):
        t = router.create_plain_transport(remote=peer.address)
        t.set_header_extensions(**CHROMIUM_AUDIO)
        producers.append(t.produce(kind="audio", ssrc=ssrc, payload_type=111))
    loud, quiet = producers
    pipe = pipes.create_plain_transport(remote=other_worker.address, pipe=True)
    piped_in = pipe.produce(kind="audio", ssrc=77, payload_type=111)  # another worker's producer

    seq = iter(range(1000))

    async def decide(levels: dict[int, int]) -> list[AudioLevels]:
        """One packet of each publisher at these levels, then a tick: the levels reported."""
        del events[:]
        n = next(seq)
        for peer, ssrc in ((a, 1), (b, 2)):
            peer.send(audio(n, levels[ssrc], ssrc=ssrc))
        await asyncio.sleep(0.05)
        for r in (router, pipes):
            r._decide_speaker(0.0, 0.2)
        return [e for e in events if isinstance(e, AudioLevels)]

    # on one worker: no report
    assert await decide({1: 10, 2: 70}) == []
    # a pipe consumes its producer (the meeting spans): its own open producers' levels, every tick
    to_other = pipe.consume(loud)
    assert await decide({1: 10, 2: 70}) == [AudioLevels(router.id, 0.2, ((loud.id, "0a"), (quiet.id, "46")))]
    quiet.pause()  # a closed gate: not reported
    assert await decide({1: 12, 2: 70}) == [AudioLevels(router.id, 0.2, ((loud.id, "0c"),))]
    quiet.resume()
    # spanning the other way only (a consumer of a piped producer): still reported
    to_other.close()
    router.transports[next(iter(router.transports))].consume(piped_in)
    assert [e.router_id for e in await decide({1: 10, 2: 70})] == [router.id]
    # back on one worker: an empty report ends the reports, and the router's own decision is told again
    for consumer in list(piped_in.consumers.values()):
        consumer.close()
    assert await decide({1: 10, 2: 70}) == [AudioLevels(router.id, 0.2, ())]
    assert DominantSpeakerChanged(router.id, router.speaker.dominant) in events
    assert await decide({1: 10, 2: 70}) == []
