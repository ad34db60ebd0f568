"""What the engine tells about bandwidth (engine/bitrates.pxi), in one pass in C per tick: video
producers' bitrates and subscriber transports' estimates, each only when it moved by more than
BW_CHANGE_PERCENT (10 %) since it was last told (a producer also when it fell silent or came
back); and, end to end on loopback, a producer's bitrate
measured from the media packets it sent. The clock is frozen so that each pass's interval is exact."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable

from engine_wire import remb, rtp

from engine import Engine, _testing
from engine.events import ProducerBitrateChanged, TransportEstimateChanged
from engine.rtp import RtpPacket, serialize_rtp

PUBLISHER = ("127.0.0.1", 5004)
SUBSCRIBER = ("127.0.0.1", 5006)
SECOND = 1_000_000


def sender(engine: Engine, ssrc: int) -> Callable[[int], None]:
    """Injects n media packets of 1,250 bytes (10,000 bits each) from the publisher's address."""
    numbers = itertools.count()

    def send(n: int) -> None:
        for _ in range(n):
            seq = next(numbers)
            _testing.inject(engine._core, rtp(seq, seq * 3000, ssrc, payload=bytes(1238)), *PUBLISHER)

    return send


def publishing_a_camera(engine: Engine):
    """(core, router, the publisher's transport, its camera producer, SSRC 4242), the bandwidth
    tick stopped: the test passes by hand."""
    engine._bandwidth_timer.cancel()
    router = engine.create_router()
    transport = router.create_plain_transport(remote=PUBLISHER)
    return engine._core, router, transport, transport.produce(kind="video", ssrc=4242, payload_type=96)


