"""The send path on loopback: UDP GSO runs (engine/gso.pxi) and the pacer (engine/pace.pxi).

GSO: a receive batch whose copies go to several subscribers, in mixed sizes, must reach every
subscriber whole, byte for byte and in order, whether the kernel segments the runs or refuses them
(SO_NO_CHECK makes it refuse: the engine then sends the run one datagram at a time).

Pacing: the engine's clock is frozen (engine._testing.set_clock) and advanced by hand, so the rate a
paced transport releases video at is measured in simulated time, not by the wall clock.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import socket

import pytest
from engine_wire import Peer, is_rtcp, parse_rtp, remb, rtp
from pace_wire import drain
from pylibsrtp import Policy, Session

from engine import Engine, EngineError, _testing

SO_NO_CHECK = 11
"""<asm-generic/socket.h>: no UDP checksum on send, which the kernel refuses to segment (EINVAL)."""


def expected_copy(sent: bytes, got: bytes) -> bool:
    """Whether `got` is `sent` as a consumer forwards it: the same first byte and payload, the marker
    kept, only payload type, sequence number, timestamp and SSRC rewritten."""
    return got[0] == sent[0] and got[1] & 0x80 == sent[1] & 0x80 and got[12:] == sent[12:]


def mixed_batch(ssrc: int, start: int) -> list[bytes]:
    """One receive batch of a frame-like mix: runs of equal sizes, a short last packet, a larger one
    in the middle of a run, tiny packets."""
    sizes = [1000] * 7 + [400] + [1000] * 3 + [1200] * 5 + [60, 60, 1200, 1200, 300] + [900] * 20
    return [rtp(start + i, 3000 * (i // 8), ssrc, payload=bytes([i]) * (size - 12)) for i, size in enumerate(sizes)]


def setup_fanout(engine: Engine, peers, subscribers: int) -> tuple[Peer, list[Peer], list]:
    router = engine.create_router()
    publisher = peers()
    video = router.create_plain_transport(remote=publisher.address).produce(kind="video", ssrc=5, payload_type=96)
    subs = [peers() for _ in range(subscribers)]
    consumers = [router.create_plain_transport(remote=s.address).consume(video) for s in subs]
    return publisher, subs, consumers


def assert_received_whole(sent: list[bytes], got_by_sub: list[list[bytes]]) -> None:
    for got in got_by_sub:
        assert len(got) == len(sent)
        assert all(expected_copy(s, g) for s, g in zip(sent, got, strict=True))
        seqs = [parse_rtp(g).seq for g in got]
        assert all((b - a) & 0xFFFF == 1 for a, b in itertools.pairwise(seqs))


async def test_gso_sends_each_subscriber_its_runs_whole_and_in_order(engine: Engine, peers) -> None:
    publisher, subs, _ = setup_fanout(engine, peers, 4)
    core = engine._core
    assert core.set_gso(True), "this kernel has UDP_SEGMENT (Linux 4.18+)"
    first, second = mixed_batch(5, 100), mixed_batch(5, 141)
    sent = first + second
    _testing.route_batch(core, first, *publisher.address)
    _testing.route_batch(core, second, *publisher.address)
    got = [[d for d in await s.receive(len(sent)) if not is_rtcp(d)] for s in subs]
    assert_received_whole(sent, got)
    stats = engine.stats()
    assert stats["gso_fallbacks"] == 0
    # per subscriber and batch: runs 1000x7+400, 1000x3, 1200x5+60, 60, 1200x2+300, 900x20
    assert stats["gso_sends"] == 4 * 2 * 5
    assert stats["gso_datagrams"] == 4 * 2 * (8 + 3 + 6 + 3 + 20)
    assert stats["packets_out"] >= 4 * len(sent) and stats["drops"]["send_failed"] == 0


async def test_gso_interleaves_destinations_and_keeps_each_peers_order(engine: Engine, peers) -> None:
    # two producers, each to its own and to a shared subscriber: copies of both interleave in the queue
    router = engine.create_router()
    pub_a, pub_b = peers(), peers()
    a = router.create_plain_transport(remote=pub_a.address).produce(kind="video", ssrc=1, payload_type=96)
    b = router.create_plain_transport(remote=pub_b.address).produce(kind="video", ssrc=2, payload_type=96)
    only_a, shared = peers(), peers()
    router.create_plain_transport(remote=only_a.address).consume(a)
    shared_transport = router.create_plain_transport(remote=shared.address)
    to_a, to_b = shared_transport.consume(a), shared_transport.consume(b)
    sent_a = [rtp(10 + i, 0, 1, payload=bytes([i]) * 988) for i in range(30)]
    sent_b = [rtp(70 + i, 0, 2, payload=bytes([100 + i]) * (988 if i % 5 else 500)) for i in range(30)]
    for i in range(0, 30, 10):
        _testing.route_batch(engine._core, sent_a[i : i + 10], *pub_a.address)
        _testing.route_batch(engine._core, sent_b[i : i + 10], *pub_b.address)
    got_only = [d for d in await only_a.receive(30) if not is_rtcp(d)]
    got_shared = [d for d in await shared.receive(60) if not is_rtcp(d)]
    assert_received_whole(sent_a, [got_only])
    by_ssrc = {to_a.ssrc: sent_a, to_b.ssrc: sent_b}
    for ssrc, sent in by_ssrc.items():
        mine = [d for d in got_shared if parse_rtp(d).ssrc == ssrc]
        assert_received_whole(sent, [mine])
    assert engine.stats()["gso_sends"] > 0


async def test_datagrams_over_a_path_mtu_go_alone(engine: Engine, peers) -> None:
    publisher, subs, _ = setup_fanout(engine, peers, 2)
    sent = [rtp(i, 0, 5, payload=bytes([i]) * 1468) for i in range(6)]  # 1480 B: over 1452
    _testing.route_batch(engine._core, sent, *publisher.address)
    got = [[d for d in await s.receive(len(sent)) if not is_rtcp(d)] for s in subs]
    assert_received_whole(sent, got)
    assert engine.stats()["gso_sends"] == 0 and engine.stats()["gso_fallbacks"] == 0


async def test_refused_gso_falls_back_to_one_datagram_at_a_time(engine: Engine, peers) -> None:
    publisher, subs, _ = setup_fanout(engine, peers, 3)
    core = engine._core
    core.set_gso(True)
    engine._sock.setsockopt(socket.SOL_SOCKET, SO_NO_CHECK, 1)  # the kernel refuses UDP_SEGMENT now
    sent = mixed_batch(5, 1000)
    _testing.route_batch(core, sent, *publisher.address)
    got = [[d for d in await s.receive(len(sent)) if not is_rtcp(d)] for s in subs]
    assert_received_whole(sent, got)
    stats = engine.stats()
    assert stats["gso_sends"] == 0
    assert stats["gso_fallbacks"] == 3 * 5  # every run of two or more, refused and sent again
    assert stats["drops"]["send_failed"] == 0
    assert stats["packets_out"] >= 3 * len(sent)


async def test_without_gso_the_queue_is_sent_as_before(engine: Engine, peers) -> None:
    publisher, subs, _ = setup_fanout(engine, peers, 2)
    assert engine._core.set_gso(False) is False
    sent = mixed_batch(5, 7)
    _testing.route_batch(engine._core, sent, *publisher.address)
    got = [[d for d in await s.receive(len(sent)) if not is_rtcp(d)] for s in subs]
    assert_received_whole(sent, got)
    assert engine.stats()["gso_sends"] == 0 and engine.stats()["gso"] is False


async def test_srtp_copies_go_in_runs_and_decrypt_in_order(engine: Engine, peers, clock) -> None:
    # AEAD_AES_128_GCM subscribers: equal plaintexts give equal protected sizes, so a run is one
    # message; the paced one's held copies are protected as they leave, and decrypt in order
    gcm = Policy.SRTP_PROFILE_AEAD_AES_128_GCM
    router = engine.create_router()
    publisher = peers()
    video = router.create_plain_transport(remote=publisher.address).produce(kind="video", ssrc=5, payload_type=96)
    subs, keys, transports = [peers() for _ in range(3)], [os.urandom(28) for _ in range(3)], []
    for sub, key in zip(subs, keys, strict=True):
        transport = router.create_plain_transport(remote=sub.address)
        transport.set_srtp(7, local_key_salt=key, remote_key_salt=os.urandom(28))
        transport.consume(video)
        transports.append(transport)
    transports[2].set_pacing(RATE)
    sent = [rtp(300 + i, 90 * i, 5, payload=bytes([i]) * 988) for i in range(24)]
    _testing.route_batch(engine._core, sent, *publisher.address)
    release_all(engine, clock)
    for sub, key in zip(subs, keys, strict=True):
        rx = Session(policy=Policy(key=key, ssrc_type=Policy.SSRC_ANY_INBOUND, srtp_profile=gcm))
        got = [rx.unprotect(d) for d in drain(sub)]
        assert_received_whole(sent, [got])
    assert engine.stats()["gso_sends"] >= 2 and transports[2].stats()["released"] == 24 - 3000 // 1016


# ---- pacing ---------------------------------------------------------------------------------------

RATE = 1_000_000
"""bit/s of the paced transport: 125 bytes per millisecond."""
BURST_BYTES = 3000
"""What a fresh bucket holds at that rate: PACE_MIN_BURST (5 ms of 1 Mbit/s is less)."""


@pytest.fixture
def clock(engine: Engine):
    """The engine's clock, frozen at 1 s and moved by hand: clock(ms) advances it by ms."""
    now = [1_000_000]
    _testing.set_clock(engine._core, now[0])

    def advance(ms: float) -> None:
        now[0] += int(ms * 1000)
        _testing.set_clock(engine._core, now[0])

    yield advance
    _testing.set_clock(engine._core, None)


