"""The pacer (engine/pace.pxi) with transport-cc and simulcast, in simulated time (pace_wire.Clock):
transport-wide numbers are taken as packets leave, so feedback about a paced subscriber matches
what it was sent; a switch up to a layer with a large keyframe leaves at the pacing rate, nothing
dropped; a queue over its time bound sends early rather than drop; the rate has a floor."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Iterator

import pytest
from engine_wire import Peer, is_rtcp, remb, rtp
from pace_wire import Clock, drain, ticks
from test_engine_twcc import TWCC_ID, feedback

from engine import Engine, _testing
from engine.rtp import parse_rtp
from engine.rtp.twcc import serialize_twcc

SO_TIMESTAMPNS = 35
"""<asm-generic/socket.h>: the kernel's receive time of each datagram, as ancillary data."""
RATE = 1_000_000
"""bit/s of the paced transports: 125 bytes per simulated millisecond."""


@pytest.fixture
def clock(engine: Engine) -> Iterator[Clock]:
    frozen = Clock(engine)
    yield frozen
    frozen.thaw()


def twcc_number(data: bytes) -> int:
    (value,) = [v for i, v in parse_rtp(data).extensions if i == TWCC_ID]
    return int.from_bytes(value, "big")


async def twcc_subscriber(engine: Engine, peers, rate: int = RATE):
    """A publisher of video (SSRC 2222) and audio (1111); a subscriber transport with transport-cc
    consuming both, paced at `rate`."""
    router = engine.create_router()
    publisher, subscriber = peers(), peers()
    pub = router.create_plain_transport(remote=publisher.address)
    video = pub.produce(kind="video", ssrc=2222, payload_type=96)
    audio = pub.produce(kind="audio", ssrc=1111, payload_type=111)
    sub = router.create_plain_transport(remote=subscriber.address)
    sub.set_header_extensions(mid=1, transport_cc=TWCC_ID)
    sub.consume(video, mid="0")
    sub.consume(audio, mid="1")
    sub.set_pacing(rate)
    await asyncio.sleep(0.02)
    drain(publisher, keep=lambda d: True)
    return publisher, subscriber, sub


def route(engine: Engine, publisher: Peer, packets: list[bytes]) -> None:
    """The packets as receive batches of the engine (at most 64 each), from the publisher."""
    for i in range(0, len(packets), 64):
        _testing.route_batch(engine._core, packets[i : i + 64], *publisher.address)


async def test_transport_wide_numbers_are_taken_as_held_video_leaves(engine: Engine, peers, clock) -> None:
    # The root cause of a paced Chromium subscriber's estimate collapsing to its minimum: video was
    # numbered when queued, so audio sent past the held video carried later numbers and arrived
    # first; the subscriber's feedback reported the held video lost, the loss bound fell, the rate
    # with it, and the queue overflowed (a screen share never decoded, a switch up never finished).
    publisher, subscriber, sub = await twcc_subscriber(engine, peers)
    route(engine, publisher, [rtp(100 + i, 3000 * i, 2222, payload=bytes(988)) for i in range(20)])
    route(engine, publisher, [rtp(50 + i, 960 * i, 1111, pt=111, payload=bytes(80)) for i in range(5)])
    got = [d for _, batch in ticks(clock, subscriber, 2) for d in batch]
    assert len(got) == 25 and sub.stats()["held"] > 10
    numbers = [twcc_number(d) for d in got]
    assert numbers == [(numbers[0] + i) & 0xFFFF for i in range(25)]  # in the order they left
    # all received, 1 ms apart in that order: nothing is counted lost
    subscriber.send(feedback(0xA, serialize_twcc(numbers[0], [10_000_000 + 1000 * i for i in range(25)])))
    for _ in range(100):
        if sub.stats()["twcc_feedback"]:
            break
        await asyncio.sleep(0.01)
    stats = sub.stats()
    assert stats["twcc_packets_acked"] == 25 and stats["twcc_packets_lost"] == 0 and stats["twcc_unknown_seq"] == 0
    assert not any(is_rtcp(d) for d in got)


# ---- a switch up: the target layer's keyframe leaves at the pacing rate ------------------------

LOW, HIGH = 0x1000, 0x2000
KEY_START = b"\x10\x00"  # VP8 payload descriptor: start of partition 0; payload header P=0 (keyframe)
KEY_REST = b"\x00\x00"  # ... the same frame's later packets
DELTA = b"\x10\x01"


