"""Simulcast layer switches in the engine (engine/simulcast.pxi): each layer is a producer; a
consumer switched `at_keyframe` keeps forwarding its current layer until the target layer's next
keyframe, which the engine asks for (and asks again while it waits), then forwards the target with
its sequence numbers and timestamps running on."""

from __future__ import annotations

import asyncio

from engine_wire import is_rtcp, rtp, split_rtcp

from engine import Engine, _testing

LOW, HIGH = 0x1000, 0x2000
KEY = b"\x10\x00" + b"\x11" * 60  # VP8: start of partition 0, P=0
DELTA = b"\x10\x01" + b"\x22" * 60


async def plis_at(peer) -> list[int]:
    """Media SSRCs of the PLIs the peer received."""
    out = []
    for data in await peer.receive():
        if is_rtcp(data):
            out += [int.from_bytes(b[8:12], "big") for t, f, b in split_rtcp(data) if (t, f) == (206, 1)]
    return out


async def layers(engine: Engine, peers, codec: str = "vp8"):
    router = engine.create_router()
    pub, sub = peers(), peers()
    transport = router.create_plain_transport(remote=pub.address)
    low = transport.produce(kind="video", ssrc=LOW, payload_type=96, codec=codec)
    high = transport.produce(kind="video", ssrc=HIGH, payload_type=96, codec=codec)
    consumer = router.create_plain_transport(remote=sub.address).consume(low, ssrc=0xC0)
    await pub.receive()
    return pub, sub, low, high, consumer


def send(pub, ssrc: int, seq: int, payload: bytes) -> None:
    pub.send(rtp(seq, seq * 3000 + (7_000_000 if ssrc == HIGH else 0), ssrc, payload=payload))


async def test_a_switch_waits_for_the_target_keyframe(engine: Engine, peers) -> None:
    pub, sub, low, high, consumer = await layers(engine, peers)
    for seq in range(10, 13):
        send(pub, LOW, seq, DELTA)
    before = await sub.receive_rtp(3)
    consumer.switch(high, at_keyframe=True)
    assert await plis_at(pub) == [HIGH]  # a keyframe asked of the target layer
    assert consumer.stats()["pending_producer"] == high.id and consumer.producer is high
    # until the high layer's keyframe: low forwarded, high not
    send(pub, HIGH, 500, DELTA)
    send(pub, LOW, 13, DELTA)
    (out,) = await sub.receive_rtp(1)
    assert out.payload == DELTA and out.seq == before[-1].seq + 1
    assert await sub.receive() == []
    send(pub, HIGH, 501, KEY)
    send(pub, LOW, 14, DELTA)
    send(pub, HIGH, 502, DELTA)
    out = await sub.receive_rtp(2)
    assert [p.payload for p in out] == [KEY, DELTA]
    assert [p.seq for p in out] == [before[-1].seq + 2, before[-1].seq + 3]  # continuous
    assert all(p.ssrc == 0xC0 for p in out) and out[0].ts > before[-1].ts  # never back
    assert out[1].ts - out[0].ts == 3000  # the high layer's own spacing
    stats = consumer.stats()
    assert stats["layer_switches"] == 1 and stats["pending_producer"] is None
    assert engine.stats()["layer_switches"] == 1
    assert await sub.receive() == []  # the low layer is no longer forwarded


async def test_the_keyframe_is_asked_again_while_the_consumer_waits(engine: Engine, peers) -> None:
    pub, sub, low, high, consumer = await layers(engine, peers)
    _testing.set_keyframe_interval_ms(engine._core, 50)
    send(pub, LOW, 1, DELTA)
    await sub.receive_rtp(1)
    consumer.switch(high, at_keyframe=True)
    assert await plis_at(pub) == [HIGH]
    await asyncio.sleep(0.08)
    send(pub, HIGH, 2, DELTA)  # the first keyframe was missed: asked again, once per interval
    send(pub, HIGH, 3, DELTA)
    assert await plis_at(pub) == [HIGH]
    assert await sub.receive() == []


async def test_switching_back_before_the_keyframe_cancels(engine: Engine, peers) -> None:
    pub, sub, low, high, consumer = await layers(engine, peers)
    send(pub, LOW, 1, DELTA)
    await sub.receive_rtp(1)
    consumer.switch(high, at_keyframe=True)
    consumer.switch(low, at_keyframe=True)
    assert consumer.stats()["pending_producer"] is None and high.stats()["consumers"] == 0
    send(pub, HIGH, 2, KEY)
    send(pub, LOW, 2, DELTA)
    (out,) = await sub.receive_rtp(1)
    assert out.payload == DELTA and consumer.stats()["layer_switches"] == 0


async def test_the_old_layer_closing_meanwhile_leaves_the_switch_pending(engine: Engine, peers) -> None:
    pub, sub, low, high, consumer = await layers(engine, peers)
    send(pub, LOW, 1, DELTA)
    await sub.receive_rtp(1)
    consumer.switch(high, at_keyframe=True)
    low.close()
    assert not consumer.closed
    send(pub, HIGH, 2, DELTA)
    send(pub, HIGH, 3, KEY)
    (out,) = await sub.receive_rtp(1)
    assert out.payload == KEY
    consumer.close()


async def test_closing_the_target_closes_the_consumer(engine: Engine, peers) -> None:
    pub, sub, low, high, consumer = await layers(engine, peers)
    consumer.switch(high, at_keyframe=True)
    high.close()
    assert consumer.closed and low.stats()["consumers"] == 0


async def test_without_a_known_codec_the_switch_is_at_the_next_packet(engine: Engine, peers) -> None:
    router = engine.create_router()
    pub, sub = peers(), peers()
    transport = router.create_plain_transport(remote=pub.address)
    low = transport.produce(kind="video", ssrc=LOW, payload_type=96)
    high = transport.produce(kind="video", ssrc=HIGH, payload_type=96)
    consumer = router.create_plain_transport(remote=sub.address).consume(low)
    assert high.stats()["codec"] == "other"
    consumer.switch(high, at_keyframe=True)
    send(pub, HIGH, 9, DELTA)
    (out,) = await sub.receive_rtp(1)
    assert out.payload == DELTA and consumer.stats()["layer_switches"] == 1
