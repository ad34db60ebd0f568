"""Pipes between two workers: a producer of worker A reaches a subscriber of worker B through a pipe
transport pair (plain RTP between the two workers' sockets), across routers, gated at both ends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from engine_wire import Peer, rtp

from contract import ops
from engine import Engine, EngineError
from engine.worker.executor import TableExecutor

ZERO = {"blocks": 0, "transports": 0, "producers": 0, "consumers": 0, "srtp_contexts": 0}


@pytest.fixture
async def pair() -> AsyncIterator[tuple[Engine, Engine]]:
    a, b = Engine(host="127.0.0.1", port=0), Engine(host="127.0.0.1", port=0)
    await a.start()
    await b.start()
    yield a, b
    a.close()
    b.close()
    assert a.allocations() == ZERO and b.allocations() == ZERO


async def test_a_producer_reaches_a_subscriber_on_another_worker_through_a_pipe(pair: tuple[Engine, Engine]) -> None:
    a, b = pair
    publisher, subscriber = Peer(a.address), Peer(b.address)
    try:
        meeting_a, meeting_b = a.create_router(), b.create_router()
        pipe_a = a.create_router().create_plain_transport(remote=b.address, pipe=True)
        pipe_b = b.create_router().create_plain_transport(remote=a.address, pipe=True)
        origin = meeting_a.create_plain_transport(remote=publisher.address).produce("audio", ssrc=11, payload_type=111)
        piped_out = pipe_a.consume(origin, ssrc=5001)  # another router's producer, through the pipe
        piped_in = pipe_b.produce("audio", ssrc=5001, payload_type=111)
        consumer = meeting_b.create_plain_transport(remote=subscriber.address).consume(piped_in, ssrc=77)

        for i in range(10):
            publisher.send(rtp(100 + i, 960 * i, 11, pt=111, payload=bytes([i]) * 40))
        got = await subscriber.receive_rtp(10)
        assert [p.payload for p in got] == [bytes([i]) * 40 for i in range(10)]
        assert {p.ssrc for p in got} == {77}
        assert piped_out.stats()["packets_out"] == 10 and piped_in.stats()["packets_in"] == 10

        # the gate at either end stops the source for the subscriber beyond the pipe
        origin.pause()
        publisher.send(rtp(200, 0, 11, pt=111))
        assert await subscriber.receive_rtp(timeout=0.2) == []
        origin.resume()
        piped_in.pause()
        publisher.send(rtp(201, 0, 11, pt=111))
        assert await subscriber.receive_rtp(timeout=0.2) == []
        piped_in.resume()
        publisher.send(rtp(202, 0, 11, pt=111))
        assert len(await subscriber.receive_rtp(1)) == 1
        assert consumer.stats()["packets_out"] == 11
    finally:
        publisher.close()
        subscriber.close()


async def test_a_pipe_takes_packets_only_from_its_peer_worker(pair: tuple[Engine, Engine]) -> None:
    a, b = pair
    stranger, subscriber = Peer(b.address), Peer(b.address)
    try:
        pipe_b = b.create_router().create_plain_transport(remote=a.address, pipe=True)
        piped_in = pipe_b.produce("audio", ssrc=5001, payload_type=111)
        b.create_router().create_plain_transport(remote=subscriber.address).consume(piped_in)
        before = b.stats()["unknown_source"]
        for i in range(5):
            stranger.send(rtp(i, 0, 5001, pt=111))  # the pipe's SSRC, from an address that is not worker A
        assert await subscriber.receive_rtp(timeout=0.2) == []
        await asyncio.sleep(0.05)
        assert piped_in.stats()["packets_in"] == 0
        assert b.stats()["unknown_source"] - before == 5  # dropped and counted
    finally:
        stranger.close()
        subscriber.close()


async def test_only_pipes_cross_routers(pair: tuple[Engine, Engine]) -> None:
    a, _ = pair
    one, two = a.create_router(), a.create_router()
    producer = one.create_plain_transport(remote=("127.0.0.1", 9)).produce("audio", ssrc=1, payload_type=111)
    with pytest.raises(EngineError, match="producer's router"):
        two.create_plain_transport(remote=("127.0.0.1", 10)).consume(producer)


def srtp_pipe(
    a: Engine, b: Engine, publisher: Peer, subscriber: Peer, b_expects: str
) -> tuple[TableExecutor, TableExecutor]:
    """The control plane's operations for a keyed pipe A → B, as each worker's executor applies them
    (GCM, one key per direction: A sends with "11…", B expects `b_expects`)."""
    on_a, on_b = TableExecutor(a), TableExecutor(b)
    for executor, peer, local, remote in ((on_a, b, "11" * 28, "22" * 28), (on_b, a, "22" * 28, b_expects)):
        for op in (
            ops.CreateRouter("pipes"),
            ops.CreatePlainTransport(
                "pipe>x", "pipes", peer.address, pipe=True, srtp_profile=7, srtp_local_key=local, srtp_remote_key=remote
            ),
            ops.CreateRouter("m"),
        ):
            assert executor.apply(op)["ok"], op
    for executor, op in (
        (on_a, ops.CreatePlainTransport("pub", "m", publisher.address)),
        (on_a, ops.Produce("mic", "pub", "audio", 111, ssrc=11)),
        (on_a, ops.Consume("mic>b", "pipe>x", "mic", 5001)),
        (on_b, ops.Produce("pipe:m:mic", "pipe>x", "audio", 111, ssrc=5001)),
        (on_b, ops.CreatePlainTransport("sub", "m", subscriber.address)),
        (on_b, ops.Consume("sub.c1", "sub", "pipe:m:mic", 77)),
    ):
        assert executor.apply(op)["ok"], op
    return on_a, on_b


@pytest.mark.parametrize("b_expects", ["11" * 28, "33" * 28], ids=["keys-match", "wrong-key"])
async def test_a_pipe_between_hosts_is_srtp_keyed_by_its_operations(
    pair: tuple[Engine, Engine], b_expects: str
) -> None:
    a, b = pair
    publisher, subscriber = Peer(a.address), Peer(b.address)
    try:
        on_a, on_b = srtp_pipe(a, b, publisher, subscriber, b_expects)
        for i in range(5):
            publisher.send(rtp(i, 960 * i, 11, pt=111, payload=bytes([i]) * 30))
        got = await subscriber.receive_rtp(5, timeout=0.5)
        pipe_in = on_b.objects["pipe>x"].stats()
        if b_expects == "11" * 28:  # what A encrypts with: decrypted, forwarded
            assert [p.payload for p in got] == [bytes([i]) * 30 for i in range(5)]
            assert pipe_in["packets_in"] == 5 and pipe_in["drops"]["srtp_auth"] == 0
        else:  # the pipe's packets are SRTP: B with another key authenticates none of them
            assert got == [] and b.stats()["drops"]["srtp_auth"] == 5
        for executor in (on_a, on_b):
            executor.apply(ops.CloseRouter("m"))
            executor.apply(ops.CloseRouter("pipes"))
    finally:
        publisher.close()
        subscriber.close()
