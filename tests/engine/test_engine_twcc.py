"""Loopback: a subscriber transport that negotiated transport-cc gets its own transport-wide
numbers on every packet (media and repairs, across its consumers), its feedback moves its
transport's estimate (transport.stats()["estimate_bps"]), malformed feedback is dropped and counted,
and without transport-cc its REMB and its receiver reports' loss stand in."""

from __future__ import annotations

import asyncio
import struct

from engine_wire import RTCP_RR, RTCP_RTPFB, Peer, nack, remb, rtp

from engine import Engine
from engine.rtp import parse_rtp
from engine.rtp.twcc import serialize_twcc

TWCC_ID = 3


def feedback(sender: int, fci: bytes) -> bytes:
    return struct.pack("!BBHII", 0x80 | 15, RTCP_RTPFB, 2 + len(fci) // 4, sender, 0) + fci


def rr_lost(sender: int, source: int, fraction: int) -> bytes:
    block = struct.pack("!IB3xIIII", source, fraction, 0, 0, 0, 0)
    return struct.pack("!BBHI", 0x81, RTCP_RR, 7, sender) + block


def twcc_number(data: bytes) -> int:
    (value,) = [v for i, v in parse_rtp(data).extensions if i == TWCC_ID]
    return int.from_bytes(value, "big")


async def setup(engine: Engine, peers, transport_cc: int | None = TWCC_ID):
    router = engine.create_router()
    publisher, subscriber = peers(), peers()
    pub = router.create_plain_transport(remote=publisher.address)
    pub.set_header_extensions(mid=4, transport_cc=5)
    video = pub.produce(kind="video", ssrc=2222, payload_type=96)
    audio = pub.produce(kind="audio", ssrc=1111, payload_type=111)
    sub = router.create_plain_transport(remote=subscriber.address)
    sub.set_header_extensions(mid=1, transport_cc=transport_cc)
    consumers = sub.consume(video, mid="0"), sub.consume(audio, mid="1")
    await asyncio.sleep(0.05)
    await publisher.receive()  # the keyframe request
    return publisher, subscriber, sub, consumers


async def test_one_sequence_per_subscriber_transport_and_its_feedback_moves_the_estimate(engine: Engine, peers) -> None:
    publisher, subscriber, sub, (video, _) = await setup(engine, peers)
    for i in range(20):
        publisher.send(rtp(100 + i, 3000 * i, 2222 if i % 2 else 1111, pt=96 if i % 2 else 111))
    got = await subscriber.receive(20)
    numbers = [twcc_number(d) for d in got]
    assert numbers == [(numbers[0] + i) & 0xFFFF for i in range(20)]  # both consumers, one sequence
    # a NACKed packet goes out again with the next number (a retransmission is sent data too)
    first_video = next(parse_rtp(d) for d in got if parse_rtp(d).ssrc == video.ssrc)
    subscriber.send(nack(sender=0xA, media=video.ssrc, items=[(first_video.sequence, 0)]))
    (repair,) = await subscriber.receive(1)
    assert twcc_number(repair) == (numbers[-1] + 1) & 0xFFFF
    assert engine.stats()["twcc_seq_written"] == 21
    before = sub.stats()
    assert before["twcc"] and before["estimate_bps"] > 0 and before["pacing_bps"] == 0  # unpaced by default
    assert before["estimate_source"] == "none"  # the start value: no feedback yet
    # the subscriber reports all 21 received, 1 ms apart: the estimate is read, counted
    fci = serialize_twcc(numbers[0], [10_000_000 + 1000 * i for i in range(21)])
    subscriber.send(feedback(0xA, fci))
    await asyncio.sleep(0.05)
    stats = sub.stats()
    assert stats["twcc_feedback"] == 1 and stats["twcc_packets_acked"] == 21 and stats["twcc_unknown_seq"] == 0
    assert engine.stats()["twcc_feedback"] == 1 and engine.stats()["twcc_terminated"] == 1
    assert stats["estimate_source"] == "transport-cc"
    # feedback naming packets never sent is not matched; a malformed one is dropped and counted
    subscriber.send(feedback(0xA, serialize_twcc((numbers[0] + 30000) & 0xFFFF, [1000, 2000])))
    subscriber.send(feedback(0xA, struct.pack("!HH", numbers[0], 0) + bytes(8)))  # status count 0
    await asyncio.sleep(0.05)
    stats = sub.stats()
    assert stats["twcc_unknown_seq"] == 2 and stats["twcc_malformed"] == 1
    assert engine.stats()["twcc_malformed"] == 1


async def test_without_transport_cc_no_number_is_written_and_remb_and_rr_loss_lead(engine: Engine, peers) -> None:
    publisher, subscriber, sub, (video, _) = await setup(engine, peers, transport_cc=None)
    publisher.send(rtp(1, 0, 2222))
    (data,) = await subscriber.receive(1)
    assert [i for i, _ in parse_rtp(data).extensions] == [1]  # the publisher's number never passes
    assert not sub.stats()["twcc"]
    subscriber.send(remb(0xA, 3, 100_000, [video.ssrc]))  # 800 kbit/s
    await asyncio.sleep(0.05)
    assert sub.stats()["estimate_bps"] == 800_000 and sub.stats()["remb_in"] == 1
    assert sub.stats()["estimate_source"] == "remb"
    subscriber.send(rr_lost(0xA, video.ssrc, 64))  # 25 % lost
    subscriber.send(rr_lost(0xA, 0xDEAD, 255))  # about a source that is not ours: not read
    await asyncio.sleep(0.05)
    stats = sub.stats()
    assert stats["rr_loss_reports"] == 1 and stats["estimate_bps"] == int(800_000 * (1 - 0.5 * 64 / 256))


async def test_with_pace_from_remb_the_estimate_paces_the_subscriber() -> None:
    """A browser that sends transport-cc feedback sends no REMB: its estimate paces it instead."""
    engine = Engine(host="127.0.0.1", port=0, pace_from_remb=True)
    await engine.start()
    made: list[Peer] = []

    def peers() -> Peer:
        made.append(Peer(engine.address, "127.0.0.1"))
        return made[-1]

    try:
        publisher, subscriber, sub, _ = await setup(engine, peers)
        for i in range(10):
            publisher.send(rtp(100 + i, 3000 * i, 2222))
        numbers = [twcc_number(d) for d in await subscriber.receive(10)]
        subscriber.send(feedback(0xA, serialize_twcc(numbers[0], [10_000_000 + 1000 * i for i in range(10)])))
        await asyncio.sleep(0.05)
        stats = sub.stats()
        assert stats["twcc_feedback"] == 1 and stats["pacing_bps"] == stats["estimate_bps"] * 250 // 100
    finally:
        for peer in made:
            peer.close()
        engine.close()


async def test_feedback_padded_as_libwebrtc_pads_it_is_applied(engine: Engine, peers) -> None:
    """libwebrtc pads a transport-cc feedback to 32 bits with 1 to 3 bytes, the count in the last
    (not the multiple of 4 RFC 3550 asks for): it is read, not dropped as bad_padding."""
    publisher, subscriber, sub, _ = await setup(engine, peers)
    for i in range(3):
        publisher.send(rtp(100 + i, 3000 * i, 2222))
    numbers = [twcc_number(d) for d in await subscriber.receive(3)]
    fci = serialize_twcc(numbers[0], [10_000_000 + 1000 * i for i in range(3)])[:13]  # 8 + chunk + 3 deltas
    packet = struct.pack("!BBHII", 0xA0 | 15, RTCP_RTPFB, 2 + 16 // 4, 0xA, 0) + fci + b"\x00\x00\x03"
    subscriber.send(packet)
    await asyncio.sleep(0.05)
    stats = sub.stats()
    assert stats["twcc_feedback"] == 1 and stats["twcc_packets_acked"] == 3
    assert stats["drops"]["bad_padding"] == 0