def vp8(seq: int, ts: int, ssrc: int, head: bytes, size: int, marker: bool = False) -> bytes:
    return rtp(seq, ts, ssrc, payload=head + bytes([seq & 0xFF]) * (size - 12 - len(head)), marker=marker)


def keyframe(ssrc: int, first_seq: int, ts: int, packets: int, size: int) -> list[bytes]:
    return [
        vp8(first_seq + i, ts, ssrc, KEY_START if i == 0 else KEY_REST, size, marker=i == packets - 1)
        for i in range(packets)
    ]


async def simulcast_subscriber(engine: Engine, peers, rate: int):
    router = engine.create_router()
    publisher, subscriber = peers(), peers()
    source = router.create_plain_transport(remote=publisher.address)
    low = source.produce(kind="video", ssrc=LOW, payload_type=96, codec="vp8")
    high = source.produce(kind="video", ssrc=HIGH, payload_type=96, codec="vp8")
    transport = router.create_plain_transport(remote=subscriber.address)
    consumer = transport.consume(low, ssrc=0xC0)
    transport.set_pacing(rate)
    return publisher, subscriber, transport, consumer, high


SWITCH_RATE = 2_000_000
"""bit/s: 250 bytes per simulated millisecond; the keyframe below (55 kB) is 220 ms of it."""


