"""What the engine tells about bandwidth (engine/bandwidth.py): video producers' bitrates and
transports' estimates, each only when it moved by more than CHANGE; and, end to end on loopback, a
producer's bitrate measured from the media packets it sent."""

from __future__ import annotations

import asyncio

from engine import Engine
from engine.bandwidth import CHANGE, BandwidthReports, moved
from engine.events import ProducerBitrateChanged
from engine.rtp import RtpPacket, serialize_rtp


def test_a_bitrate_is_told_from_the_second_sight_on_and_again_only_when_it_moved() -> None:
    reports = BandwidthReports()
    assert reports.producers([(1, 1_000)], 1.0) == []  # a first sight: no rate yet
    assert reports.producers([(1, 126_000)], 1.0) == [(1, 1_000_000)]  # 125 kB in a second
    assert reports.producers([(1, 251_000)], 1.0) == []  # the same rate
    # half the rate for a second: smoothed to 750 kbit/s, which moved by more than CHANGE
    assert reports.producers([(1, 313_500)], 1.0) == [(1, 750_000)]
    assert reports.producers([(1, 10)], 1.0) == []  # a counter that went back: no rate from it
    assert reports.producers([], 1.0) == []  # gone: forgotten
    assert reports.producers([(1, 500)], 1.0) == []  # seen again: a first sight


def test_an_estimate_is_told_when_known_and_moved() -> None:
    reports = BandwidthReports()
    assert reports.transports([(7, 0)]) == []  # no feedback yet
    assert reports.transports([(7, 300_000)]) == [(7, 300_000)]
    assert reports.transports([(7, 320_000)]) == []
    assert reports.transports([(7, 2_000_000)]) == [(7, 2_000_000)]
    assert reports.transports([]) == []
    assert reports.transports([(7, 2_000_000)]) == [(7, 2_000_000)]  # forgotten, so told again


def test_moved_is_relative() -> None:
    assert moved(None, 0)
    assert not moved(1000, round(1000 * (1 + CHANGE)))
    assert moved(1000, round(1000 * (1 + 2 * CHANGE)))


async def test_a_video_producers_bitrate_is_reported_from_what_it_received(engine: Engine, peers) -> None:  # type: ignore[no-untyped-def]
    engine._bandwidth_timer.cancel()  # the test decides when the router reports
    events: list[object] = []
    engine.on_event = events.append
    router = engine.create_router()
    peer = peers()
    transport = router.create_plain_transport(remote=peer.address)
    producer = transport.produce(kind="video", ssrc=4242, payload_type=96)
    router._report_bandwidth(1.0)  # a first sight
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
    router._report_bandwidth(1.0)
    [event] = [e for e in events if isinstance(e, ProducerBitrateChanged)]
    assert event.router_id == router.id and event.producer_id == producer.id
    assert event.bitrate_bps == 100 * 1012 * 8
