"""RTCP through the engine: feedback relayed to publishers, sender reports rewritten, RR terminated."""

from __future__ import annotations

import asyncio
import struct

import pytest
from engine_wire import fir, nack, pli, remb, rr, rtp, sdes_cname, split_rtcp, sr

from engine import Engine, _testing
from engine.rtp import RtcpRemb, parse_rtcp


async def setup_call(engine: Engine, peers, kind: str = "video"):
    router = engine.create_router()
    pub, sub = peers(), peers()
    producer = router.create_plain_transport(remote=pub.address).produce(kind=kind, ssrc=0x1234, payload_type=96)
    consumer = router.create_plain_transport(remote=sub.address).consume(producer)
    await asyncio.sleep(0.03)
    await pub.receive()  # the keyframe request a new video consumer triggers
    return pub, sub, producer, consumer


async def test_pli_from_subscriber_reaches_publisher_with_producer_ssrc(engine: Engine, peers) -> None:
    pub, sub, producer, consumer = await setup_call(engine, peers)
    await asyncio.sleep(_testing.keyframe_interval_ms(engine._core) / 1000)
    sub.send(pli(sender=0xCAFE, media=consumer.ssrc))
    (packet,) = await pub.receive(1)
    ((packet_type, fmt, body),) = split_rtcp(packet)
    assert (packet_type, fmt) == (206, 1)
    sender, media = struct.unpack("!II", body[4:12])
    assert media == producer.ssrc and sender != 0xCAFE
    # every subscriber asks for the same keyframe: one request per interval reaches the publisher
    for _ in range(5):
        sub.send(pli(sender=0xCAFE, media=consumer.ssrc))
    assert await pub.receive() == []
    assert producer.stats()["keyframe_rate_limited"] == 5
    assert consumer.stats()["keyframe_requests_in"] == 6
    assert engine.stats()["pli_relayed"] == 1


async def test_fir_is_translated(engine: Engine, peers) -> None:
    _testing.set_keyframe_interval_ms(engine._core, 0)
    pub, sub, producer, consumer = await setup_call(engine, peers)
    await asyncio.sleep(0.03)
    sub.send(fir(sender=0xCAFE, target=consumer.ssrc, seq=9))
    (packet,) = await pub.receive(1)
    ((packet_type, fmt, body),) = split_rtcp(packet)
    assert (packet_type, fmt) == (206, 4)
    assert struct.unpack("!I", body[12:16])[0] == producer.ssrc
    assert engine.stats()["fir_relayed"] == 1


async def test_nack_is_mapped_back_through_the_consumer_offset(engine: Engine, peers) -> None:
    pub, sub, producer, consumer = await setup_call(engine, peers, kind="audio")
    for i in range(5):
        pub.send(rtp(1000 + i, i * 960, 0x1234))
    await sub.receive(5)
    producer.pause()
    producer.resume()
    for i in range(5):  # resumed: the consumer's offset is now 1005 - 2000
        pub.send(rtp(2000 + i, 100_000 + i * 960, 0x1234))
    out = await sub.receive_rtp(5)
    assert [p.seq for p in out] == [1005, 1006, 1007, 1008, 1009]
    sub.send(nack(sender=0xCAFE, media=consumer.ssrc, items=[(1006, 0b101), (1001, 0)]))
    (packet,) = await pub.receive(1)
    ((packet_type, fmt, body),) = split_rtcp(packet)
    assert (packet_type, fmt) == (205, 1)
    assert struct.unpack("!I", body[8:12])[0] == producer.ssrc
    # 1006 maps to the publisher's 2001; 1001 is from before the resync, not ours to ask for
    assert body[12:] == struct.pack("!HH", 2001, 0b101)
    assert producer.stats()["nacks"] == 1 and engine.stats()["nack_relayed"] == 1


async def test_sender_report_is_rewritten_per_consumer(engine: Engine, peers) -> None:
    router = engine.create_router()
    pub, sub1, sub2 = peers(), peers(), peers()
    producer = router.create_plain_transport(remote=pub.address).produce(kind="audio", ssrc=0x55, payload_type=111)
    c1 = router.create_plain_transport(remote=sub1.address).consume(producer)
    for i in range(4):
        pub.send(rtp(10 + i, 5000 + 960 * i, 0x55, pt=111, payload=b"p" * 50))
    await sub1.receive(4)
    c1.pause()
    await asyncio.sleep(0.05)
    c1.resume()
    for i in range(4, 8):
        pub.send(rtp(10 + i, 900_000 + 960 * i, 0x55, pt=111, payload=b"p" * 50))
    got = await sub1.receive_rtp(4)
    c2 = router.create_plain_transport(remote=sub2.address).consume(producer)  # has sent nothing yet
    ntp = 0x0123456789ABCDEF
    pub.send(sr(0x55, ntp, 900_000 + 960 * 8, packets=8, octets=400, blocks=1) + sdes_cname(0x55))
    (report,) = await sub1.receive(1)
    parts = split_rtcp(report)
    assert [(t, c) for t, c, _ in parts] == [(200, 0)]
    ssrc, ntp_out, ts_out, packets, octets = struct.unpack("!IQIII", parts[0][2][4:28])
    assert ssrc == c1.ssrc and ntp_out == ntp
    # the SR's RTP time goes through the same offset as the media it describes
    offset = (got[0].ts - (900_000 + 960 * 4)) & 0xFFFFFFFF
    assert ts_out == (900_000 + 960 * 8 + offset) & 0xFFFFFFFF
    assert (packets, octets) == (8, 400)
    assert await sub2.receive() == []  # no packet sent to it yet: no timestamp mapping to report
    assert producer.stats()["sender_reports"] == 1 and engine.stats()["sr_rewritten"] == 1
    assert c1.stats()["sender_reports"] == 1 and c2.stats()["sender_reports"] == 0


