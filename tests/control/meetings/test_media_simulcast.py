"""Simulcast in the media reconciler: one engine producer per layer, a consumer on the layer the
subscriber's view of it chooses (control.domain.layers), switched at a keyframe, paused while hidden;
every layer gated, closed and rebuilt together."""

from dataclasses import replace

import pytest

from contract.table import Table
from control.domain.meeting_state import MeetingState, Participant, RoomFeatures
from control.domain.roles import ALL_CAPABILITIES, Role, Source
from control.meetings.media import Media
from control.meetings.media_records import MediaRecords
from control.meetings.sdp import CodecParameters, ConnectWebRtcTransport, Encoding, HeaderExtensionIds, Produce

CONNECT = ConnectWebRtcTransport("server", (("sha-256", "AA"),), "u", "p")
VP8 = CodecParameters(96, "video/VP8", 90000, rtx_payload_type=97)
EXTENSIONS = HeaderExtensionIds(mid=4, rid=10, repaired_rid=11)


def person(pid: str, **kw) -> Participant:
    return Participant(pid, "u:" + pid, True, capabilities=ALL_CAPABILITIES, **kw)


def camera(*rids: str) -> Produce:
    return Produce("0", "video", (VP8,), tuple(Encoding(rid=r) for r in rids), EXTENSIONS)


def names(ops) -> list[tuple[str, ...]]:
    return [(op.name, op.id) + ((op.producer_id,) if op.name in ("consume", "switch_consumer") else ()) for op in ops]


def meeting(source: Source = Source.CAMERA, rids=("q", "h", "f")):
    media = Media("m", "w", [("sha-256", "BB")], [("127.0.0.1", 4000)])
    state = MeetingState(
        RoomFeatures(), (person("a", role=Role.ORGANIZER, sources_on=frozenset({source})), person("b"))
    )
    ops, records, (publication,) = media.publish(MediaRecords(), "a", CONNECT, [(camera(*rids), source)])
    return media, state, ops, records, publication


def test_each_layer_is_a_producer_and_a_consumer_starts_on_the_top_one() -> None:
    media, state, ops, records, publication = meeting()
    produces = [op for op in ops if op.name == "produce"]
    assert [(op.id, op.rid, op.mid, op.codec, op.rtx_payload_type, op.below_top) for op in produces] == [
        ("a.camera.1", "q", "0", "vp8", 97, True),  # a higher layer exists: its subscribers are probed
        ("a.camera.1.l1", "h", "0", "vp8", 97, True),
        ("a.camera.1.l2", "f", "0", "vp8", 97, False),
    ]
    assert publication.layer_ids == ("a.camera.1", "a.camera.1.l1", "a.camera.1.l2")
    ops, records = media.reconcile(records, state)
    assert names(ops) == [
        *[("resume_producer", layer) for layer in publication.layer_ids],
        ("create_webrtc_transport", "b.sub"),
        ("set_header_extensions", "b.sub"),  # the ids the offer proposes (docs/engine-api.md)
        ("consume", "b.c1", "a.camera.1.l2"),
    ]
    # the table holds every layer, and builds (the contract's checks pass)
    table = Table.from_ops(media.table(records))
    assert {"a.camera.1", "a.camera.1.l1", "a.camera.1.l2", "b.c1"} <= set(table.objects)


def test_the_view_chooses_the_layer_and_hides() -> None:
    media, state, _, records, publication = meeting()
    _, records = media.reconcile(records, state)
    ops, small = media.view(records, state, "b", "b.c1", 320, 180)
    assert names(ops) == [("switch_consumer", "b.c1", "a.camera.1")]
    assert ops[0].at_keyframe is True
    (sub,) = small.peers["b"].subscriptions
    assert sub.layer == 0 and sub.create.producer_id == "a.camera.1"
    assert media.view(small, state, "b", "b.c1", 320, 180) == ([], small)  # nothing changes
    ops, hidden = media.view(small, state, "b", "b.c1", 0, 0)
    assert names(ops) == [("pause_consumer", "b.c1")]
    # the plan keeps a hidden consumer paused
    assert media.reconcile(hidden, state)[0] == []
    ops, shown = media.view(hidden, state, "b", "b.c1", 1280, 720)
    assert names(ops) == [("switch_consumer", "b.c1", "a.camera.1.l2"), ("resume_consumer", "b.c1")]
    assert next(op for op in media.table(shown) if op.name == "consume").producer_id == "a.camera.1.l2"


def test_a_consumer_the_plan_closes_stays_paused_when_shown() -> None:
    media, state, _, records, _ = meeting()
    _, records = media.reconcile(records, state)
    waiting = state.put(replace(state.get("b"), waiting=True))
    _, records = media.reconcile(records, waiting)
    ops, records = media.view(records, waiting, "b", "b.c1", 320, 180)
    assert names(ops) == [("switch_consumer", "b.c1", "a.camera.1")]
    assert records.peers["b"].subscriptions[0].paused is True


