"""The receive loop flushes the send queue every FLUSH_SENDS queued copies, mid-batch, when the read
emptied the socket (engine/io.pxi drain): a receive batch of 40 datagrams at fan-out 10 goes out in
flushes of a few datagrams' copies, not as one flush of 400, while a full read (a backlog) goes in one;
every subscriber still gets every copy, whole and in order, and the counters count each once.

The datagrams are sent before the test yields to the loop, so the engine reads them in one receive batch.
"""

from __future__ import annotations

import itertools

import pytest
from engine_wire import Peer, is_rtcp, parse_rtp, rtp

from engine import Engine, _testing

FANOUT = 10
BATCH = 40


def fanout(engine: Engine, peers) -> tuple[Peer, list[Peer]]:  # type: ignore[no-untyped-def]
    router = engine.create_router()
    publisher = peers()
    video = router.create_plain_transport(remote=publisher.address).produce(kind="video", ssrc=5, payload_type=96)
    subscribers = [peers() for _ in range(FANOUT)]
    for s in subscribers:
        router.create_plain_transport(remote=s.address).consume(video)
    return publisher, subscribers


async def send_batch_and_receive(engine: Engine, peers, flush_sends: int) -> tuple[dict, dict]:  # type: ignore[no-untyped-def]
    publisher, subscribers = fanout(engine, peers)
    _testing.set_flush_sends(engine._core, flush_sends)
    sent = [rtp(100 + i, 3000 * i, 5, payload=bytes([i]) * 1000) for i in range(BATCH)]
    before = engine.stats()
    for data in sent:  # no await in between: one receive batch
        publisher.send(data)
    for s in subscribers:
        got = [d for d in await s.receive(BATCH) if not is_rtcp(d)]
        assert [g[12:] for g in got] == [d[12:] for d in sent]  # every copy, whole, in the order sent
        seqs = [parse_rtp(g).seq for g in got]
        assert all((b - a) & 0xFFFF == 1 for a, b in itertools.pairwise(seqs))
    return before, engine.stats()


async def test_a_receive_batch_is_flushed_every_flush_sends_copies(engine: Engine, peers) -> None:  # type: ignore[no-untyped-def]
    assert engine._core.set_gso(True), "this kernel has UDP_SEGMENT (Linux 4.18+)"
    before, after = await send_batch_and_receive(engine, peers, 32)
    assert after["drains"] - before["drains"] == 1 and after["recv_calls"] - before["recv_calls"] == 1
    # 4 datagrams' copies (40 >= 32) per flush: 10 flushes of one sendmmsg, each 10 runs of 4 copies
    assert after["send_calls"] - before["send_calls"] == BATCH // 4
    assert after["gso_sends"] - before["gso_sends"] == (BATCH // 4) * FANOUT
    assert after["gso_datagrams"] - before["gso_datagrams"] == BATCH * FANOUT
    assert after["packets_out"] - before["packets_out"] == BATCH * FANOUT
    assert after["drops"]["send_failed"] == 0


async def test_without_the_bound_a_batch_is_one_flush(engine: Engine, peers) -> None:  # type: ignore[no-untyped-def]
    assert engine._core.set_gso(True)
    before, after = await send_batch_and_receive(engine, peers, 0)
    assert after["send_calls"] - before["send_calls"] == 1  # one sendmmsg: a run of 40 per subscriber
    assert after["gso_sends"] - before["gso_sends"] == FANOUT
    assert after["packets_out"] - before["packets_out"] == BATCH * FANOUT


async def test_without_gso_the_bounded_flushes_send_every_copy_once(engine: Engine, peers) -> None:  # type: ignore[no-untyped-def]
    engine._core.set_gso(False)
    before, after = await send_batch_and_receive(engine, peers, 32)
    assert after["send_calls"] - before["send_calls"] == BATCH // 4
    assert after["gso_sends"] == before["gso_sends"]
    assert after["packets_out"] - before["packets_out"] == BATCH * FANOUT


def test_the_bound_is_flush_sends_by_default_and_checked(engine: Engine) -> None:
    assert _testing.set_flush_sends(engine._core, 64) == 256  # FLUSH_SENDS
    assert _testing.set_flush_sends(engine._core, 256) == 64
    with pytest.raises(ValueError, match="0 to 1024 copies"):
        _testing.set_flush_sends(engine._core, 1025)
    with pytest.raises(ValueError):
        _testing.set_flush_sends(engine._core, -1)


async def test_the_routing_hook_flushes_as_the_receive_loop_does(engine: Engine, peers) -> None:  # type: ignore[no-untyped-def]
    assert engine._core.set_gso(True)
    publisher, subscribers = fanout(engine, peers)
    _testing.set_flush_sends(engine._core, 32)
    sent = [rtp(100 + i, 3000 * i, 5, payload=bytes([i]) * 1000) for i in range(BATCH)]
    before = engine.stats()
    _testing.route_batch(engine._core, sent, *publisher.address)
    for s in subscribers:
        got = [d for d in await s.receive(BATCH) if not is_rtcp(d)]
        assert [g[12:] for g in got] == [d[12:] for d in sent]
    after = engine.stats()
    assert after["send_calls"] - before["send_calls"] == BATCH // 4
    assert after["packets_out"] - before["packets_out"] == BATCH * FANOUT


async def test_a_full_read_is_a_backlog_and_leaves_in_one_flush(engine: Engine, peers) -> None:  # type: ignore[no-untyped-def]
    # 100 datagrams waiting: the first read takes a full batch of 64 (a backlog, whose copies go in
    # one flush, GSO runs of 64: splitting them made a backlog at 70 % of a core's load never clear);
    # the drain's send budget ends it. The next read takes the other 36 and empties the socket, so
    # those flush every 4 datagrams' copies again.
    assert engine._core.set_gso(True)
    publisher, subscribers = fanout(engine, peers)
    _testing.set_flush_sends(engine._core, 32)
    sent = [rtp(100 + i, 3000 * i, 5, payload=bytes([i % 256]) * 1000) for i in range(100)]
    before = engine.stats()
    for data in sent:  # no await in between: all wait in the socket
        publisher.send(data)
    for s in subscribers:
        got = [d for d in await s.receive(100) if not is_rtcp(d)]
        assert [g[12:] for g in got] == [d[12:] for d in sent]
    after = engine.stats()
    assert after["drains"] - before["drains"] == 2 and after["recv_calls"] - before["recv_calls"] == 2
    assert after["send_calls"] - before["send_calls"] == 1 + 36 // 4
    assert after["gso_sends"] - before["gso_sends"] == FANOUT + (36 // 4) * FANOUT
    assert after["gso_datagrams"] - before["gso_datagrams"] == 100 * FANOUT