def paced_subscriber(engine: Engine, peers, rate: int = RATE):
    router = engine.create_router()
    publisher = peers()
    source = router.create_plain_transport(remote=publisher.address)
    video = source.produce(kind="video", ssrc=5, payload_type=96)
    audio = source.produce(kind="audio", ssrc=6, payload_type=111)
    sub = peers()
    transport = router.create_plain_transport(remote=sub.address)
    transport.set_pacing(rate)
    transport.consume(video)
    transport.consume(audio)
    drain(sub)
    return publisher, sub, transport


def send_video(engine: Engine, publisher: Peer, count: int, size: int = 1000, start: int = 0) -> list[bytes]:
    packets = [rtp(start + i, 90 * i, 5, payload=bytes([i % 256]) * (size - 12)) for i in range(count)]
    for i in range(0, count, 64):
        _testing.route_batch(engine._core, packets[i : i + 64], *publisher.address)
    return packets


def release_all(engine: Engine, clock) -> None:
    """Advances the clock 10 ms a tick (less than a burst's refill) until nothing is held."""
    for _ in range(10_000):
        if not engine._core.paced_pending:
            return
        clock(10)
        engine._core.pace()
    raise AssertionError("the pacer still holds packets")


async def test_the_pacer_releases_at_the_set_rate(engine: Engine, peers, clock) -> None:
    publisher, sub, transport = paced_subscriber(engine, peers)
    sent = send_video(engine, publisher, 30)  # 240 ms of the rate: within the queue's bound
    got = drain(sub)
    assert len(got) == BURST_BYTES // 1000  # the burst goes at once, the rest waits
    assert transport.stats()["paced_pending"] == 30 - len(got)
    for step in range(1, 201):  # 200 ms, 1 ms a tick
        clock(1)
        engine._core.pace()
        got += drain(sub)
        allowed = BURST_BYTES + RATE / 8 * step / 1000
        assert allowed - 1000 < 1000 * len(got) <= allowed, step
    assert len(got) == BURST_BYTES // 1000 + 25  # 200 ms at 125 B/ms: 25 packets of 1000 B
    release_all(engine, clock)
    got += drain(sub)
    assert len(got) == 30
    assert all(expected_copy(s, g) for s, g in zip(sent, got, strict=True))
    stats = transport.stats()
    assert stats["held"] == stats["released"] == 27 and stats["paced_pending"] == 0
    assert stats["early"] == 0 and stats["packets_out"] == 30
    assert engine.stats()["paced_pending"] == 0


