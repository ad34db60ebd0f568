"""Active speaker: the engine's dominant producer becomes an `active-speaker` frame naming its
participant, only for an open microphone, sent once per change, null to those a hidden speaker is
not listed for."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
from typing import Any

from control.domain.meeting_state import MeetingState, Participant, RoomFeatures
from control.domain.roles import ALL_CAPABILITIES, Role, Source
from control.engines import EngineEvent
from control.meetings.errors import MeetingError
from control.meetings.live import Link, LiveMeeting
from control.meetings.media import Media, MediaRecords
from control.meetings.sdp import CodecParameters, ConnectWebRtcTransport, Encoding, HeaderExtensionIds, Produce
from control.meetings.speaker import ActiveSpeakers

CONNECT = ConnectWebRtcTransport("server", (("sha-256", "AA"),), "u", "p")
OPUS = CodecParameters(111, "audio/opus", 48000, 2)


def person(pid: str, **kw: Any) -> Participant:
    return Participant(pid, "u:" + pid, True, capabilities=ALL_CAPABILITIES, **kw)


def meeting() -> tuple[LiveMeeting, dict[str, list[dict[str, Any]]], ActiveSpeakers]:
    state = MeetingState(RoomFeatures(), (person("a", role=Role.ORGANIZER), person("b"), person("c", waiting=True)))
    media = Media("m", "w1", [], [])
    records = MediaRecords()
    for pid, ssrc in (("a", 1), ("b", 2)):
        audio = Produce("0", "audio", (OPUS,), (Encoding(ssrc=ssrc),), HeaderExtensionIds(mid=1, audio_level=2))
        _, records, _ = media.publish(records, pid, CONNECT, [(audio, Source.MICROPHONE)])
        screen = Produce("1", "audio", (OPUS,), (Encoding(ssrc=ssrc + 10),), HeaderExtensionIds(mid=1, audio_level=2))
        _, records, _ = media.publish(records, pid, None, [(screen, Source.SCREEN_AUDIO)])
    _, records = media.reconcile(records, state)
    media.records = records
    live = LiveMeeting("m", "room", "company", state, media)
    sent: dict[str, list[dict[str, Any]]] = {}
    for p in state.participants:
        sent[p.id] = []

        async def close(code: int, reason: str) -> None:
            return None

        live.links[p.id] = Link(sent[p.id].append, close)
    # a change of speaker chooses the cameras' layers again (tested in test_media_simulcast): not here
    service = SimpleNamespace(live={"m": live}, spawn=lambda coroutine: coroutine.close())
    return live, sent, ActiveSpeakers(service)  # type: ignore[arg-type]


def open_microphones(live: LiveMeeting) -> None:
    for peer in live.media.peers.values():
        mic = peer.publications.get(Source.MICROPHONE)
        if mic is not None:
            peer.publications[Source.MICROPHONE] = replace(mic, paused=False)


def changed(producer: str | None, worker: str = "w1", router: str = "m") -> EngineEvent:
    data = {"event": "dominant_speaker_changed", "router_id": router, "producer_id": producer}
    return EngineEvent(worker, "dominant_speaker_changed", data)


def test_the_dominant_microphone_names_its_participant_to_everyone_admitted_once() -> None:
    live, sent, speakers = meeting()
    open_microphones(live)
    speakers.on_registry_event(changed("b.microphone.1"))
    frame = {"type": "active-speaker", "participant": "b"}
    assert sent["a"] == [frame] and sent["b"] == [frame] and sent["c"] == []  # c waits
    speakers.on_registry_event(changed("b.microphone.1"))
    assert len(sent["a"]) == 1  # nothing new to say
    speakers.on_registry_event(changed(None))
    assert sent["a"][-1] == {"type": "active-speaker", "participant": None}


def test_muted_or_revoked_microphones_and_shared_audio_never_speak() -> None:
    live, sent, speakers = meeting()
    # the microphones' gates are closed (muted, or not permitted): no speaker
    speakers.on_registry_event(changed("a.microphone.1"))
    assert sent["b"] == []
    open_microphones(live)
    speakers.on_registry_event(changed("a.screen-audio.2"))
    assert sent["b"] == []
    speakers.on_registry_event(changed("a.microphone.1"))
    assert sent["b"] == [{"type": "active-speaker", "participant": "a"}]
    speakers.on_registry_event(changed("nobody.microphone.9"))
    assert sent["b"][-1]["participant"] is None


def test_events_of_other_workers_or_meetings_are_ignored() -> None:
    live, sent, speakers = meeting()
    open_microphones(live)
    speakers.on_registry_event(changed("a.microphone.1", worker="w2"))
    speakers.on_registry_event(changed("a.microphone.1", router="other"))
    speakers.on_registry_event(EngineEvent("w1", "transport_state_changed", {"router_id": "m"}))
    assert sent["b"] == []


def test_a_hidden_speaker_is_null_to_those_who_do_not_see_them_and_arrivals_are_told() -> None:
    live, sent, speakers = meeting()
    open_microphones(live)
    live.state = live.state.put(replace(live.state.get("b"), hidden=True))
    speakers.on_registry_event(changed("b.microphone.1"))
    assert sent["a"] == [{"type": "active-speaker", "participant": "b"}]  # the organizer moderates
    assert sent["b"] == [{"type": "active-speaker", "participant": "b"}]  # themselves
    live.state = live.state.put(replace(live.state.get("b"), hidden=False))
    live.state = live.state.put(replace(live.state.get("c"), waiting=False))
    speakers.greet(live, "c")
    assert sent["c"] == [{"type": "active-speaker", "participant": "b"}]
    speakers.forget("m")
    speakers.greet(live, "c")
    assert len(sent["c"]) == 1


async def test_a_change_of_speaker_chooses_the_cameras_layers_again() -> None:
    live, _, speakers = meeting()
    open_microphones(live)
    told: list[str | None] = []
    spawned: list[Any] = []

    async def speaking(live_: LiveMeeting, speaker: str | None) -> None:
        told.append(speaker)

    async def refused(live_: LiveMeeting, speaker: str | None) -> None:
        raise MeetingError("the engine refused")

    speakers.service = SimpleNamespace(  # type: ignore[assignment]
        live={"m": live}, spawn=spawned.append, publishing=SimpleNamespace(speaking=speaking)
    )
    speakers.on_registry_event(changed("a.microphone.1"))
    speakers.on_registry_event(changed("a.microphone.1"))  # no change: nothing to choose again
    speakers.on_registry_event(changed(None))
    for coroutine in spawned:
        await coroutine
    assert told == ["a", None]
    speakers.service.publishing.speaking = refused  # type: ignore[attr-defined]
    speakers.on_registry_event(changed("b.microphone.1"))
    await spawned[-1]  # logged, not raised: the layers stay
