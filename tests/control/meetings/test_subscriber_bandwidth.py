"""The layers each subscriber's link allows (control.meetings.bandwidth): engine estimates and layer
bitrates become caps per consumer, and a capped consumer chooses its layer again (never pausing)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from control.domain.meeting_state import MeetingState, Participant, RoomFeatures
from control.domain.roles import ALL_CAPABILITIES, Role, Source
from control.engines import EngineEvent
from control.meetings.bandwidth import BITRATE, ESTIMATE, SubscriberBandwidth
from control.meetings.live import LiveMeeting
from control.meetings.media import Media
from control.meetings.media_records import MediaRecords
from control.meetings.sdp import CodecParameters, ConnectWebRtcTransport, Encoding, HeaderExtensionIds, Produce

CONNECT = ConnectWebRtcTransport("server", (("sha-256", "AA"),), "u", "p")
VP8 = CodecParameters(96, "video/VP8", 90000, rtx_payload_type=97)
OPUS = CodecParameters(111, "audio/opus", 48000, 2)
LAYERS = ("a.camera.1", "a.camera.1.l1", "a.camera.1.l2")


def person(pid: str, **kw: Any) -> Participant:
    return Participant(pid, "u:" + pid, True, capabilities=ALL_CAPABILITIES, **kw)


def meeting() -> tuple[LiveMeeting, SubscriberBandwidth, list[Any]]:
    on = frozenset({Source.CAMERA, Source.MICROPHONE})
    state = MeetingState(RoomFeatures(), (person("a", role=Role.ORGANIZER, sources_on=on), person("b"), person("c")))
    media = Media("m", "w", [("sha-256", "BB")], [("127.0.0.1", 4000)])
    camera = Produce("0", "video", (VP8,), tuple(Encoding(rid=r) for r in "qhf"), HeaderExtensionIds(mid=4, rid=10))
    mic = Produce("1", "audio", (OPUS,), (Encoding(ssrc=5),), HeaderExtensionIds(mid=4))
    _, records, _ = media.publish(MediaRecords(), "a", CONNECT, [(camera, Source.CAMERA), (mic, Source.MICROPHONE)])
    _, records = media.reconcile(records, state)
    for pid in ("b", "c"):
        consumer = next(s.consumer_id for s in records.peers[pid].subscriptions if s.kind == "video")
        _, records = media.view(records, state, pid, consumer, 1280, 720)
    media.records = records
    live = LiveMeeting("m", "room", "company", state, media)
    spawned: list[Any] = []
    service = SimpleNamespace(live={"m": live}, spawn=spawned.append, speakers=SimpleNamespace(current={}))
    return live, SubscriberBandwidth(service), spawned  # type: ignore[arg-type]


def estimate(transport: str, bps: object, router: str = "m") -> EngineEvent:
    data = {"router_id": router, "transport_id": transport, "estimate_bps": bps}
    return EngineEvent("w", ESTIMATE, data)


def bitrate(producer: str, bps: int, silent: bool = False) -> EngineEvent:
    data = {"router_id": "m", "producer_id": producer, "bitrate_bps": bps, "silent": silent}
    return EngineEvent("w", BITRATE, data)


def video(live: LiveMeeting, pid: str) -> str:
    return next(s.consumer_id for s in live.media.peers[pid].subscriptions if s.kind == "video")


def apply(live: LiveMeeting, bandwidth: SubscriberBandwidth) -> None:
    """What Publishing.budget does once the engine acked (the commit is tested end to end)."""
    live.media.caps = bandwidth.caps(live)
    _, live.media.records = live.media.choose_again(live.media.records, live.state, None, lambda s: True)


def layer(live: LiveMeeting, pid: str) -> tuple[int, bool]:
    s = next(s for s in live.media.peers[pid].subscriptions if s.kind == "video")
    return s.layer, s.paused


async def test_a_subscriber_on_a_slow_link_gets_the_lowest_layer_and_the_other_the_top() -> None:
    live, bandwidth, spawned = meeting()
    for producer, bps in zip(LAYERS, (150_000, 500_000, 1_500_000)):
        bandwidth.on_registry_event(bitrate(producer, bps))
    bandwidth.on_registry_event(estimate("b.sub", 300_000))
    bandwidth.on_registry_event(estimate("c.sub", 5_000_000))
    assert len(spawned) == 1  # one decision for the tick's events
    for coroutine in spawned:
        coroutine.close()
    assert bandwidth.caps(live) == {video(live, "b"): 0, video(live, "c"): 2}
    apply(live, bandwidth)
    assert layer(live, "b") == (0, False) and layer(live, "c") == (2, False)
    # b's link gets worse than its lowest layer (and its audio): still the lowest, never paused;
    # then better: the top
    bandwidth.on_registry_event(estimate("b.sub", 100_000))
    apply(live, bandwidth)
    assert layer(live, "b") == (0, False)
    bandwidth.on_registry_event(estimate("b.sub", 4_000_000))
    apply(live, bandwidth)
    assert layer(live, "b") == (2, False)
    for coroutine in spawned:
        coroutine.close()


async def test_without_an_estimate_the_tile_alone_decides_and_bad_events_are_ignored() -> None:
    live, bandwidth, spawned = meeting()
    bandwidth.on_registry_event(estimate("b.sub", -5))
    bandwidth.on_registry_event(estimate("b.sub", "fast"))
    bandwidth.on_registry_event(estimate("b.sub", 300_000, router="other"))
    bandwidth.on_registry_event(EngineEvent("w", "transport_state_changed", {"router_id": "m"}))
    assert spawned == [] and bandwidth.caps(live) == {}
    apply(live, bandwidth)
    assert layer(live, "b") == (2, False)
    bandwidth.on_registry_event(estimate("b.sub", 300_000))
    bandwidth.forget("m")
    assert bandwidth.caps(live) == {}
    for coroutine in spawned:
        coroutine.close()


async def test_a_layer_told_silent_is_not_forwarded_until_it_is_sent_again() -> None:
    live, bandwidth, spawned = meeting()
    for producer, bps in zip(LAYERS, (150_000, 500_000, 1_500_000)):
        bandwidth.on_registry_event(bitrate(producer, bps))
    assert bandwidth.silent("m") == frozenset()
    bandwidth.on_registry_event(bitrate(LAYERS[2], 750_000, silent=True))  # its browser stopped the top layer
    assert bandwidth.silent("m") == {LAYERS[2]} and bandwidth.silent("other") == frozenset()
    live.media.silent = bandwidth.silent("m")
    apply(live, bandwidth)
    assert layer(live, "b") == (1, False) and layer(live, "c") == (1, False)
    assert {s.wanted_layer for p in "bc" for s in live.media.peers[p].subscriptions if s.kind == "video"} == {2}
    bandwidth.on_registry_event(bitrate(LAYERS[2], 900_000))
    live.media.silent = bandwidth.silent("m")
    apply(live, bandwidth)
    assert layer(live, "b") == (2, False) and layer(live, "c") == (2, False)
    for coroutine in spawned:
        coroutine.close()
