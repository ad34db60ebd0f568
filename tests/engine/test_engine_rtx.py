"""RTX (RFC 4588) through the engine: a publisher's retransmissions reach the subscriber that asked
for them (its NACK relayed because the engine's cache missed: audio producers have no cache) on the
consumer's own RTX SSRC, payload type and sequence space, with the original sequence number (OSN)
mapped to the number that subscriber saw."""

from __future__ import annotations

import asyncio
import os
import struct

import pytest
from engine_wire import nack, parse_rtp, rtp, split_rtcp
from pylibsrtp import Policy, Session

from contract.ops import Batch
from engine import Engine, EngineError
from engine.rtp.rtcp import RtcpNack
from engine.worker.executor import TableExecutor

MEDIA_SSRC, RTX_SSRC = 0x1234, 0x5678
MEDIA_PT, RTX_PT, SUB_RTX_PT = 96, 97, 107


def rtx(seq: int, ts: int, osn: int, ssrc: int = RTX_SSRC, pt: int = RTX_PT, payload: bytes = b"\x01" * 100) -> bytes:
    """A retransmission: the original payload behind the 2-byte OSN (RFC 4588 section 4)."""
    return rtp(seq, ts, ssrc, pt=pt, payload=struct.pack("!H", osn & 0xFFFF) + payload)


def osn_of(payload: bytes) -> int:
    return struct.unpack("!H", payload[:2])[0]


async def ask(sub, pub, consumer, seqs: list[int]) -> list[int]:
    """The subscriber NACKs `seqs` (its own numbering); the publisher's numbers the engine asks for."""
    sub.send(nack(sender=0xCAFE, media=consumer.ssrc, items=[(s, 0) for s in seqs]))
    (packet,) = await pub.receive(1)
    ((packet_type, fmt, body),) = split_rtcp(packet)
    assert (packet_type, fmt) == (205, 1)
    items = [struct.unpack("!HH", body[i : i + 4]) for i in range(12, len(body), 4)]
    return RtcpNack(items=items).lost()


async def setup_call(engine: Engine, peers, rtx_payload_type: int | None = None):
    router = engine.create_router()
    pub, sub = peers(), peers()
    producer = router.create_plain_transport(remote=pub.address).produce(
        kind="audio", ssrc=MEDIA_SSRC, payload_type=MEDIA_PT, rtx_ssrc=RTX_SSRC, rtx_payload_type=RTX_PT
    )
    consumer = router.create_plain_transport(remote=sub.address).consume(
        producer, **({"rtx_payload_type": rtx_payload_type} if rtx_payload_type is not None else {})
    )
    return pub, sub, producer, consumer


async def test_consumer_gets_its_own_rtx_stream(engine: Engine, peers) -> None:
    pub, sub, producer, consumer = await setup_call(engine, peers)
    assert consumer.rtx_ssrc is not None and consumer.rtx_ssrc not in (consumer.ssrc, RTX_SSRC)
    assert consumer.rtx_payload_type == RTX_PT
    assert producer.stats()["rtx_ssrc"] == RTX_SSRC
    assert consumer.stats()["rtx_ssrc"] == consumer.rtx_ssrc
    router = producer.transport.router
    plain = router.create_plain_transport(remote=peers().address)
    no_rtx = plain.produce(kind="audio", ssrc=0x9999, payload_type=MEDIA_PT)
    assert plain.consume(no_rtx).rtx_ssrc is None


async def test_rtx_is_rewritten_to_the_consumer_stream(engine: Engine, peers) -> None:
    pub, sub, producer, consumer = await setup_call(engine, peers, rtx_payload_type=SUB_RTX_PT)
    for i in range(5):
        pub.send(rtp(1000 + i, 9000 + i * 960, MEDIA_SSRC))
    await sub.receive_rtp(5)
    producer.pause()
    producer.resume()
    for i in range(5):  # resumed: the consumer's offset is now 1005 - 2000
        pub.send(rtp(2000 + i, 100_000 + i * 960, MEDIA_SSRC))
    media = await sub.receive_rtp(5)
    assert [p.seq for p in media] == [1005, 1006, 1007, 1008, 1009]
    assert await ask(sub, pub, consumer, [1006, 1008, 1009]) == [2001, 2003, 2004]
    for i, osn in enumerate((2001, 2003, 2004)):
        pub.send(rtx(500 + i, 100_000 + (osn - 2000) * 960, osn))
    out = await sub.receive_rtp(3)
    assert [p.ssrc for p in out] == [consumer.rtx_ssrc] * 3
    assert [p.pt for p in out] == [SUB_RTX_PT] * 3
    assert [osn_of(p.payload) for p in out] == [1006, 1008, 1009]
    assert [p.payload[2:] for p in out] == [b"\x01" * 100] * 3
    by_seq = {p.seq: p.ts for p in media}
    assert [p.ts for p in out] == [by_seq[osn_of(p.payload)] for p in out]
    assert [(p.seq - out[0].seq) & 0xFFFF for p in out] == [0, 1, 2]
    stats = consumer.stats()
    assert stats["rtx_sent"] == 3 and stats["rtx_unmapped"] == 0
    assert producer.stats()["rtx_in"] == 3 and engine.stats()["rtx_sent"] == 3
    assert engine.stats()["drops"]["unknown_ssrc"] == 0