async def test_a_bitrate_is_told_from_the_second_pass_on_and_again_only_when_it_moved(engine: Engine) -> None:
    core, router, transport, camera = publishing_a_camera(engine)
    transport.produce(kind="audio", ssrc=4243, payload_type=111)  # never reported
    send = sender(engine, 4242)
    _testing.set_clock(core, 10 * SECOND)
    send(1)
    assert core.bandwidth_report() == ([], [])  # a first sample: no rate yet
    _testing.set_clock(core, 11 * SECOND)
    send(100)
    assert core.bandwidth_report() == ([(router.id, camera.id, 1_000_000, False)], [])
    _testing.set_clock(core, 12 * SECOND)
    send(100)
    assert core.bandwidth_report() == ([], [])  # the same rate
    _testing.set_clock(core, 13 * SECOND)
    send(50)  # half the rate for a second: smoothed to 750 kbit/s, which moved by more than 10 %
    assert core.bandwidth_report() == ([(router.id, camera.id, 750_000, False)], [])
    _testing.set_clock(core, 13 * SECOND + SECOND // 2)
    send(40)  # 800 kbit/s over half a second: smoothed to 775 kbit/s, within 10 % of what was told
    assert core.bandwidth_report() == ([], [])
    assert core.bandwidth_report() == ([], [])  # the clock did not advance: no rate
    _testing.set_clock(core, 14 * SECOND + SECOND // 2)
    # a second without media: the bitrate decays, not silent yet (a loaded publisher's slow second)
    assert core.bandwidth_report() == ([(router.id, camera.id, 387_500, False)], [])
    _testing.set_clock(core, 15 * SECOND + SECOND // 2)
    # two: silent (a simulcast layer its browser stopped), told with the bitrate halved again
    assert core.bandwidth_report() == ([(router.id, camera.id, 193_750, True)], [])
    _testing.set_clock(core, 16 * SECOND + SECOND // 2)
    send(19)  # media again, at about the bitrate told: told all the same, as no longer silent
    assert core.bandwidth_report() == ([(router.id, camera.id, 191_875, False)], [])
    # a producer closed and made again starts over: a first sample
    camera.close()
    again = transport.produce(kind="video", ssrc=4242, payload_type=96)
    send(10)
    assert core.bandwidth_report() == ([], [])
    _testing.set_clock(core, 17 * SECOND + SECOND // 2)
    send(10)
    assert core.bandwidth_report() == ([(router.id, again.id, 100_000, False)], [])


async def test_after_a_retell_the_next_pass_tells_every_bitrate_and_silence_moved_or_not(engine: Engine) -> None:
    core, router, transport, camera = publishing_a_camera(engine)
    layer = transport.produce(kind="video", ssrc=4244, payload_type=96)  # a layer never sent
    send = sender(engine, 4242)
    told = []
    for second in range(10, 16):
        _testing.set_clock(core, second * SECOND)
        send(100)
        told.append(core.bandwidth_report())
    assert any((router.id, layer.id, 0, True) in bitrates for bitrates, _ in told)
    assert told[-1] == told[-2] == ([], [])  # steady, and the silent layer told so once, not every pass
    engine.retell_bandwidth()  # a control plane connected: it knows none of that
    _testing.set_clock(core, 16 * SECOND)
    send(100)
    bitrates, _ = core.bandwidth_report()
    assert sorted(bitrates) == sorted([(router.id, camera.id, 1_000_000, False), (router.id, layer.id, 0, True)])
    _testing.set_clock(core, 17 * SECOND)
    send(100)
    assert core.bandwidth_report() == ([], [])  # told once


async def test_an_estimate_is_told_when_known_and_moved_and_only_for_a_transport_that_consumes(
    engine: Engine,
) -> None:
    engine._bandwidth_timer.cancel()
    core = engine._core
    _testing.set_clock(core, 10 * SECOND)
    router = engine.create_router()
    camera = router.create_plain_transport(remote=PUBLISHER).produce(kind="video", ssrc=4242, payload_type=96)
    subscriber = router.create_plain_transport(remote=SUBSCRIBER)
    pipe = router.create_plain_transport(remote=("127.0.0.1", 5008), pipe=True)

    def estimates() -> list[tuple[int, int, int]]:
        return core.bandwidth_report()[1]

    def told(bitrate_exp: int, mantissa: int, at: tuple[str, int] = SUBSCRIBER) -> None:
        """A REMB from `at`: what its receiver estimates (mantissa << exp bit/s)."""
        _testing.inject(core, remb(0x50000001, bitrate_exp, mantissa, [1]), *at)

    told(1, 150_000)  # 300 kbit/s, but the transport consumes nothing yet
    assert estimates() == []
    consumer = subscriber.consume(camera)
    pipe.consume(camera)
    told(1, 150_000, ("127.0.0.1", 5008))  # a pipe's estimate is never told
    assert subscriber.stats()["estimate_source"] == "remb" and pipe.stats()["estimate_source"] == "remb"
    assert estimates() == [(router.id, subscriber.id, 300_000)]
    told(1, 160_000)  # 320 kbit/s: within 10 %
    assert estimates() == []
    told(3, 250_000)  # 2 Mbit/s
    [(_, _, two)] = estimates()
    assert two == subscriber.stats()["estimate_bps"] > 320_000
    assert estimates() == []
    consumer.close()  # no consumer: what was told is forgotten, and told again once it consumes
    assert estimates() == []
    subscriber.consume(camera)
    assert estimates() == [(router.id, subscriber.id, two)]


async def test_one_pass_reports_every_routers_moves_and_nothing_for_steady_media(engine: Engine) -> None:
    engine._bandwidth_timer.cancel()
    core = engine._core
    events: list[object] = []
    engine.on_event = events.append
    _testing.set_clock(core, 10 * SECOND)
    meetings = []
    for i in range(50):
        router = engine.create_router()
        address = ("127.0.0.1", 6000 + i)
        camera = router.create_plain_transport(remote=address).produce(kind="video", ssrc=100 + i, payload_type=96)
        meetings.append((router, camera, address))

    def send_second() -> None:
        for _, camera, address in meetings:
            for seq in range(10):
                _testing.inject(core, rtp(seq, 0, camera.ssrc, payload=bytes(1238)), *address)

    send_second()
    engine._bandwidth_tick()
    engine._bandwidth_timer.cancel()
    assert events == []  # first samples
    for second in (11, 12, 13):
        _testing.set_clock(core, second * SECOND)
        send_second()
        engine._bandwidth_tick()
        engine._bandwidth_timer.cancel()
    # each meeting told once, by the one pass after its first second; steady since: nothing
    assert sorted(events, key=lambda e: e.router_id) == [  # type: ignore[attr-defined]
        ProducerBitrateChanged(router.id, camera.id, 100_000) for router, camera, _ in meetings
    ]


async def test_a_video_producers_bitrate_is_reported_from_what_it_received(engine: Engine, peers) -> None:  # type: ignore[no-untyped-def]
    engine._bandwidth_timer.cancel()  # the test decides when the engine reports
    events: list[object] = []
    engine.on_event = events.append
    router = engine.create_router()
    peer = peers()
    transport = router.create_plain_transport(remote=peer.address)
    producer = transport.produce(kind="video", ssrc=4242, payload_type=96)
    _testing.set_clock(engine._core, 10 * SECOND)
    engine._bandwidth_tick()  # a first sample
    engine._bandwidth_timer.cancel()
    payload = bytes(1000)
    for seq in range(100):  # 100 packets of 1,012 bytes
        peer.send(
            serialize_rtp(RtpPacket(payload_type=96, sequence=seq, timestamp=seq * 3000, ssrc=4242, payload=payload))
        )
    for seq in range(100, 110):  # padding-only packets (a publisher probing its link): not media
        peer.send(serialize_rtp(RtpPacket(payload_type=96, sequence=seq, timestamp=0, ssrc=4242, payload=b"")))
    for _ in range(50):
        await asyncio.sleep(0.01)
        if engine._core.producer_stats(producer.id)["packets_in"] == 110:
            break
    _testing.set_clock(engine._core, 11 * SECOND)
    engine._bandwidth_tick()
    engine._bandwidth_timer.cancel()
    assert events == [ProducerBitrateChanged(router.id, producer.id, 100 * 1012 * 8)]
    assert producer.stats()["media_bytes_in"] == 100 * 1012
    assert not any(isinstance(e, TransportEstimateChanged) for e in events)
