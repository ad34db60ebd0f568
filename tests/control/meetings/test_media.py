"""Media reconciliation: engine operations follow media_plan(state)."""

from dataclasses import replace

from control.domain.meeting_state import MeetingState, Participant, RoomFeatures
from control.domain.roles import ALL_CAPABILITIES, Capability, Role, Source
from control.meetings.media import Media
from control.meetings.sdp import CodecParameters, ConnectWebRtcTransport, Encoding, HeaderExtensionIds, Produce

CONNECT = ConnectWebRtcTransport("server", (("sha-256", "AA"),), "u", "p")
OPUS = CodecParameters(111, "audio/opus", 48000, 2)


def produce(mid: str) -> Produce:
    return Produce(mid, "audio", (OPUS,), (Encoding(ssrc=1000 + int(mid)),), HeaderExtensionIds(mid=1))


def person(pid: str, **kw) -> Participant:
    return Participant(pid, "u:" + pid, True, capabilities=ALL_CAPABILITIES, **kw)


def names(ops) -> list[tuple[str, str]]:
    return [(op.name, op.id) for op in ops]


def test_producer_gate_and_consumers_follow_the_plan() -> None:
    media = Media("m", "w", [("sha-256", "BB")], [("127.0.0.1", 4000)])
    state = MeetingState(RoomFeatures(), (person("a", role=Role.ORGANIZER), person("b")))
    ops, created = media.publish("a", CONNECT, [(produce("0"), Source.MICROPHONE)])
    assert [op.name for op in ops] == ["create_router", "create_webrtc_transport", "connect_webrtc_transport",
                                        "set_header_extensions", "produce"]
    assert ops[-1].paused is True and ops[-1].app_data == {"source": "microphone"}
    # the source is off: the producer stays gated, but b may receive it, so a consumer exists
    ops = media.reconcile(state)
    assert names(ops) == [("create_webrtc_transport", "b.sub"), ("consume", "b.c1")]
    # turned on: only the producer gate opens
    on = state.put(replace(state.get("a"), sources_on=frozenset({Source.MICROPHONE})))
    assert names(media.reconcile(on)) == [("resume_producer", created[0].producer_id)]
    # revoked: the producer gate closes; nothing else changes
    revoked = on.put(replace(on.get("a"), capabilities=ALL_CAPABILITIES - {Capability.MICROPHONE}))
    assert names(media.reconcile(revoked)) == [("pause_producer", created[0].producer_id)]
    # b sent to the waiting room: its consumer gate closes
    waiting = revoked.put(replace(revoked.get("b"), waiting=True))
    assert names(media.reconcile(waiting)) == [("pause_consumer", "b.c1")]
    # b leaves: its transports close
    gone = waiting.drop("b")
    assert names(media.reconcile(gone)) == [("close_transport", "b.sub")]


def test_subscribe_offer_once_per_change() -> None:
    media = Media("m", "w", [("sha-256", "BB")], [("127.0.0.1", 4000)])
    state = MeetingState(RoomFeatures(), (person("a", role=Role.ORGANIZER), person("b")))
    media.publish("a", CONNECT, [(produce("0"), Source.MICROPHONE)])
    media.reconcile(state)
    version, sdp, subs = media.subscribe_offer("b")
    assert version == 1 and "m=audio" in sdp and subs[0].publisher == "a"
    assert media.subscribe_offer("b") is None  # one offer at a time, and only after a change
    assert [op.name for op in media.answered("b", CONNECT)] == ["connect_webrtc_transport"]
    assert media.answered("b", CONNECT) == []