async def test_nack_then_rtx_round_trip(engine: Engine, peers) -> None:
    pub, sub, producer, consumer = await setup_call(engine, peers)
    sent = {}
    for i in range(10):
        if i != 4:  # lost on the way to the engine: the subscriber sees a gap
            pub.send(rtp(3000 + i, i * 960, MEDIA_SSRC, payload=bytes([i]) * 50))
        sent[3000 + i] = bytes([i]) * 50
    media = await sub.receive_rtp(9)
    assert 3004 not in [p.seq for p in media]
    sub.send(nack(sender=0xCAFE, media=consumer.ssrc, items=[(3004, 0)]))
    (packet,) = await pub.receive(1)
    ((packet_type, fmt, body),) = split_rtcp(packet)
    assert (packet_type, fmt) == (205, 1)
    assert struct.unpack("!I", body[8:12])[0] == MEDIA_SSRC
    (asked, blp) = struct.unpack("!HH", body[12:16])
    assert (asked, blp) == (3004, 0)
    # the publisher answers on its RTX SSRC
    pub.send(rtx(77, 4 * 960, asked, payload=sent[asked]))
    (out,) = await sub.receive_rtp(1)
    assert (out.ssrc, out.pt, out.ts) == (consumer.rtx_ssrc, RTX_PT, 4 * 960)
    assert osn_of(out.payload) == 3004 and out.payload[2:] == sent[3004]


async def test_rtx_for_a_packet_the_consumer_never_got_is_dropped(engine: Engine, peers) -> None:
    pub, sub, producer, consumer = await setup_call(engine, peers)
    for i in range(3):
        pub.send(rtp(10 + i, i * 960, MEDIA_SSRC))
    await sub.receive_rtp(3)
    consumer.pause()
    for i in range(3, 6):  # gated: never sent to this consumer
        pub.send(rtp(10 + i, i * 960, MEDIA_SSRC))
    await asyncio.sleep(0.05)
    consumer.resume()
    for i in range(6, 9):
        pub.send(rtp(10 + i, i * 960, MEDIA_SSRC))
    media = await sub.receive_rtp(3)
    assert [p.seq for p in media] == [13, 14, 15]  # contiguous across the gate
    # the subscriber's 2 (before the consumer's start), 11 and 12 (sent before the gate closed) and
    # 16 (not sent yet) are in no mapping: not asked; its 14 is the publisher's 17
    assert await ask(sub, pub, consumer, [2, 11, 12, 14, 16]) == [17]
    assert engine.stats()["nack_unmapped"] == 4
    # 5 (before the consumer's start), 11 (sent before the gate closed), 14 (while gated),
    # 30 (not sent yet): nobody asked for them
    for n, osn in enumerate((5, 11, 14, 30)):
        pub.send(rtx(100 + n, 0, osn))
    pub.send(rtx(104, 7 * 960, 17))
    (out,) = await sub.receive_rtp(1)
    assert osn_of(out.payload) == 14 and out.ssrc == consumer.rtx_ssrc
    assert await sub.receive() == []
    stats = consumer.stats()
    assert stats["rtx_sent"] == 1 and stats["cache_misses"] == 1
    assert engine.stats()["rtx_unrequested"] == 4


async def test_gates_apply_to_rtx(engine: Engine, peers) -> None:
    pub, sub, producer, consumer = await setup_call(engine, peers)
    for i in range(3):
        pub.send(rtp(10 + i, i * 960, MEDIA_SSRC))
    await sub.receive_rtp(3)
    assert await ask(sub, pub, consumer, [11]) == [11]
    producer.pause()
    pub.send(rtx(1, 0, 11))
    await asyncio.sleep(0.05)
    assert producer.stats()["drops"]["producer_gated"] == 1
    producer.resume()
    consumer.pause()
    pub.send(rtx(2, 0, 11))
    assert await sub.receive() == []
    assert consumer.stats()["gated"] == 1
    assert consumer.stats()["rtx_sent"] == 0 and producer.stats()["rtx_in"] == 1