def test_a_screen_share_keeps_its_top_layer() -> None:
    media, state, _, records, _ = meeting(Source.SCREEN)
    _, records = media.reconcile(records, state)
    ops, _ = media.view(records, state, "b", "b.c1", 160, 90)
    assert ops == []


def test_gates_and_close_cover_every_layer() -> None:
    media, state, _, records, publication = meeting(rids=("l", "h"))
    _, records = media.reconcile(records, state)
    off = state.put(replace(state.get("a"), sources_on=frozenset()))
    ops, records = media.reconcile(records, off)
    assert names(ops) == [("pause_producer", "a.camera.1"), ("pause_producer", "a.camera.1.l1")]
    ops, records = media.close_producer(records, "a", Source.CAMERA)
    assert names(ops) == [("close_producer", "a.camera.1"), ("close_producer", "a.camera.1.l1")]


def test_unknown_consumers_are_refused() -> None:
    media, state, _, records, _ = meeting()
    _, records = media.reconcile(records, state)
    with pytest.raises(KeyError):
        media.view(records, state, "b", "b.c9", 10, 10)
    with pytest.raises(KeyError):
        media.view(records, state, "zed", "b.c1", 10, 10)


def test_audio_and_single_encodings_have_one_layer() -> None:
    media, state, ops, records, publication = meeting(rids=())
    assert publication.layer_ids == ("a.camera.1",)
    assert [op.below_top for op in ops if op.name == "produce"] == [False]  # its top: never probed for
    _, records = media.reconcile(records, state)
    ops, viewed = media.view(records, state, "b", "b.c1", 100, 100)
    assert ops == []  # one layer: nothing to switch (the size is kept for the bandwidth budget)
    assert viewed.peers["b"].subscriptions[0].size == (100, 100)
    assert viewed.peers["b"].subscriptions[0].layer == 0


def test_the_active_speakers_camera_is_not_scaled_up_and_goes_back() -> None:
    media, state, _, records, _ = meeting()
    _, records = media.reconcile(records, state)
    assert media.speaking(records, state, "a") == ([], records)  # no view yet: the top layer stays
    _, records = media.view(records, state, "b", "b.c1", 320, 200)
    assert records.peers["b"].subscriptions[0].size == (320, 200)
    ops, spoken = media.speaking(records, state, "a")
    assert names(ops) == [("switch_consumer", "b.c1", "a.camera.1.l1")]
    assert spoken.peers["b"].subscriptions[0].layer == 1
    assert media.speaking(spoken, state, "a") == ([], spoken)  # said again: nothing
    # a view while "a" speaks keeps the priority
    ops, _ = media.view(spoken, state, "b", "b.c1", 320, 200, speaker="a")
    assert ops == []
    ops, quiet = media.speaking(spoken, state, None)
    assert names(ops) == [("switch_consumer", "b.c1", "a.camera.1")]
    # a hidden tile stays paused whoever speaks
    _, hidden = media.view(quiet, state, "b", "b.c1", 0, 0)
    ops, _ = media.speaking(hidden, state, "a")
    assert ops == []


def test_a_screen_share_is_not_raised_by_speaking() -> None:
    media, state, _, records, _ = meeting(Source.SCREEN)
    _, records = media.reconcile(records, state)
    _, records = media.view(records, state, "b", "b.c1", 160, 90)
    assert media.speaking(records, state, "a") == ([], records)


def test_a_silent_layer_is_not_consumed_but_still_wanted() -> None:
    """A layer its publisher's browser stopped (Media.silent, from the engine's bitrate pass): a new
    consumer and a view forward the nearest layer still sent, remembering the one they want; once
    it is sent again the view gets it."""
    media, state, _, records, publication = meeting()
    top = publication.layer_ids[2]
    media.silent = frozenset({top})
    ops, records = media.reconcile(records, state)
    assert ("consume", "b.c1", "a.camera.1.l1") in names(ops)
    (sub,) = records.peers["b"].subscriptions
    assert (sub.layer, sub.wants, sub.wanted_layer) == (1, 2, 2)
    ops, records = media.view(records, state, "b", "b.c1", 1280, 720)
    assert ops == []  # asks the top: still the middle one sent instead
    ops, records = media.view(records, state, "b", "b.c1", 320, 180)
    assert names(ops) == [("switch_consumer", "b.c1", "a.camera.1")]  # the lowest is sent: taken
    assert records.peers["b"].subscriptions[0].wants is None
    media.silent = frozenset()
    ops, records = media.view(records, state, "b", "b.c1", 1280, 720)
    assert names(ops) == [("switch_consumer", "b.c1", top)]
    (sub,) = records.peers["b"].subscriptions
    assert (sub.layer, sub.wants) == (2, None)
    # every layer silent (the camera stopped): no switch for nothing
    media.silent = frozenset(publication.layer_ids)
    assert media.choose_again(records, state, None, lambda s: True)[0] == []
    ops, records = media.view(records, state, "b", "b.c1", 320, 180)
    assert ops == []
    (sub,) = records.peers["b"].subscriptions
    assert (sub.layer, sub.wants) == (2, 0)  # the tile's wish kept for when the layers are back
