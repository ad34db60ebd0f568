"""Active speaker: the engine's dominant producer becomes an `active-speaker` frame naming its
participant, only for an open microphone, sent once per change, null to those a hidden speaker is
not listed for; in a meeting spanning workers, one speaker decided from every worker's levels of the
producers it is the origin of, the workers' own decisions ignored."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
from typing import Any

from control.domain.meeting_state import MeetingState, Participant, RoomFeatures
from control.domain.roles import ALL_CAPABILITIES, Role, Source
from control.engines import EngineEvent
from control.meetings.errors import MeetingError
from control.meetings.live import Link, LiveMeeting
from control.meetings.media import Media
from control.meetings.media_records import MediaRecords
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


def spanning(live: LiveMeeting) -> None:
    """b's objects are on the second worker, w2: the meeting spans w1 and w2."""
    records = live.media.records
    peers = dict(records.peers)
    peers["b"] = replace(peers["b"], worker="w2")
    live.media.records = replace(records, peers=peers, workers=frozenset({"w2"}))


def levels(worker: str, levels: dict[str, int], router: str = "m") -> EngineEvent:
    """A worker's 200 ms report: ten packets of each producer at that RFC 6464 level."""
    wire = [[producer, bytes([level] * 10).hex()] for producer, level in levels.items()]
    data = {"event": "audio_levels", "router_id": router, "elapsed": 0.2, "levels": wire}
    return EngineEvent(worker, "audio_levels", data)


def told(sent: list[dict[str, Any]]) -> list[str | None]:
    return [frame["participant"] for frame in sent]


def test_a_spanning_meeting_has_one_speaker_from_every_workers_origin_levels() -> None:
    live, sent, speakers = meeting()
    open_microphones(live)
    spanning(live)
    a, b = "a.microphone.1", "b.microphone.1"
    for _ in range(5):  # a on w1 quiet, b on w2 loud
        speakers.on_registry_event(levels("w1", {a: 80}))
        speakers.on_registry_event(levels("w2", {b: 10}))
    assert told(sent["a"]) == ["b"] and told(sent["b"]) == ["b"]
    # the workers' own decisions are ignored while the meeting spans
    speakers.on_registry_event(changed(a))
    assert told(sent["a"]) == ["b"]
    # the levels swap: a takes over, told once
    for _ in range(10):
        speakers.on_registry_event(levels("w1", {a: 10}))
        speakers.on_registry_event(levels("w2", {b: 80}))
    assert told(sent["a"]) == ["b", "a"] and told(sent["b"]) == ["b", "a"]


def test_only_a_workers_own_open_microphones_count_never_a_piped_copy() -> None:
    live, sent, speakers = meeting()
    open_microphones(live)
    spanning(live)
    a, b = "a.microphone.1", "b.microphone.1"
    for _ in range(10):
        # w1 claims b's levels (a copy of b piped to it, say), loud; and a screen's audio: ignored
        speakers.on_registry_event(levels("w1", {a: 80, b: 5, "a.screen-audio.2": 5}))
        speakers.on_registry_event(levels("w2", {b: 80}))
        speakers.on_registry_event(levels("w3", {a: 5}))  # a worker the meeting is not on
        speakers.on_registry_event(levels("w1", {a: 80}, router="other"))
    assert sent["a"] == []
    # b's worker stops reporting b (its microphone's gate closed): b is no candidate any more
    for _ in range(5):
        speakers.on_registry_event(levels("w2", {b: 5}))
    assert told(sent["a"]) == ["b"]
    speakers.on_registry_event(levels("w2", {}))
    speakers.on_registry_event(levels("w1", {a: 80}))
    assert told(sent["a"]) == ["b", None]


def test_a_microphone_no_longer_open_or_of_a_worker_gone_is_no_candidate_even_unreported() -> None:
    live, sent, speakers = meeting()
    open_microphones(live)
    spanning(live)
    a, b = "a.microphone.1", "b.microphone.1"
    for _ in range(5):
        speakers.on_registry_event(levels("w2", {b: 10}))
        speakers.on_registry_event(levels("w1", {a: 80}))
    assert told(sent["a"]) == ["b"]
    # b's microphone closes (muted) and w2 says nothing more (lost, say): the next report from w1
    # drops b, whose last levels would otherwise keep it the speaker
    peers = dict(live.media.records.peers)
    mic = peers["b"].publications[Source.MICROPHONE]
    peers["b"] = replace(
        peers["b"], publications={**peers["b"].publications, Source.MICROPHONE: replace(mic, paused=True)}
    )
    live.media.records = replace(live.media.records, peers=peers)
    speakers.on_registry_event(levels("w1", {a: 80}))
    assert told(sent["a"]) == ["b", None]


def test_malformed_levels_are_dropped_and_a_meeting_back_on_one_worker_follows_its_worker() -> None:
    live, sent, speakers = meeting()
    open_microphones(live)
    spanning(live)
    for bad in ("ab", [["b.microphone.1"]], [["b.microphone.1", "zz"]], [[1, "00"]]):
        event = levels("w2", {})
        event.data["levels"] = bad
        speakers.on_registry_event(event)
    event = levels("w2", {"b.microphone.1": 5})
    event.data["elapsed"] = "0.2"
    speakers.on_registry_event(event)
    assert sent["a"] == [] and "m" not in speakers.spanning
    speakers.on_registry_event(levels("w2", {"b.microphone.1": 5}))
    assert told(sent["a"]) == ["b"] and "m" in speakers.spanning
    # b leaves w2: the meeting is on one worker again, whose decisions count
    live.media.records = replace(live.media.records, workers=frozenset())
    speakers.on_registry_event(changed("a.microphone.1"))
    assert told(sent["a"]) == ["b", "a"] and "m" not in speakers.spanning
    speakers.on_registry_event(levels("w1", {"b.microphone.1": 5}))  # a late report: ignored
    assert "m" not in speakers.spanning