async def test_truncated_rtx_is_dropped(engine: Engine, peers) -> None:
    pub, sub, producer, consumer = await setup_call(engine, peers)
    pub.send(rtp(10, 0, MEDIA_SSRC))
    await sub.receive_rtp(1)
    pub.send(rtp(1, 0, RTX_SSRC, pt=RTX_PT, payload=b"\x00"))
    await asyncio.sleep(0.05)
    assert producer.stats()["drops"]["rtx_truncated"] == 1
    stats = engine.stats()
    assert (
        stats["datagrams_in"]
        == stats["rtp_routed"] + stats["rtcp_handled"] + stats["slow_queued"] + stats["input_drops"]
    )


async def test_rtx_ssrc_set_later_and_conflicts(engine: Engine, peers) -> None:
    router = engine.create_router()
    pub, sub = peers(), peers()
    transport = router.create_plain_transport(remote=pub.address)
    producer = transport.produce(kind="audio", ssrc=MEDIA_SSRC, payload_type=MEDIA_PT, rtx_payload_type=RTX_PT)
    consumer = router.create_plain_transport(remote=sub.address).consume(producer)
    assert consumer.rtx_ssrc is not None  # RTX negotiated, publisher SSRC not known yet
    with pytest.raises(EngineError):
        transport.produce(kind="audio", ssrc=0x77, payload_type=MEDIA_PT, rtx_ssrc=MEDIA_SSRC)
    # learned later (as Transport._learn does for a repaired-RID stream)
    engine._core.set_producer_rtx(producer.id, RTX_SSRC)
    with pytest.raises(ValueError):
        engine._core.set_producer_ssrc(producer.id, RTX_SSRC)
    pub.send(rtp(10, 0, MEDIA_SSRC))
    await sub.receive_rtp(1)
    assert await ask(sub, pub, consumer, [10]) == [10]
    pub.send(rtx(1, 0, 10))
    (out,) = await sub.receive_rtp(1)
    assert out.ssrc == consumer.rtx_ssrc and osn_of(out.payload) == 10
    engine._core.set_producer_rtx(producer.id, None)
    pub.send(rtx(2, 0, 10))
    assert await sub.receive() == []
    assert engine.stats()["drops"]["unknown_ssrc"] == 1


async def test_learned_rtx_ssrc_is_forwarded(engine: Engine, peers) -> None:
    router = engine.create_router()
    pub, sub = peers(), peers()
    transport = router.create_plain_transport(remote=pub.address)
    producer = transport.produce(kind="audio", ssrc=MEDIA_SSRC, payload_type=MEDIA_PT, mid="0", rtx_payload_type=RTX_PT)
    consumer = router.create_plain_transport(remote=sub.address).consume(producer)
    transport._learn(RTX_SSRC, RTX_PT, "0", None, None)
    assert producer.rtx_ssrc == RTX_SSRC and producer.stats()["rtx_ssrc"] == RTX_SSRC
    pub.send(rtp(10, 0, MEDIA_SSRC))
    await sub.receive_rtp(1)
    assert await ask(sub, pub, consumer, [10]) == [10]
    pub.send(rtx(1, 0, 10))
    (out,) = await sub.receive_rtp(1)
    assert out.ssrc == consumer.rtx_ssrc and osn_of(out.payload) == 10


async def test_rtx_to_an_srtp_subscriber_is_protected(engine: Engine, peers) -> None:
    router = engine.create_router()
    pub, sub = peers(), peers()
    engine_to_sub, sub_to_engine = os.urandom(30), os.urandom(30)
    producer = router.create_plain_transport(remote=pub.address).produce(
        kind="audio", ssrc=MEDIA_SSRC, payload_type=MEDIA_PT, rtx_ssrc=RTX_SSRC, rtx_payload_type=RTX_PT
    )
    sub_t = router.create_plain_transport(remote=sub.address)
    sub_t.set_srtp(1, local_key_salt=engine_to_sub, remote_key_salt=sub_to_engine)
    consumer = sub_t.consume(producer)
    sub_rx = Session(
        policy=Policy(
            key=engine_to_sub, ssrc_type=Policy.SSRC_ANY_INBOUND, srtp_profile=Policy.SRTP_PROFILE_AES128_CM_SHA1_80
        )
    )
    sub_tx = Session(
        policy=Policy(
            key=sub_to_engine, ssrc_type=Policy.SSRC_ANY_OUTBOUND, srtp_profile=Policy.SRTP_PROFILE_AES128_CM_SHA1_80
        )
    )
    pub.send(rtp(10, 0, MEDIA_SSRC))
    (first,) = await sub.receive(1)
    sub.send(sub_tx.protect_rtcp(nack(sender=0xCAFE, media=consumer.ssrc, items=[(10, 0)])))
    await pub.receive(1)
    pub.send(rtx(1, 0, 10))
    out = [parse_rtp(sub_rx.unprotect(data)) for data in [first, *await sub.receive(1)]]
    assert [p.ssrc for p in out] == [consumer.ssrc, consumer.rtx_ssrc]
    assert osn_of(out[1].payload) == 10 and out[1].payload[2:] == b"\x01" * 100