async def test_a_switch_up_spreads_the_keyframe_at_the_pacing_rate(engine: Engine, peers, clock) -> None:
    publisher, subscriber, transport, consumer, high = await simulcast_subscriber(engine, peers, SWITCH_RATE)
    route(engine, publisher, [vp8(10 + i, 3000 * i, LOW, DELTA, 300) for i in range(3)])  # the low layer: small
    clock.advance(30)
    clock.release()
    assert len(drain(subscriber)) == 3 and transport.stats()["held"] == 0
    consumer.switch(high, at_keyframe=True)
    key = keyframe(HIGH, 500, 90_000, packets=50, size=1100)
    route(engine, publisher, key)  # one receive batch after another, as fast as they come
    after = [vp8(550 + i, 93_000 + 3000 * i, HIGH, DELTA, 1100) for i in range(5)]
    route(engine, publisher, after)
    sent = key + after
    start = clock.now_us
    arrivals = ticks(clock, subscriber, 5)
    got = [d for _, batch in arrivals for d in batch]
    # whole and in order, nothing dropped or sent ahead of the rate
    assert [d[12:] for d in got] == [s[12:] for s in sent]
    seqs = [parse_rtp(d).sequence for d in got]
    assert seqs == [(seqs[0] + i) & 0xFFFF for i in range(len(seqs))]
    stats = transport.stats()
    assert stats["early"] == 0 and not any(stats["drops"].values()) and stats["paced_pending"] == 0
    assert stats["held"] == stats["released"] > 45
    # spread at the rate: by each tick, no more than a burst and the rate's bytes since the switch,
    # and no less than the rate's bytes less one packet (a tick sends all that is due)
    burst = max(SWITCH_RATE * 5 // 8000, 3000)
    total = 0
    for at_us, batch in arrivals:
        total += sum(map(len, batch))
        due = SWITCH_RATE / 8 * (at_us - start) / 1e6
        assert total <= burst + due + 1, (at_us - start, total)
        assert total >= min(due - 1100, sum(map(len, sent))), (at_us - start, total)
    span_ms = (arrivals[-1][0] - start) / 1000
    assert span_ms >= (sum(map(len, sent)) - burst) * 8 / SWITCH_RATE * 1000  # about 220 ms, not at once


async def test_held_video_catches_up_when_the_timer_ticks_late(engine: Engine, peers, clock) -> None:
    # a loaded host runs the pace timer late: the time between ticks is still paid for in full
    # (credit is capped at one burst only while the transport holds nothing)
    publisher, subscriber, transport = await twcc_subscriber(engine, peers)
    route(engine, publisher, [rtp(100 + i, 3000 * i, 2222, payload=bytes(988)) for i in range(30)])
    start = clock.now_us
    total = 0
    for at_us, batch in ticks(clock, subscriber, 40):  # 40 ms: more than a burst's worth (24 ms)
        total += sum(map(len, batch))
        due = RATE / 8 * (at_us - start) / 1e6
        assert total >= min(due - 1100, 30 * 1000), (at_us - start, total)


async def test_a_queue_past_its_bound_sends_early_and_drops_nothing(engine: Engine, peers, clock) -> None:
    publisher, subscriber, transport = await twcc_subscriber(engine, peers)
    sent = [rtp(100 + i, 3000 * i, 2222, payload=bytes([i]) * 988) for i in range(100)]
    route(engine, publisher, sent)  # 800 ms of the rate; the queue holds 300 ms (PACE_QUEUE_US)
    stats = transport.stats()
    held_bytes = stats["paced_pending"] * 1000
    assert 0.25 * RATE / 8 < held_bytes <= 0.3 * RATE / 8 + 3000
    assert stats["early"] == stats["released"] > 50 and engine.stats()["pace_early"] == stats["early"]
    got = [d for _, batch in ticks(clock, subscriber, 5) for d in batch]
    assert [d[-988:] for d in got] == [s[12:] for s in sent]  # all of them, in order
    numbers = [twcc_number(d) for d in got]
    assert numbers == [(numbers[0] + i) & 0xFFFF for i in range(100)]
    assert not any(transport.stats()["drops"].values()) and transport.stats()["packets_out"] == 100


# ---- a peer offered more than its rate: the churn example with aiortc subscribers ------------
# Five cameras and five microphones to a subscriber whose estimate stood on a REMB about tiny
# frames: paced at the 400 kbit/s floor while its audio alone took more than that, its held video
# never earned credit and waited seconds (the queue's bound is in bytes of the rate, and tiny
# frames never reached it).

SLOW_RATE = 400_000
"""bit/s: the floor (PACE_MIN_BPS), 50 bytes per simulated millisecond."""


def offered(step: int, audio: int) -> list[bytes]:
    """Simulated millisecond `step` * 5 of a peer offered an `audio`-byte audio packet every 5 ms
    (300 bytes: 480 kbit/s, above the rate alone) and a 200-byte video packet every 25 ms."""
    out = [rtp(1000 + step, 240 * step, 1111, pt=111, payload=bytes(audio - 12))]
    if step % 5 == 0:
        out.append(rtp(100 + step // 5, 3000 * step, 2222, payload=bytes([step // 5 & 0xFF]) * 188))
    return out


def video_delays(
    clock: Clock, engine: Engine, publisher: Peer, subscriber: Peer, steps: int, audio: int = 300
) -> list[float]:
    """Offers `steps` of 5 ms (pace timer ticks between receive batches): each video packet's
    delay in the engine, in simulated ms, in the order they were offered."""
    offered_at: dict[int, int] = {}
    delays: dict[int, float] = {}
    for step in range(steps):
        clock.advance(5)
        clock.release()
        for data in drain(subscriber):
            if parse_rtp(data).payload_type == 96:
                seq = parse_rtp(data).sequence
                delays[seq] = (clock.now_us - offered_at[seq]) / 1000
        batch = offered(step, audio)
        for data in batch:
            if parse_rtp(data).payload_type == 96:
                offered_at[parse_rtp(data).sequence] = clock.now_us
        route(engine, publisher, batch)
    return [delays.get(seq, float("inf")) for seq in sorted(offered_at)]


async def test_a_peer_offered_more_than_its_rate_is_paced_at_what_it_is_offered(engine: Engine, peers, clock) -> None:
    publisher, subscriber, transport = await twcc_subscriber(engine, peers, rate=SLOW_RATE)
    delays = video_delays(clock, engine, publisher, subscriber, 400)  # 2 s
    stats = transport.stats()
    assert stats["pacing_bps"] == SLOW_RATE
    # the demand (two windows of 200 ms) raised the bucket's rate above what is offered
    assert 1.2 * 520_000 < stats["pacing_rate_bps"] < 1.3 * 600_000, stats["pacing_rate_bps"]
    assert max(delays) <= 300  # PACE_QUEUE_US, even before the rate followed
    assert max(delays[len(delays) // 2 :]) <= 10, delays  # then a tick or two
    assert not any(stats["drops"].values()) and stats["held"] == stats["released"]


async def test_no_packet_is_held_longer_than_the_queue_bound(engine: Engine, peers, clock) -> None:
    # the demand follows within two windows (400 ms); until it does, a held packet leaves after
    # 300 ms at most (early), however few the bytes it and the queue hold. Audio of 1.6 Mbit/s
    # spends the fresh bucket's burst within 20 ms.
    publisher, subscriber, transport = await twcc_subscriber(engine, peers, rate=SLOW_RATE)
    delays = video_delays(clock, engine, publisher, subscriber, 78, audio=1000)  # 390 ms
    stats = transport.stats()
    assert stats["pacing_rate_bps"] == SLOW_RATE
    assert stats["early"] >= 1 and engine.stats()["pace_early"] == stats["early"]
    waited = [d for d in delays if d != float("inf")]
    assert waited and 295 <= max(waited) <= 300, delays


async def test_the_estimate_paces_at_two_and_a_half_times_it_with_a_floor(peers) -> None:
    eng = Engine(host="127.0.0.1", port=0, pace_from_remb=True)
    await eng.start()
    try:
        router = eng.create_router()
        publisher, low, high = (Peer(eng.address) for _ in range(3))
        video = router.create_plain_transport(remote=publisher.address).produce(kind="video", ssrc=5, payload_type=96)
        slow = router.create_plain_transport(remote=low.address)
        slow.consume(video, ssrc=55)
        fast = router.create_plain_transport(remote=high.address)
        fast.consume(video, ssrc=56)
        assert slow.stats()["pacing_bps"] == 0  # nothing said yet: not paced
        low.send(remb(55, 0, 50_000, [55]))  # 50 kbit/s: 125 kbit/s is below the floor
        high.send(remb(56, 4, 62_500, [56]))  # 1 Mbit/s
        for _ in range(100):
            if slow.stats()["remb_bps"] and fast.stats()["remb_bps"]:
                break
            await asyncio.sleep(0.01)
        assert slow.stats()["pacing_bps"] == 400_000  # PACE_MIN_BPS
        assert fast.stats()["pacing_bps"] == 2_500_000
        for peer in (publisher, low, high):
            peer.close()
    finally:
        eng.close()
    assert eng.allocations()["blocks"] == 0


# ---- the same on the real clock: kernel receive timestamps at the subscriber's socket ----------

REAL_RATE = 4_000_000
"""bit/s: 500 bytes per millisecond; the keyframe below (44 kB) is about 88 ms of it."""


def stamped(sock: socket.socket) -> list[tuple[float, bytes]]:
    """(kernel receive time in seconds, datagram) of the RTP waiting in a socket with SO_TIMESTAMPNS."""
    out = []
    while True:
        try:
            data, ancillary, _, _ = sock.recvmsg(4096, socket.CMSG_SPACE(16))
        except BlockingIOError:
            return out
        (at,) = [struct.unpack("qq", value[:16]) for level, kind, value in ancillary if kind == SO_TIMESTAMPNS]
        if not is_rtcp(data):
            out.append((at[0] + at[1] / 1e9, data))


async def test_a_switch_up_leaves_no_faster_than_the_rate_on_the_wire(engine: Engine, peers) -> None:
    # a lower bound only: however slow the host, packet k cannot reach the subscriber before the
    # bucket paid for the bytes up to it (less the one burst a rested bucket holds)
    publisher, subscriber, transport, consumer, high = await simulcast_subscriber(engine, peers, REAL_RATE)
    subscriber.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    consumer.switch(high, at_keyframe=True)
    await asyncio.sleep(0.05)
    sent = keyframe(HIGH, 500, 90_000, packets=40, size=1100)
    for packet in sent:
        publisher.send(packet)
    got: list[tuple[float, bytes]] = []
    for _ in range(500):
        got += stamped(subscriber.sock)
        if len(got) >= len(sent):
            break
        await asyncio.sleep(0.01)
    assert [d[12:] for _, d in got] == [s[12:] for s in sent]
    burst = max(REAL_RATE * 5 // 8000, 3000)
    first, total = got[0][0], 0
    for at, data in got:
        total += len(data)
        # slack: two packets and 5 ms (the first one's delivery may lag its departure on a busy host)
        assert at - first >= (total - burst - 2200) * 8 / REAL_RATE - 0.005, (at - first, total)
    assert got[-1][0] - first >= 0.7 * (total - burst) * 8 / REAL_RATE  # spread, not a burst
    assert transport.stats()["early"] == 0 and transport.stats()["held"] > 30