async def test_audio_bypasses_held_video(engine: Engine, peers, clock) -> None:
    publisher, sub, transport = paced_subscriber(engine, peers)
    send_video(engine, publisher, 20)
    got = drain(sub)
    assert len(got) == 3
    audio = [rtp(50 + i, 960 * i, 6, pt=111, payload=bytes([i]) * 80) for i in range(5)]
    _testing.route_batch(engine._core, audio, *publisher.address)
    got = drain(sub)
    assert [parse_rtp(g).pt for g in got] == [111] * 5  # at once, though video waits
    # it spent from the bucket: the next video goes that much later (8 ms would cover it without)
    clock(8)
    engine._core.pace()
    assert drain(sub) == []
    clock(4)
    engine._core.pace()
    assert len(drain(sub)) == 1


async def test_held_packets_outlive_their_consumer_and_transport_close_frees_them(engine: Engine, peers, clock) -> None:
    publisher, sub, transport = paced_subscriber(engine, peers)
    send_video(engine, publisher, 10)
    drain(sub)
    for consumer in list(transport.consumers.values()):
        consumer.close()
    release_all(engine, clock)
    assert len(drain(sub)) == 7  # still sent, credited to the transport only
    assert transport.stats()["packets_out"] == 10
    other = paced_subscriber(engine, peers)
    send_video(engine, other[0], 30)
    other[2].close()  # holding packets: freed with it (the fixture checks no block is left)
    engine._core.pace()
    assert engine.stats()["paced_pending"] == 0


