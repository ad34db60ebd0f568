"""Media reconciliation: engine operations follow media_plan(state)."""

import copy
from dataclasses import replace

from contract.ops import Consume, SetHeaderExtensions
from control.domain.meeting_state import MeetingState, Participant, RoomFeatures
from control.domain.roles import ALL_CAPABILITIES, Capability, Role, Source
from control.meetings.media import Media
from control.meetings.media_records import MediaRecords
from control.meetings.sdp import (
    URI_MID,
    CodecParameters,
    ConnectWebRtcTransport,
    Encoding,
    HeaderExtensionIds,
    Produce,
    SessionDescription,
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
    assert names(ops) == [
        ("create_webrtc_transport", "b.sub"),
        ("set_header_extensions", "b.sub"),
        ("consume", "b.c1"),
    ]
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
        ("set_header_extensions", "b.sub"),
        ("produce", "a.microphone.1"),
        ("consume", "b.c1"),
    ]
    assert table[6].paused is False and table[7] == more[-1]
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


def test_publishers_keep_their_ids_and_subscribers_get_ours_with_their_own_mid() -> None:
    """Issue 14: a Chromium publisher and an aiortc one number their extensions differently; each
    publish transport tells the engine its own ids, each subscribe transport the ids of our offer
    (then those its answer agreed to), and each consumer its m-section."""
    media = Media("m", "w", [("sha-256", "BB")], [("127.0.0.1", 4000)])
    state = MeetingState(RoomFeatures(), (person("a", role=Role.ORGANIZER), person("b"), person("c")))
    chromium = HeaderExtensionIds(mid=4, abs_send_time=2, audio_level=1, transport_cc=3)
    aiortc = HeaderExtensionIds(mid=1, audio_level=2)
    mic = Produce("0", "audio", (OPUS,), (Encoding(ssrc=1000),), chromium)
    ops, records, _ = media.publish(MediaRecords(), "a", CONNECT, [(mic, Source.MICROPHONE)])
    assert ops[3] == SetHeaderExtensions("a.pub", mid=4, abs_send_time=2, audio_level=1, transport_cc=3)
    mic = Produce("0", "audio", (OPUS,), (Encoding(ssrc=1001),), aiortc)
    ops, records, _ = media.publish(records, "b", CONNECT, [(mic, Source.MICROPHONE)])
    assert ops[2] == SetHeaderExtensions("b.pub", mid=1, audio_level=2)
    ops, records = media.reconcile(records, state)
    offered = SetHeaderExtensions("c.sub", mid=1, abs_send_time=2, transport_cc=3, audio_level=4)
    assert offered in ops
    assert [(op.id, op.mid) for op in ops if isinstance(op, Consume) and op.transport_id == "c.sub"] == [
        ("c.c1", "0"),
        ("c.c2", "1"),
    ]
    records, offer = offer_of(media, records, "c")
    assert all(m.extension_id(URI_MID) == 1 for m in offer.media)
    # the answer dropped transport-cc: the engine writes what was agreed only
    agreed = HeaderExtensionIds(mid=1, abs_send_time=2, audio_level=4)
    ops, records = media.answered(records, "c", CONNECT, agreed)
    assert ops[0] == SetHeaderExtensions("c.sub", mid=1, abs_send_time=2, audio_level=4)
    assert ops[0] in media.table(records) and offered not in media.table(records)
    _, records = media.reconcile(records, state.drop("a"))
    records, _ = offer_of(media, records, "c")
    ops, records = media.answered(records, "c", CONNECT, agreed)
    assert ops == []  # the same ids: nothing to tell


VP8 = CodecParameters(96, "video/VP8", 90000, None, (), ("nack", "nack pli"), rtx_payload_type=97)


def camera(mid: str) -> Produce:
    return Produce(
        mid, "video", (VP8,), (Encoding(ssrc=2000 + int(mid), rtx_ssrc=3000 + int(mid)),), HeaderExtensionIds(mid=1)
    )


def offer_of(media: Media, records: MediaRecords, pid: str) -> tuple[MediaRecords, SessionDescription]:
    records, offer = media.subscribe_offer(records, pid)
    assert offer is not None
    return records, SessionDescription.parse(offer[1])


