"""Loopback: a bandwidth probe toward a subscriber transport (engine/probe.pxi). The subscriber,
which negotiated transport-cc and SRTP, receives padding-only packets on its video consumer's RTX
stream, each with the next transport-wide number after the media's and decryptable with its key;
the probe counters move in the transport's and the engine's stats, and the feedback about the
padding is matched like any packet's. Without transport-cc, or without a consumer with RTX, no probe
starts (counted)."""

from __future__ import annotations

import asyncio
import os
import struct

import pytest
from engine_wire import RTCP_RTPFB, rtp
from pylibsrtp import Policy, Session

from engine import Engine, EngineError, _testing
from engine.rtp import parse_rtp
from engine.rtp.twcc import serialize_twcc

PROFILE = 1  # AES128_CM_SHA1_80
TWCC_ID = 3
MEDIA_SSRC, RTX_SSRC, MEDIA_PT, RTX_PT = 0x2222, 0x2223, 96, 97


def feedback(sender: int, fci: bytes) -> bytes:
    return struct.pack("!BBHII", 0x80 | 15, RTCP_RTPFB, 2 + len(fci) // 4, sender, 0) + fci


def twcc_number(packet) -> int:
    (value,) = [v for i, v in packet.extensions if i == TWCC_ID]
    return int.from_bytes(value, "big")


async def setup(engine: Engine, peers, *, transport_cc: int | None = TWCC_ID, rtx: bool = True):
    router = engine.create_router()
    publisher, subscriber = peers(), peers()
    pub = router.create_plain_transport(remote=publisher.address)
    video = pub.produce(
        kind="video",
        ssrc=MEDIA_SSRC,
        payload_type=MEDIA_PT,
        **({"rtx_ssrc": RTX_SSRC, "rtx_payload_type": RTX_PT} if rtx else {}),
    )
    sub = router.create_plain_transport(remote=subscriber.address)
    sub.set_header_extensions(mid=1, transport_cc=transport_cc)
    key, subscriber_key = os.urandom(30), os.urandom(30)
    sub.set_srtp(PROFILE, local_key_salt=key, remote_key_salt=subscriber_key)
    consumer = sub.consume(video, mid="0")
    await asyncio.sleep(0.05)
    await publisher.receive()  # the keyframe request
    receiver = Session(policy=Policy(key=key, ssrc_type=Policy.SSRC_ANY_INBOUND, srtp_profile=PROFILE))
    sender = Session(policy=Policy(key=subscriber_key, ssrc_type=Policy.SSRC_ANY_OUTBOUND, srtp_profile=PROFILE))
    for i in range(5):
        publisher.send(rtp(100 + i, 3000 * i, MEDIA_SSRC, pt=MEDIA_PT))
    media = [parse_rtp(receiver.unprotect(d)) for d in await subscriber.receive(5)]
    return subscriber, sub, consumer, (receiver, sender), media


async def handled(transport, counter: str, within: float = 2.0) -> dict:
    """The transport's stats once `counter` moved (the engine reads a datagram on its loop's next turn,
    which a loaded machine may delay well past a fixed sleep)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not transport.stats()[counter] and loop.time() < deadline:
        await asyncio.sleep(0.01)
    return transport.stats()


async def test_a_probe_sends_numbered_encrypted_padding_on_the_rtx_stream(engine: Engine, peers) -> None:
    subscriber, sub, consumer, (receiver, sender), media = await setup(engine, peers)
    assert sub.stats()["probes_started"] == 0 and not engine._core.probing
    assert sub.probe(2_000_000)
    assert engine.stats()["probes_started"] == 1 and sub.stats()["probing"]
    plain = [receiver.unprotect(d) for d in await subscriber.receive(timeout=1.0, quiet=0.2)]
    got = [parse_rtp(d) for d in plain]
    assert len(got) >= 10  # 2 Mbit/s over the cluster, 255 bytes of padding each
    assert {p.ssrc for p in got} == {consumer.rtx_ssrc} and {p.payload_type for p in got} == {RTX_PT}
    assert all(p.payload == b"" and len(p.padding) == 255 and p.padding[-1] == 255 for p in got)
    assert [p.sequence for p in got] == [(got[0].sequence + i) & 0xFFFF for i in range(len(got))]
    assert all(p.timestamp == media[-1].timestamp and p.extension(1) == b"0" for p in got)
    numbers = [twcc_number(p) for p in media + got]
    assert numbers == [(numbers[0] + i) & 0xFFFF for i in range(len(numbers))]  # after the media's
    stats = sub.stats()
    assert not stats["probing"] or stats["probes_started"] == 1
    assert stats["probe_packets"] == len(got) and stats["probe_bytes"] == sum(map(len, plain))
    engine_stats = engine.stats()
    assert engine_stats["probe_packets"] == len(got) and engine_stats["probe_bytes"] == stats["probe_bytes"]
    assert engine_stats["twcc_seq_written"] == len(numbers)
    # the subscriber reports them all received: matched like media, none unknown
    arrivals = [10_000_000 + 500 * i for i in range(len(numbers))]
    subscriber.send(sender.protect_rtcp(feedback(0xA, serialize_twcc(numbers[0], arrivals))))
    stats = await handled(sub, "twcc_packets_acked")
    assert stats["twcc_packets_acked"] == len(numbers) and stats["twcc_unknown_seq"] == 0
    assert stats["probes_raised"] == 1 and not stats["probing"]  # received faster than sent: all came through
    assert stats["estimate_bps"] == stats["probe_result_bps"] >= 1_500_000
    assert engine.stats()["probes_raised"] == stats["probes_raised"] and engine._core.probing == 0


async def test_no_probe_without_transport_cc_or_without_rtx(engine: Engine, peers) -> None:
    _, no_twcc, *_ = await setup(engine, peers, transport_cc=None)
    assert not no_twcc.probe(1_000_000)
    _, no_rtx, *_ = await setup(engine, peers, rtx=False)
    assert not no_rtx.probe(1_000_000)
    assert engine.stats()["probe_unavailable"] == 2 and engine.stats()["probes_started"] == 0
    assert no_rtx.stats()["probes_started"] == 0
    with pytest.raises(EngineError):
        no_rtx.probe(0)


async def test_a_transport_closed_while_probing_leaves_no_probe(engine: Engine, peers) -> None:
    _, sub, *_ = await setup(engine, peers)
    assert sub.probe(5_000_000)
    assert engine._core.probing == 1
    sub.close()
    assert engine._core.probing == 0
    await asyncio.sleep(0.1)  # the pace timer ticks with nothing to probe


LOW_SSRC, LOW_RTX_SSRC = 0x3333, 0x3334


async def application_limited(engine: Engine, peers, layer: str, *, filling: bool = False):
    """A subscriber of one video track, its media far below the estimate (the 1 Mbit/s start
    value) and all reported received as sent: two feedbacks 0.5 s apart, time enough for an
    automatic probe to be due. `layer`: "only" (no simulcast), "top" (the upper of two layers),
    "low" (the lower one), "switching" (on the top layer, switching to the lower one at its next
    keyframe). `filling`: media at about the estimate instead (not application-limited). The
    engine's clock is frozen and advanced by hand. (subscriber, its transport, its consumer, the
    engine's clock)."""
    router = engine.create_router()
    publisher, subscriber = peers(), peers()
    pub = router.create_plain_transport(remote=publisher.address)
    top = pub.produce(kind="video", ssrc=MEDIA_SSRC, payload_type=MEDIA_PT, rtx_ssrc=RTX_SSRC, rtx_payload_type=RTX_PT)
    low = pub.produce(
        kind="video",
        ssrc=LOW_SSRC,
        payload_type=MEDIA_PT,
        rtx_ssrc=LOW_RTX_SSRC,
        rtx_payload_type=RTX_PT,
        below_top=layer != "only",
    )
    sub = router.create_plain_transport(remote=subscriber.address)
    sub.set_header_extensions(mid=1, transport_cc=TWCC_ID)
    consumer = sub.consume(low if layer == "low" else top, mid="0")
    await asyncio.sleep(0.05)
    await publisher.receive()  # the keyframe request
    if layer == "switching":
        consumer.switch(low, at_keyframe=True)  # the lower layer never sends: the switch waits
    ssrc = LOW_SSRC if layer == "low" else MEDIA_SSRC
    now = 100_000_000
    seq = 0
    for _ in range(2):
        numbers, arrivals = [], []
        for _ in range(20):  # 20 packets 20 ms apart: about 50 kbit/s (filling: three, 1,500 kbit/s)
            _testing.set_clock(engine._core, now)
            for _ in range(3 if filling else 1):
                payload = bytes(1238) if filling else b"\x01" * 100
                publisher.send(rtp(seq, 3000 * seq, ssrc, pt=MEDIA_PT, payload=payload))
                numbers += [twcc_number(parse_rtp(d)) for d in await subscriber.receive(1)]
                arrivals.append(now + 30_000)
                seq += 1
            now += 20_000
        _testing.set_clock(engine._core, now)
        subscriber.send(feedback(0xA, serialize_twcc(numbers[0], arrivals)))
        await handled(sub, "twcc_feedback")
        await asyncio.sleep(0.05)
        now += 200_000
    assert sub.stats()["twcc_feedback"] == 2 and sub.stats()["bandwidth_usage"] == "normal"
    return subscriber, sub, consumer, now


@pytest.mark.parametrize("layer", ["only", "top"])
async def test_a_subscriber_with_the_top_layer_is_not_probed(engine: Engine, peers, layer: str) -> None:
    """More bandwidth would bring it nothing more: no padding, however far under its estimate."""
    subscriber, sub, _, now = await application_limited(engine, peers, layer)
    assert sub.stats()["probes_started"] == 0 and engine.stats()["probes_started"] == 0
    assert not engine._core.probing and sub.stats()["estimate_bps"] > 0


async def test_a_subscriber_switching_to_a_lower_layer_is_probed(engine: Engine, peers) -> None:
    """Its target layer is under the top: a higher estimate could raise it again."""
    _, sub, _, _ = await application_limited(engine, peers, "switching")
    assert sub.stats()["probes_started"] == 1 and engine.stats()["probes_started"] == 1


@pytest.mark.parametrize("layer", ["low", "top"])
async def test_a_subscriber_sent_its_whole_starting_estimate_is_probed_while_a_layer_could_rise(
    engine: Engine, peers, layer: str
) -> None:
    """A late joiner whose layers the budget made fill its starting estimate: not application-
    limited, yet probed (start-up, until a probe at twice the estimate finds nothing more), on a
    layer under the top only."""
    _, sub, _, _ = await application_limited(engine, peers, layer, filling=True)
    stats = sub.stats()
    assert stats["sent_bps"] > 0.7 * stats["estimate_bps"], stats  # not application-limited
    assert stats["probes_started"] == (1 if layer == "low" else 0)


async def test_an_application_limited_subscriber_is_probed_automatically(engine: Engine, peers) -> None:
    """On a layer under its track's top one, media far below the estimate: the first feedback
    schedules a probe 0.5 s on, a feedback after that starts it, and its padding arrives on the pace
    timer's ticks."""
    subscriber, sub, consumer, now = await application_limited(engine, peers, "low")
    stats = sub.stats()
    assert stats["probes_started"] == 1 and stats["probing"] and engine._core.probing == 1
    for _ in range(20):  # the cluster's ticks
        now += 5_000
        _testing.set_clock(engine._core, now)
        await asyncio.sleep(0.005)
    padding = [parse_rtp(d) for d in await subscriber.receive(timeout=1.0, quiet=0.1)]
    assert padding and {p.ssrc for p in padding} == {consumer.rtx_ssrc}
    assert sub.stats()["probe_packets"] == len(padding) == engine.stats()["probe_packets"]
    assert engine._core.probing == 0  # sent: awaiting its feedback