async def test_pacing_through_the_loop_timer(engine: Engine, peers) -> None:
    # the real clock: the engine's pace timer sends what is held without any further input
    publisher, sub, transport = paced_subscriber(engine, peers, rate=20_000_000)
    for i in range(40):
        publisher.send(rtp(i, 90 * i, 5, payload=bytes([i]) * 988))
    got = [d for d in await sub.receive(40, timeout=2.0) if not is_rtcp(d)]
    assert len(got) == 40
    assert transport.stats()["held"] > 0 and transport.stats()["paced_pending"] == 0


def test_pacing_rate_must_not_be_negative(engine: Engine) -> None:
    transport = engine.create_router().create_plain_transport(remote=("127.0.0.1", 9))
    with pytest.raises(EngineError):
        transport.set_pacing(-1)


async def wait_for(predicate, timeout: float = 1.0) -> bool:
    for _ in range(int(timeout / 0.005)):
        if predicate():
            return True
        await asyncio.sleep(0.005)
    return predicate()


async def test_a_subscribers_remb_is_kept_and_paces_only_when_asked(peers) -> None:
    eng = Engine(host="127.0.0.1", port=0, pace_from_remb=True)
    await eng.start()
    try:
        router = eng.create_router()
        publisher, sub, explicit = Peer(eng.address), Peer(eng.address), Peer(eng.address)
        video = router.create_plain_transport(remote=publisher.address).produce(kind="video", ssrc=5, payload_type=96)
        by_remb = router.create_plain_transport(remote=sub.address)
        by_remb.consume(video, ssrc=55)
        fixed = router.create_plain_transport(remote=explicit.address)
        fixed.consume(video, ssrc=56)
        fixed.set_pacing(500_000)
        sub.send(remb(55, 4, 62_500, [55]))  # 62,500 << 4 = 1 Mbit/s
        explicit.send(remb(56, 4, 62_500, [56]))
        assert await wait_for(lambda: by_remb.stats()["remb_bps"] == 1_000_000)
        assert by_remb.stats()["pacing_bps"] == 2_500_000
        assert await wait_for(lambda: fixed.stats()["remb_bps"] == 1_000_000)
        assert fixed.stats()["pacing_bps"] == 500_000  # an explicit rate stays
        for peer in (publisher, sub, explicit):
            peer.close()
    finally:
        eng.close()
    assert eng.allocations()["blocks"] == 0


async def test_without_pace_from_remb_a_remb_only_is_kept(engine: Engine, peers) -> None:
    _, subs, _ = setup_fanout(engine, peers, 1)
    transports = next(iter(engine.routers.values())).transports
    sub_transport = next(t for t in transports.values() if t.consumers)
    subs[0].send(remb(9, 0, 200_000, [9]))
    assert await wait_for(lambda: sub_transport.stats()["remb_bps"] == 200_000)
    assert sub_transport.stats()["pacing_bps"] == 0


async def test_copies_discarded_by_the_routing_hook_leave_no_chain_behind(engine: Engine, peers) -> None:
    publisher, subs, _ = setup_fanout(engine, peers, 2)
    _testing.route_batch(engine._core, [rtp(1, 0, 5)], *publisher.address, 1, False)
    sent = [rtp(2 + i, 0, 5) for i in range(4)]
    _testing.route_batch(engine._core, sent, *publisher.address)
    got = [[d for d in await s.receive(len(sent)) if not is_rtcp(d)] for s in subs]
    assert_received_whole(sent, got)