async def test_channel_consume_carries_the_rtx_ssrc(engine: Engine, peers) -> None:
    pub, sub = peers(), peers()
    executor = TableExecutor(engine)
    ops = [
        {"op": "create_router", "id": "r1"},
        {"op": "create_plain_transport", "id": "pub", "router_id": "r1", "remote": list(pub.address)},
        {"op": "create_plain_transport", "id": "sub", "router_id": "r1", "remote": list(sub.address)},
        {
            "op": "produce",
            "id": "cam",
            "transport_id": "pub",
            "kind": "video",
            "ssrc": MEDIA_SSRC,
            "payload_type": MEDIA_PT,
            "rtx_ssrc": RTX_SSRC,
            "rtx_payload_type": RTX_PT,
        },
        {"op": "consume", "id": "cam@sub", "transport_id": "sub", "producer_id": "cam", "ssrc": 5555, "rtx_ssrc": 6666},
        {"op": "consume", "id": "cam@sub2", "transport_id": "sub", "producer_id": "cam", "ssrc": 7777},
    ]
    results = executor.apply_batch(Batch("e1", 1, False, ops))
    assert results[-2] == {"ok": True, "ssrc": 5555, "rtx_ssrc": 6666}
    allocated = results[-1]["rtx_ssrc"]
    assert allocated not in (None, 5555, 6666, 7777)
    # like the SSRC, an allocated RTX SSRC is part of the table: a sync that names it keeps the consumer
    ops[-1]["rtx_ssrc"] = allocated
    results = executor.apply_batch(Batch("e1", 2, True, ops))
    assert results[-2:] == [
        {"ok": True, "ssrc": 5555, "rtx_ssrc": 6666},
        {"ok": True, "ssrc": 7777, "rtx_ssrc": allocated},
    ]
    assert [c.rtx_ssrc for c in executor.objects["cam"].consumers.values()] in ([6666, allocated], [allocated, 6666])


async def test_consumer_ssrcs_are_unique_per_transport_including_rtx(engine):
    router = engine.create_router()
    publisher = router.create_plain_transport(remote=("127.0.0.1", 40100))
    subscriber = router.create_plain_transport(remote=("127.0.0.1", 40101))
    producer = publisher.produce(kind="video", ssrc=5000, payload_type=96, rtx_ssrc=5001, rtx_payload_type=97)
    first = subscriber.consume(producer, ssrc=7000, rtx_ssrc=7001)
    for ssrc, rtx_ssrc in ((7001, 7100), (7200, 7000), (7300, 7300)):
        with pytest.raises(EngineError, match=r"already sent|RTX SSRC"):
            subscriber.consume(producer, ssrc=ssrc, rtx_ssrc=rtx_ssrc)
    assert first.rtx_ssrc == 7001 and len(subscriber.consumers) == 1


async def test_padding_only_rtx_is_a_probe_not_a_drop(engine: Engine, peers) -> None:
    # Chromium pads its RTX stream to probe its bandwidth: a trial's /metrics counted 60 of them as
    # rtx_truncated drops. They end at the engine, counted as padding, and reach no subscriber.
    pub, sub, producer, consumer = await setup_call(engine, peers)
    pub.send(rtp(10, 0, MEDIA_SSRC))
    await sub.receive_rtp(1)
    padding = bytes([0xA0]) + rtp(1, 0, RTX_SSRC, pt=RTX_PT, payload=b"")[1:] + bytes(223) + bytes([224])
    for _ in range(3):
        pub.send(padding)
    assert await sub.receive() == []
    stats = engine.stats()
    assert stats["rtx_padding"] == 3 and stats["rtx_in"] == 0 and consumer.stats()["rtx_sent"] == 0
    assert sum(producer.stats()["drops"].values()) == 0 and stats["input_drops"] == 0
    assert (
        stats["datagrams_in"]
        == stats["rtp_routed"] + stats["rtcp_handled"] + stats["slow_queued"] + stats["input_drops"]
    )
