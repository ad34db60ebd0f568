"""The lifecycle and gates every table object shares (engine/gate.py): close cascades in one table
version, closed objects refuse every call, and a gate's state follows the core."""

from __future__ import annotations

import asyncio

import pytest
from engine_wire import rtp

from engine import ClosedError, Engine


def tree(engine: Engine):
    router = engine.create_router()
    pub = router.create_plain_transport(remote=("127.0.0.1", 40300))
    sub = router.create_plain_transport(remote=("127.0.0.1", 40301))
    producer = pub.produce(kind="audio", ssrc=7, payload_type=111)
    consumer = sub.consume(producer)
    return router, pub, sub, producer, consumer


async def test_close_cascades_in_one_version_and_twice_does_nothing(engine: Engine) -> None:
    router, pub, sub, producer, consumer = tree(engine)
    version = engine.version
    router.close()
    assert engine.version == version + 1
    assert all(o.closed for o in (router, pub, sub, producer, consumer))
    assert engine.routers == {} and router.transports == {} and pub.producers == {} and sub.consumers == {}
    router.close()
    consumer.close()
    assert engine.version == version + 1
    assert engine.allocations()["transports"] == 0


async def test_closing_a_transport_closes_the_consumers_of_its_producers(engine: Engine) -> None:
    router, pub, sub, producer, consumer = tree(engine)
    pub.close()
    assert producer.closed and consumer.closed and not sub.closed
    assert sub.consumers == {} and not router.closed
    assert engine.allocations()["consumers"] == 0 and engine.allocations()["producers"] == 0


@pytest.mark.parametrize("closing", ["router", "pub", "producer", "consumer"])
async def test_closed_objects_refuse_every_call(engine: Engine, closing: str) -> None:
    router, pub, sub, producer, consumer = tree(engine)
    objects = {"router": router, "pub": pub, "producer": producer, "consumer": consumer}
    objects[closing].close()
    version = engine.version
    calls = {
        "router": [lambda: router.create_plain_transport(remote=("127.0.0.1", 40302))],
        "pub": [lambda: pub.produce(kind="audio", ssrc=8, payload_type=111), pub.stats],
        "producer": [
            producer.pause,
            producer.resume,
            producer.stats,
            producer.request_keyframe,
            lambda: sub.consume(producer),
        ],
        "consumer": [consumer.pause, consumer.resume, consumer.stats, lambda: consumer.switch(producer)],
    }
    # what hangs from the closed object is closed with it
    closed = {
        "router": calls.keys(),
        "pub": ["pub", "producer", "consumer"],
        "producer": ["producer", "consumer"],
        "consumer": ["consumer"],
    }[closing]
    for name in closed:
        for call in calls[name]:
            with pytest.raises(ClosedError, match="closed"):
                call()
    assert engine.version == version


async def test_a_closed_engine_refuses_every_call() -> None:
    engine = Engine(host="127.0.0.1", port=0)
    router, pub, _, producer, consumer = tree(engine)
    engine.close()
    for call in (
        engine.create_router,
        producer.pause,
        consumer.resume,
        pub.stats,
        lambda: router.create_plain_transport(remote=("127.0.0.1", 40303)),
    ):
        with pytest.raises(ClosedError, match="closed"):
            call()
    router.close()  # nothing left to remove: the engine freed it all
    assert engine.allocations()["blocks"] == 0


class RefusingCore:
    """The engine's core, except that it refuses every gate change."""

    def __init__(self, core) -> None:
        self.core = core

    def __getattr__(self, name: str):
        return getattr(self.core, name)

    def set_producer_paused(self, pid: int, paused: bool) -> bool:
        raise KeyError(f"no producer {pid}")

    def set_consumer_paused(self, cid: int, paused: bool) -> bool:
        raise KeyError(f"no consumer {cid}")


async def test_gates_bump_the_version_and_follow_the_core(engine: Engine, monkeypatch) -> None:
    _, _, _, producer, consumer = tree(engine)
    version = engine.version
    producer.pause()
    consumer.pause()
    assert producer.paused and consumer.paused and engine.version == version + 2
    assert producer.stats()["paused"] and consumer.stats()["paused"]
    producer.resume()
    consumer.resume()
    assert not producer.paused and not consumer.paused and engine.version == version + 4
    monkeypatch.setattr(engine, "_core", RefusingCore(engine._core))
    for gated in (producer, consumer):
        with pytest.raises(KeyError):
            gated.pause()
        assert not gated.paused
    assert engine.version == version + 4
    monkeypatch.undo()


async def test_close_order_and_allocations(engine: Engine, peers) -> None:
    before = engine.allocations()
    router = engine.create_router()
    pub = router.create_plain_transport(remote=peers().address)
    producers = [pub.produce(kind="video", ssrc=100 + i, payload_type=96) for i in range(40)]
    subs = [router.create_plain_transport(remote=peers().address) for _ in range(10)]
    consumers = [s.consume(p) for s in subs for p in producers]
    grown = engine.allocations()
    assert grown["consumers"] == 400 and grown["blocks"] > before["blocks"]
    consumers[0].close()
    producers[0].close()  # closes its consumers
    assert all(c.closed for c in consumers if c.producer is producers[0])
    assert engine.allocations()["consumers"] == 400 - 10
    subs[0].close()
    assert engine.allocations()["consumers"] == 400 - 10 - 39
    router.close()
    assert engine.allocations() == before
    assert engine.stats()["transports"] == 0


async def test_sends_never_reach_closed_objects(engine: Engine, peers) -> None:
    router = engine.create_router()
    pub, sub = peers(), peers()
    producer = router.create_plain_transport(remote=pub.address).produce(kind="audio", ssrc=3, payload_type=111)
    consumer = router.create_plain_transport(remote=sub.address).consume(producer)
    consumer.close()
    pub.send(rtp(1, 1, 3, pt=111))
    await asyncio.sleep(0.05)
    assert await sub.receive() == []
    assert producer.stats()["packets_in"] == 1 and producer.stats()["consumers"] == 0
