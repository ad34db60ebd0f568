"""The engine's periodic work per router (the speaker tick, REMB announcements) costs a meeting with
nothing to do nothing. The bandwidth tick is one pass in C (tests/engine/test_bandwidth_reports.py)."""

from __future__ import annotations

import asyncio

from engine import Engine
from engine.events import DominantSpeakerChanged
from engine.rtp import RtpPacket, serialize_rtp


def audio(seq: int, level: int, ssrc: int) -> bytes:
    """An audio packet with its RFC 6464 level in extension id 1."""
    packet = RtpPacket(111, False, seq, 960 * seq, ssrc, extension_profile=0xBEDE, extensions=[(1, bytes([level]))])
    packet.payload = bytes(50)
    return serialize_rtp(packet)


async def test_the_router_counts_its_open_audio_producers(engine: Engine) -> None:
    router = engine.create_router()
    a = router.create_plain_transport(remote=("127.0.0.1", 9))
    b = router.create_plain_transport(remote=("127.0.0.1", 10))
    mic = a.produce(kind="audio", ssrc=1, payload_type=111)
    a.produce(kind="video", ssrc=2, payload_type=96)
    b.produce(kind="audio", ssrc=3, payload_type=111)
    assert router.audio_producers == 2
    mic.close()
    mic.close()  # again: nothing more to count
    assert router.audio_producers == 1
    b.close()  # its producers close with it
    assert router.audio_producers == 0


async def test_a_router_without_audio_skips_the_speaker_tick_but_still_undoes_a_speaker(engine: Engine, peers) -> None:  # type: ignore[no-untyped-def]
    engine._speaker_timer.cancel()  # the test decides when the router decides
    events: list[object] = []
    engine.on_event = events.append
    quiet = engine.create_router()
    quiet.create_plain_transport(remote=("127.0.0.1", 9)).produce(kind="video", ssrc=5, payload_type=96)
    decided: list[int] = []
    original = type(quiet)._decide_speaker

    def counting(router, now, elapsed, spans=None):  # type: ignore[no-untyped-def]
        decided.append(router.id)
        original(router, now, elapsed, spans)

    type(quiet)._decide_speaker = counting  # type: ignore[method-assign]
    try:
        engine._speaker_tick()
        engine._speaker_timer.cancel()
    finally:
        type(quiet)._decide_speaker = original  # type: ignore[method-assign]
    assert decided == [] and events == [] and quiet.speaker_quiet

    router = engine.create_router()
    peer = peers()
    transport = router.create_plain_transport(remote=peer.address)
    transport.set_header_extensions(audio_level=1)
    mic = transport.produce(kind="audio", ssrc=1, payload_type=111)
    assert router.audio_producers == 1  # the tick asks it, quiet or not
    for tick in range(5):
        for i in range(10):
            peer.send(audio(tick * 10 + i, 10, ssrc=1))
        await asyncio.sleep(0.05)
        router._decide_speaker(0.0, 0.2)
    assert router.speaker.dominant == mic.id
    mic.close()  # the last audio producer: the next tick still runs, and tells that nobody speaks
    router._decide_speaker(0.0, 0.2)
    assert router.speaker.dominant is None and events[-1] == DominantSpeakerChanged(router.id, None)
    assert router.speaker_quiet  # now nothing to undo: the next ticks skip it
    router._decide_speaker(0.0, 0.2)
    assert events[-1] == DominantSpeakerChanged(router.id, None) and len(events) == 2


class RembSpy:
    """The core, with the REMBs it is asked to send recorded instead of sent."""

    def __init__(self, core) -> None:  # type: ignore[no-untyped-def]
        self._core = core
        self.sent: list[tuple[int, int, list[int]]] = []

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self._core, name)

    def send_remb(self, tid: int, bitrate: int, ssrcs: list[int]) -> bool:
        self.sent.append((tid, bitrate, ssrcs))
        return True


async def test_the_remb_timer_announces_to_the_open_webrtc_transports_that_publish_video(
    engine: Engine, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    engine._remb_timer.cancel()  # the test ticks by hand
    router = engine.create_router()
    camera = router.create_webrtc_transport()
    camera.produce(kind="video", ssrc=0x10, payload_type=96)
    microphone = router.create_webrtc_transport()
    microphone.produce(kind="audio", ssrc=0x20, payload_type=111)
    router.create_plain_transport(remote=("127.0.0.1", 40310)).produce(kind="video", ssrc=0x30, payload_type=96)
    spy = RembSpy(engine._core)
    monkeypatch.setattr(engine, "_core", spy)
    engine._announce_bitrate()
    engine._remb_timer.cancel()
    assert spy.sent == [(camera.id, engine.publisher_bitrate, [0x10])]
    spy.sent.clear()
    camera.close()
    engine._announce_bitrate()
    engine._remb_timer.cancel()
    assert spy.sent == [] and engine._announcing == {microphone}
