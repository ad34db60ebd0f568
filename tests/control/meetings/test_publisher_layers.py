"""The control plane tells a simulcast publisher which layers somebody consumes (a `layers` frame,
control.meetings.encodings): only on a change, a layer turned on before a consumer's switch to it
waits on it, turned off a hold after the last consumer left it."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest

from control.domain.encodings import HOLD_S
from control.domain.meeting_state import MeetingState, Participant, RoomFeatures
from control.domain.roles import ALL_CAPABILITIES, Role, Source
from control.meetings.encodings import PublisherLayers
from control.meetings.live import Link, LiveMeeting
from control.meetings.media import Media
from control.meetings.media_records import MediaRecords
from control.meetings.sdp import CodecParameters, ConnectWebRtcTransport, Encoding, HeaderExtensionIds, Produce

CONNECT = ConnectWebRtcTransport("server", (("sha-256", "AA"),), "u", "p")
VP8 = CodecParameters(96, "video/VP8", 90000, rtx_payload_type=97)


def person(pid: str, **kw: Any) -> Participant:
    return Participant(pid, "u:" + pid, True, capabilities=ALL_CAPABILITIES, **kw)


class Clock:
    now = 100.0

    def __call__(self) -> float:
        return self.now


def meeting(rids: tuple[str, ...] = ("q", "h", "f")) -> tuple[LiveMeeting, list[dict[str, Any]]]:
    state = MeetingState(
        RoomFeatures(),
        (person("a", role=Role.ORGANIZER, sources_on=frozenset({Source.CAMERA})), person("b"), person("c")),
    )
    media = Media("m", "w", [("sha-256", "BB")], [("127.0.0.1", 4000)])
    camera = Produce("0", "video", (VP8,), tuple(Encoding(rid=r) for r in rids), HeaderExtensionIds(mid=4, rid=10))
    _, records, _ = media.publish(MediaRecords(), "a", CONNECT, [(camera, Source.CAMERA)])
    media.records = records
    live = LiveMeeting("m", "room", "company", state, media)
    sent: list[dict[str, Any]] = []

    async def close(code: int, reason: str) -> None:
        return None

    live.links["a"] = Link(sent.append, close)
    return live, sent


def consume(live: LiveMeeting) -> None:
    _, live.media.records = live.media.reconcile(live.media.records, live.state)


def view(live: LiveMeeting, pid: str, consumer: str, width: int, height: int) -> None:
    _, live.media.records = live.media.view(live.media.records, live.state, pid, consumer, width, height)


async def test_layers_follow_the_consumers_views() -> None:
    live, sent = meeting()
    clock = Clock()
    layers = PublisherLayers(clock)
    layers.changed(live)  # published, nobody consumes yet: every layer stays on for the hold
    assert sent == []
    consume(live)  # b and c consume the top layer
    layers.changed(live)
    assert sent == []
    clock.now += HOLD_S
    layers.changed(live)  # (the timer's call) nobody wants q and h
    assert sent == [{"type": "layers", "source": "camera", "active": [2]}]
    # b shows a small tile: q is turned on at once, before the switch finds it
    view(live, "b", "b.c1", 320, 180)
    layers.changed(live)
    assert sent[-1] == {"type": "layers", "source": "camera", "active": [0, 2]}
    # c hides its tile too: f stays on for the hold (c's consumer pauses, b's switch away is pending)
    view(live, "c", "c.c1", 0, 0)
    clock.now += 1
    layers.changed(live)
    assert len(sent) == 2
    assert layers.timers["m"].when() > 0
    clock.now += HOLD_S
    layers.changed(live)
    assert sent[-1] == {"type": "layers", "source": "camera", "active": [0]}
    # nothing changed: nothing told
    layers.changed(live)
    assert len(sent) == 3
    # b enlarges its tile: f comes back at once
    view(live, "b", "b.c1", 1280, 720)
    layers.changed(live)
    assert sent[-1] == {"type": "layers", "source": "camera", "active": [0, 2]}
    # a resumed publisher (frames sent while it had no socket were lost) is told again
    layers.greet(live, "a")
    assert sent[-1] == sent[-2]
    layers.greet(live, "b")  # publishes nothing
    assert len(sent) == 5
    layers.forget("m")
    assert "m" not in layers.timers and "m" not in layers.demands
    layers.greet(live, "a")  # a meeting forgotten: nothing
    assert len(sent) == 5


async def test_tracks_without_simulcast_are_never_told() -> None:
    live, sent = meeting(rids=("f",))
    clock = Clock()
    layers = PublisherLayers(clock)
    consume(live)
    layers.changed(live)
    clock.now += 2 * HOLD_S
    layers.changed(live)
    layers.greet(live, "a")
    assert sent == [] and "m" not in layers.timers


async def test_a_greeted_publisher_on_every_layer_is_not_told() -> None:
    live, sent = meeting()
    layers = PublisherLayers(Clock())
    consume(live)
    layers.changed(live)
    layers.greet(live, "a")
    assert sent == []
    layers.forget("m")


async def test_the_hold_timer_decides_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("control.meetings.encodings.next_check", lambda demand, now: now)  # expires at once
    live, sent = meeting()
    layers = PublisherLayers(Clock())
    calls: list[LiveMeeting] = []
    real = layers.changed
    layers.changed = lambda lv: (calls.append(lv), real(lv) if len(calls) < 3 else None)  # type: ignore[method-assign]
    layers.changed(live)
    for _ in range(5):
        await asyncio.sleep(0)
    assert len(calls) >= 2
    layers.forget("m")


async def test_a_recorded_track_keeps_its_top_layer_which_the_recorder_consumes() -> None:
    """The recorder records a simulcast camera's top layer: it stays encoded while recorded, even with
    every subscriber on a small tile (before, the recorder took the lowest layer, which the publisher
    stops encoding once nobody shows it, and the recording had no camera file)."""
    live, sent = meeting()
    clock = Clock()
    layers = PublisherLayers(clock)
    consume(live)
    view(live, "b", "b.c1", 320, 180)
    view(live, "c", "c.c1", 320, 180)
    live.state = replace(live.state, recording=True)
    live.media.recorder_address = ("127.0.0.1", 9)
    ops_, live.media.records = live.media.reconcile(live.media.records, live.state)
    [feed_consumer] = live.media.records.recorder.consumers  # type: ignore[union-attr]
    [camera] = live.media.peers["a"].publications.values()
    assert feed_consumer.engine_producer == camera.layer_ids[-1]
    assert [op.to_wire() for op in ops_ if op.name == "request_keyframe"] == [
        {"op": "request_keyframe", "id": camera.layer_ids[-1]}
    ]
    layers.changed(live)
    clock.now += HOLD_S
    layers.changed(live)
    assert sent[-1] == {"type": "layers", "source": "camera", "active": [0, 2]}
    # the recording stops: nobody wants the top layer any more
    live.state = replace(live.state, recording=False)
    _, live.media.records = live.media.reconcile(live.media.records, live.state)
    layers.changed(live)
    clock.now += HOLD_S
    layers.changed(live)
    assert sent[-1] == {"type": "layers", "source": "camera", "active": [0]}
    layers.forget("m")


async def test_a_layer_wanted_while_silent_is_still_asked_for() -> None:
    """A consumer forwarding a lower layer because the one its tile wants is silent (turned off while
    nobody wanted it, or stopped by the browser) keeps both on: the one it forwards, and the one it
    wants, to take once it is sent again."""
    live, sent = meeting()
    clock = Clock()
    layers = PublisherLayers(clock)
    live.media.silent = frozenset({live.media.peers["a"].publications[Source.CAMERA].layer_ids[2]})
    consume(live)  # b and c get h instead of the silent f
    assert {s.layer for p in "bc" for s in live.media.peers[p].subscriptions} == {1}
    layers.changed(live)
    clock.now += HOLD_S
    layers.changed(live)
    assert sent == [{"type": "layers", "source": "camera", "active": [1, 2]}]  # h forwarded, f wanted