def test_a_departure_keeps_the_bundle_tag_and_frees_its_slots_for_the_next_arrival() -> None:
    """The issue 10 reload: the one who stayed is re-offered the leaver's m-sections inactive (never
    port 0, still in the BUNDLE group with its tag first); the one who comes back takes them."""
    media = Media("m", "w", [("sha-256", "BB")], [("127.0.0.1", 4000)])
    state = MeetingState(RoomFeatures(), (person("a", role=Role.ORGANIZER), person("b")))
    _, records, _ = media.publish(MediaRecords(), "b", CONNECT, [(produce("0"), Source.MICROPHONE)])
    _, records, _ = media.publish(records, "b", None, [(camera("1"), Source.CAMERA)])
    _, records = media.reconcile(records, state)
    records, first = offer_of(media, records, "a")
    assert [(m.mid, m.direction) for m in first.media] == [("0", "sendonly"), ("1", "sendonly")]
    _, records = media.answered(records, "a", CONNECT)
    ssrcs = [s.ssrc for s in records.peers["a"].subscriptions]
    rtx = records.peers["a"].subscriptions[1].rtx_ssrc

    # b reloads: gone, and back as b2
    ops, records = media.reconcile(records, state.drop("b"))
    assert names(ops) == [("close_transport", "b.pub")]
    records, gone = offer_of(media, records, "a")  # an ended consumer re-offers too
    assert [(m.mid, m.direction, m.port) for m in gone.media] == [("0", "inactive", 4000), ("1", "inactive", 4000)]
    assert gone.groups[0].mids == ["0", "1"]
    assert all(m.ssrcs == [] and m.msid == [] for m in gone.media)
    assert {(m.ice_ufrag, m.ice_pwd, tuple(m.fingerprints)) for m in gone.media} == {
        (first.media[0].ice_ufrag, first.media[0].ice_pwd, tuple(first.media[0].fingerprints))
    }
    ops, records = media.answered(records, "a", CONNECT)
    assert ops == []  # connected once, for good
    assert all(s.released for s in records.peers["a"].subscriptions)

    back = MeetingState(RoomFeatures(), (person("a", role=Role.ORGANIZER), person("b2")))
    _, records, _ = media.publish(
        records, "b2", CONNECT, [(camera("0"), Source.CAMERA), (produce("1"), Source.MICROPHONE)]
    )
    ops, records = media.reconcile(records, back)
    consumes = [op for op in ops if op.name == "consume"]
    assert len(consumes) == 2
    subs = records.peers["a"].subscriptions
    assert [(s.mid, s.kind, s.publisher, s.active) for s in subs] == [
        ("0", "audio", "b2", True),
        ("1", "video", "b2", True),
    ]
    # with SSRCs of their own (Chromium does not receive a video SSRC again in the same m-section)
    assert not {s.ssrc for s in subs} & {*ssrcs, rtx} and subs[0].rtx_ssrc is None and subs[1].rtx_ssrc
    assert {(op.ssrc, op.rtx_ssrc) for op in consumes} == {(s.ssrc, s.rtx_ssrc) for s in subs}
    records, again = offer_of(media, records, "a")
    assert [(m.mid, m.kind, m.direction) for m in again.media] == [
        ("0", "audio", "sendonly"),
        ("1", "video", "sendonly"),
    ]
    assert again.groups[0].mids == ["0", "1"] and again.media[0].msid == ["b2 " + subs[0].consumer_id]
    assert sorted(op.id for op in media.table(records) if op.name == "consume") == sorted(op.id for op in consumes)


def test_a_slot_waits_for_the_inactive_answer_and_for_its_own_kind() -> None:
    media = Media("m", "w", [("sha-256", "BB")], [("127.0.0.1", 4000)])
    state = MeetingState(RoomFeatures(), (person("a", role=Role.ORGANIZER), person("b"), person("c")))
    _, records, _ = media.publish(MediaRecords(), "b", CONNECT, [(produce("0"), Source.MICROPHONE)])
    _, records = media.reconcile(records, state)
    records, _ = offer_of(media, records, "a")
    _, records = media.answered(records, "a", CONNECT)

    # b leaves and c publishes before a answered the offer that ends b's consumer: a new slot
    _, records = media.reconcile(records, state.drop("b"))
    records, gone = offer_of(media, records, "a")
    _, records, _ = media.publish(records, "c", CONNECT, [(produce("0"), Source.MICROPHONE)])
    _, records = media.reconcile(records, state.drop("b"))
    assert [(s.mid, s.publisher, s.active) for s in records.peers["a"].subscriptions] == [
        ("0", "b", False),
        ("1", "c", True),
    ]
    _, records = media.answered(records, "a", CONNECT)
    records, offer = offer_of(media, records, "a")
    assert [(m.mid, m.direction) for m in offer.media] == [("0", "inactive"), ("1", "sendonly")]
    _, records = media.answered(records, "a", CONNECT)

    # a video consumer never takes an audio slot; an audio one does
    _, records, _ = media.publish(records, "c", None, [(camera("1"), Source.CAMERA)])
    _, records = media.reconcile(records, state.drop("b"))
    assert [(s.mid, s.kind, s.active) for s in records.peers["a"].subscriptions] == [
        ("0", "audio", False),
        ("1", "audio", True),
        ("2", "video", True),
    ]
    _, records, _ = media.publish(records, "d", CONNECT, [(produce("0"), Source.MICROPHONE)])
    _, records = media.reconcile(records, MeetingState(RoomFeatures(), (*state.drop("b").participants, person("d"))))
    assert [(s.mid, s.publisher) for s in records.peers["a"].subscriptions] == [("0", "d"), ("1", "c"), ("2", "c")]
