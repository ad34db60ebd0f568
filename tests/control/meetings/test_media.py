"""Media reconciliation: engine operations follow media_plan(state)."""

import copy
from dataclasses import replace

from control.domain.meeting_state import MeetingState, Participant, RoomFeatures
from control.domain.roles import ALL_CAPABILITIES, Capability, Role, Source
from control.meetings.media import Media, MediaRecords
from control.meetings.sdp import (
    CodecParameters,
    ConnectWebRtcTransport,
    Encoding,
    HeaderExtensionIds,
    Produce,
)

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
    ops, records, created = media.publish(MediaRecords(), "a", CONNECT, [(produce("0"), Source.MICROPHONE)])
    assert [op.name for op in ops] == [
        "create_router",
        "create_webrtc_transport",
        "connect_webrtc_transport",
        "set_header_extensions",
        "produce",
    ]
    assert ops[-1].paused is True and ops[-1].app_data == {"source": "microphone"}
    # the source is off: the producer stays gated, but b may receive it, so a consumer exists
    ops, records = media.reconcile(records, state)
    assert names(ops) == [("create_webrtc_transport", "b.sub"), ("consume", "b.c1")]
    # turned on: only the producer gate opens
    on = state.put(replace(state.get("a"), sources_on=frozenset({Source.MICROPHONE})))
    ops, records = media.reconcile(records, on)
    assert names(ops) == [("resume_producer", created[0].producer_id)]
    # revoked: the producer gate closes; nothing else changes
    revoked = on.put(replace(on.get("a"), capabilities=ALL_CAPABILITIES - {Capability.MICROPHONE}))
    ops, records = media.reconcile(records, revoked)
    assert names(ops) == [("pause_producer", created[0].producer_id)]
    # b sent to the waiting room: its consumer gate closes
    waiting = revoked.put(replace(revoked.get("b"), waiting=True))
    ops, records = media.reconcile(records, waiting)
    assert names(ops) == [("pause_consumer", "b.c1")]
    # b leaves: its transports close
    ops, records = media.reconcile(records, waiting.drop("b"))
    assert names(ops) == [("close_transport", "b.sub")]


def test_reconcile_is_pure() -> None:
    """The records a change starts from stay as they were: the commit pipeline keeps them when the
    engine refuses."""
    media = Media("m", "w", [("sha-256", "BB")], [("127.0.0.1", 4000)])
    state = MeetingState(RoomFeatures(), (person("a", role=Role.ORGANIZER), person("b")))
    _, records, _ = media.publish(MediaRecords(), "a", CONNECT, [(produce("0"), Source.MICROPHONE)])
    _, records = media.reconcile(records, state)
    before = {pid: copy.deepcopy(peer) for pid, peer in records.peers.items()}
    table = media.table(records)
    on = state.put(replace(state.get("a"), sources_on=frozenset({Source.MICROPHONE})))
    ops, after = media.reconcile(records, on.drop("b"))
    assert names(ops) == [("close_transport", "b.sub"), ("resume_producer", "a.microphone.1")]
    assert dict(records.peers) == before and media.table(records) == table
    assert "b" not in after.peers and after.peers["a"].publications[Source.MICROPHONE].paused is False
    assert records.peers["a"].publications[Source.MICROPHONE].paused is True


def test_the_table_builds_what_the_records_hold() -> None:
    media = Media("m", "w", [("sha-256", "BB")], [("127.0.0.1", 4000)])
    state = MeetingState(
        RoomFeatures(), (person("a", role=Role.ORGANIZER, sources_on=frozenset({Source.MICROPHONE})), person("b"))
    )
    _, records, _ = media.publish(MediaRecords(), "a", CONNECT, [(produce("0"), Source.MICROPHONE)])
    more, records = media.reconcile(records, state)
    # the table: creates and connects only, the gates as last set, parents first
    table = media.table(records)
    assert names(table) == [
        ("create_router", "m"),
        ("create_webrtc_transport", "a.pub"),
        ("connect_webrtc_transport", "a.pub"),
        ("set_header_extensions", "a.pub"),
        ("create_webrtc_transport", "b.sub"),
        ("produce", "a.microphone.1"),
        ("consume", "b.c1"),
    ]
    assert table[5].paused is False and table[6] == more[-1]
    assert media.table(MediaRecords()) == []


def test_subscribe_offer_once_per_change() -> None:
    media = Media("m", "w", [("sha-256", "BB")], [("127.0.0.1", 4000)])
    state = MeetingState(RoomFeatures(), (person("a", role=Role.ORGANIZER), person("b")))
    _, records, _ = media.publish(MediaRecords(), "a", CONNECT, [(produce("0"), Source.MICROPHONE)])
    _, records = media.reconcile(records, state)
    records, offer = media.subscribe_offer(records, "b")
    version, sdp, subs = offer
    assert version == 1 and "m=audio" in sdp and subs[0].publisher == "a"
    assert media.subscribe_offer(records, "b") == (records, None)  # one offer at a time, and only after a change
    ops, records = media.answered(records, "b", CONNECT)
    assert [op.name for op in ops] == ["connect_webrtc_transport"]
    assert media.answered(records, "b", CONNECT)[0] == []
