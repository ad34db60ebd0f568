"""Engine (engine/engine.py): its dual-stack socket, table versions and SSRC reservations."""

from __future__ import annotations

import asyncio

from engine_wire import Peer, rtp

from engine import Engine


async def test_ipv6_transports(peers) -> None:
    engine = Engine(host="::", port=0)
    await engine.start()
    try:
        address = ("::1", engine.address[1])
        pub6, sub4 = Peer(address, "::1"), Peer(("127.0.0.1", engine.address[1]), "127.0.0.1")
        router = engine.create_router()
        producer = router.create_plain_transport(remote=pub6.address).produce(kind="audio", ssrc=61, payload_type=111)
        sub_transport = router.create_plain_transport(remote=sub4.address)
        consumer = sub_transport.consume(producer)
        pub6.send(rtp(1, 2, 61, pt=111, payload=b"v6"))
        (got,) = await sub4.receive_rtp(1)
        assert got.payload == b"v6" and got.ssrc == consumer.ssrc
        # and back: an IPv4 publisher to an IPv6 subscriber
        back = sub_transport.produce(kind="audio", ssrc=62, payload_type=111)
        router.transports[producer.transport.id].consume(back)
        sub4.send(rtp(1, 2, 62, pt=111, payload=b"v4"))
        (got,) = await pub6.receive_rtp(1)
        assert got.payload == b"v4"
        pub6.close()
        sub4.close()
    finally:
        engine.close()
    assert engine.allocations()["blocks"] == 0


async def test_table_versions(engine: Engine, peers) -> None:
    start = engine.version
    router = engine.create_router()
    transport = router.create_plain_transport(remote=peers().address)
    assert engine.version == start + 2
    await engine.wait_version(start + 2)  # already in force: returns at once
    waiter = asyncio.ensure_future(engine.wait_version(start + 3))
    await asyncio.sleep(0.01)
    assert not waiter.done()
    producer = transport.produce(kind="audio", ssrc=1, payload_type=111)
    await asyncio.wait_for(waiter, 1)
    assert engine.version == start + 3 and engine.stats()["version"] == start + 3
    producer.pause()
    producer.resume()
    assert engine.version == start + 5


async def test_an_ssrc_on_two_transports_stays_reserved_until_both_close(engine):
    router = engine.create_router()
    first = router.create_plain_transport(remote=("127.0.0.1", 40200)).produce(
        kind="audio", ssrc=4242, payload_type=111
    )
    second = router.create_plain_transport(remote=("127.0.0.1", 40201)).produce(
        kind="audio", ssrc=4242, payload_type=111
    )
    first.close()
    assert 4242 in engine._ssrcs  # the allocator must not hand it out while `second` uses it
    second.close()
    assert 4242 not in engine._ssrcs