async def test_receiver_reports_and_bandwidth_feedback_are_terminated(engine: Engine, peers) -> None:
    pub, sub, producer, consumer = await setup_call(engine, peers)
    sub.send(rr(0xCAFE, consumer.ssrc) + sdes_cname(0xCAFE))
    sub.send(remb(0xCAFE, 2, 100000, [consumer.ssrc]))
    pub.send(rr(0x1234, 0xCAFE))
    await asyncio.sleep(0.05)
    assert await pub.receive() == [] and await sub.receive() == []
    stats = engine.stats()
    assert stats["rr_terminated"] == 2
    assert stats["remb_terminated"] == 1
    assert stats["rtcp_handled"] == 3
    assert stats["rtcp_other_terminated"] == 1  # the SDES


async def test_feedback_in_a_compound_and_unknown_ssrc(engine: Engine, peers) -> None:
    pub, sub, producer, consumer = await setup_call(engine, peers)
    await asyncio.sleep(_testing.keyframe_interval_ms(engine._core) / 1000)
    sub.send(rr(0xCAFE, consumer.ssrc) + pli(0xCAFE, consumer.ssrc) + pli(0xCAFE, 0xDEAD))
    (packet,) = await pub.receive(1)
    assert struct.unpack("!I", packet[8:12])[0] == producer.ssrc
    stats = engine.stats()
    assert stats["rr_terminated"] == 1 and stats["pli_relayed"] == 1 and stats["rtcp_other_terminated"] == 1


async def test_remb_to_a_publisher(engine, peers) -> None:
    """The REMB the engine announces to publishers (remb.pxi): bitrate and SSRCs as the reference
    parser reads them, mantissa and exponent included."""
    router = engine.create_router()
    pub = peers()
    transport = router.create_plain_transport(remote=pub.address)
    assert not transport.announces_bitrate
    for bitrate, ssrcs in ((4_000_000, [0x10, 0x20, 0x30]), (250_000, [7]), (0x3FFFF, [1])):
        assert engine._core.send_remb(transport.id, bitrate, ssrcs)
        (data,) = await pub.receive(1)
        (remb,) = parse_rtcp(data)
        assert isinstance(remb, RtcpRemb) and remb.ssrcs == ssrcs
        assert remb.bitrate <= bitrate and remb.bitrate > bitrate * 0.99
    assert engine.stats()["remb_sent"] == 3
    with pytest.raises(ValueError):
        engine._core.send_remb(transport.id, 1, list(range(17)))
    engine._core.set_transport_remote(transport.id, None)
    assert not engine._core.send_remb(transport.id, 1, [1])  # no address: nothing to send to


async def test_a_consumer_asks_for_its_keyframe_once_its_transport_can_be_sent_to(engine: Engine, peers) -> None:
    # A WebRTC subscriber is sent to only once DTLS keyed SRTP, after its consumers were made: a
    # keyframe asked for earlier could not reach it; one asked for as the transport gets its address can.
    router = engine.create_router()
    pub, sub, other = peers(), peers(), peers()
    producer = router.create_plain_transport(remote=pub.address).produce(kind="video", ssrc=0x1234, payload_type=96)
    shown, hidden = (
        router.create_plain_transport(remote=sub.address),
        router.create_plain_transport(remote=other.address),
    )
    for transport in (shown, hidden):
        engine._core.set_transport_addresses(transport.id, None, [])
    shown.consume(producer)
    hidden.consume(producer, paused=True)
    await asyncio.sleep(0.03)
    assert await pub.receive() == []  # nothing asked while the subscriber is out of reach
    engine._core.set_transport_addresses(hidden.id, other.address, [])
    await asyncio.sleep(0.03)
    assert await pub.receive() == []  # a paused consumer wants no keyframe yet
    engine._core.set_transport_addresses(shown.id, sub.address, [])
    (packet,) = await pub.receive(1)
    ((packet_type, fmt, body),) = split_rtcp(packet)
    assert (packet_type, fmt) == (206, 1) and struct.unpack("!I", body[8:12])[0] == producer.ssrc
    # a transport already reachable whose addresses change (ICE trusts another pair) asks nothing more
    engine._core.set_transport_addresses(shown.id, sub.address, [("127.0.0.1", 9)])
    await asyncio.sleep(0.03)
    assert await pub.receive() == []
    assert producer.stats()["keyframe_requests"] == 1
