"""A meeting across two workers: each worker's share of a batch, the pipes it opens and closes, and
the table each worker ends with (replayed on the contract's pure Table, as a worker applies it)."""

from dataclasses import replace

from test_media import CONNECT, person, produce

from contract import ops
from contract.table import Table
from control.domain.meeting_state import MeetingState, RoomFeatures
from control.domain.roles import ALL_CAPABILITIES, Capability, Role, Source
from control.engines.mesh import PIPES_ROUTER, pipe_transport
from control.meetings.durable import documents
from control.meetings.live import LiveMeeting
from control.meetings.media import Media
from control.meetings.media_records import Endpoint, MediaRecords
from control.meetings.pipes import needed, prefix
from control.meetings.sdp import CodecParameters, Encoding, HeaderExtensionIds, Produce

VP8 = CodecParameters(96, "video/VP8", 90000, rtx_payload_type=97)
ADDRESS = {"w1": ("127.0.0.1", 4001), "w2": ("127.0.0.1", 4002)}


def spanning_media() -> Media:
    """Participant "a" on w1 (the meeting's first worker), everyone else on w2."""
    media = Media("m", "w1", [("sha-256", "BB")], [("127.0.0.1", 4001)])
    media.placer = lambda peers: "w1" if not peers else "w2"
    media.endpoint = lambda w: Endpoint([("sha-256", "CC")], [ADDRESS[w]], ADDRESS[w])
    return media


class Workers:
    """Each worker's table, its pipe transports made first (control.engines.mesh)."""

    def __init__(self) -> None:
        self.tables = {
            w: Table.from_ops(
                [
                    ops.CreateRouter(PIPES_ROUTER),
                    ops.CreatePlainTransport(pipe_transport(peer), PIPES_ROUTER, ADDRESS[peer], pipe=True),
                ]
            )
            for w, peer in (("w1", "w2"), ("w2", "w1"))
        }

    def apply(self, media: Media, batch: list, before: MediaRecords, after: MediaRecords) -> tuple[dict, MediaRecords]:
        shares, after = media.split(batch, before, after)
        for worker, share in shares.items():
            for op in share:
                self.tables[worker].apply(op)  # raises TableError where a worker would refuse
        for worker, table in self.tables.items():
            # what the worker holds for the meeting is what the records say (its resync)
            assert meeting_part(Table.from_ops(media.table(after, worker))) == meeting_part(table), worker
        return shares, after


def meeting_part(table: Table) -> dict:
    """The table without the pipe transports every meeting shares: id → (operation, connect)."""
    return {
        oid: (entry.op, entry.connect, entry.extensions)
        for oid, entry in table.objects.items()
        if oid != PIPES_ROUTER and not oid.startswith("pipe>")
    }


def names(share) -> list[tuple[str, str]]:
    return [(op.name, op.id) for op in share]


def test_a_meeting_on_two_workers_pipes_what_each_side_receives() -> None:
    media, workers = spanning_media(), Workers()
    state = MeetingState(RoomFeatures(), (person("a", role=Role.ORGANIZER), person("b"), person("c")))
    batch, records, _ = media.publish(MediaRecords(), "a", CONNECT, [(produce("0"), Source.MICROPHONE)])
    shares, records = workers.apply(media, batch, MediaRecords(), records)
    assert list(shares) == ["w1"] and records.peers["a"].worker is None  # on the meeting's first worker

    batch, after = media.reconcile(records, state)
    assert after.peers["b"].worker == after.peers["c"].worker == "w2"
    shares, after = workers.apply(media, batch, records, after)
    mic = "a.microphone.1"
    pipe_producer, pipe_consumer = f"{prefix('m')}{mic}", f"{prefix('m')}{mic}>w2"
    assert names(shares["w2"]) == [
        ("create_router", "m"),
        ("produce", pipe_producer),  # one pipe for both subscribers on w2
        ("create_webrtc_transport", "b.sub"),
        ("set_header_extensions", "b.sub"),
        ("consume", "b.c1"),
        ("create_webrtc_transport", "c.sub"),
        ("set_header_extensions", "c.sub"),
        ("consume", "c.c1"),
    ]
    assert {op.producer_id for op in shares["w2"] if isinstance(op, ops.Consume)} == {pipe_producer}
    assert names(shares["w1"]) == [("consume", pipe_consumer)]
    out, in_ = shares["w1"][0], shares["w2"][1]
    assert out.transport_id == pipe_transport("w2") and in_.transport_id == pipe_transport("w1")
    assert out.ssrc == in_.ssrc and in_.paused is True and in_.payload_type == 111
    assert after.workers == {"w2"}
    records = after

    # b publishes on w2: a (on w1) gets it through a pipe the other way; c on w2 directly
    batch, after, (b_mic,) = media.publish(records, "b", CONNECT, [(produce("1"), Source.MICROPHONE)])
    planned, after = media.reconcile(after, state)
    shares, records = workers.apply(media, batch + planned, records, after)
    b_pipe = f"{prefix('m')}{b_mic.producer_id}"
    assert ("produce", b_pipe) in names(shares["w1"])
    assert ("consume", f"{b_pipe}>w1") in names(shares["w2"])

    # a's microphone on, then revoked: the gate at the origin and on the pipe
    on = state.put(replace(state.get("a"), sources_on=frozenset({Source.MICROPHONE})))
    batch, after = media.reconcile(records, on)
    shares, records = workers.apply(media, batch, records, after)
    assert names(shares["w1"]) == [("resume_producer", mic)] and names(shares["w2"]) == [
        ("resume_producer", pipe_producer)
    ]
    revoked = on.put(replace(on.get("a"), capabilities=ALL_CAPABILITIES - {Capability.MICROPHONE}))
    batch, after = media.reconcile(records, revoked)
    shares, records = workers.apply(media, batch, records, after)
    assert names(shares["w1"]) == [("pause_producer", mic)] and names(shares["w2"]) == [
        ("pause_producer", pipe_producer)
    ]

    # b and c leave: nobody on w2 needs a's microphone, its pipe closes; b's pipe to w1 closes with b
    batch, after = media.reconcile(records, revoked.drop("b").drop("c"))
    shares, records = workers.apply(media, batch, records, after)
    assert needed(records, "w1") == {}
    assert ("close_producer", pipe_producer) in names(shares["w2"])
    assert ("close_consumer", pipe_consumer) in names(shares["w1"])
    assert ("close_producer", b_pipe) in names(shares["w1"])

    # the meeting ends: its router closes on both workers; the pipe transports stay for others
    batch, after = media.close(records)
    shares, records = workers.apply(media, batch, records, after)
    assert names(shares["w1"]) == names(shares["w2"]) == [("close_router", "m")]
    assert set(workers.tables["w1"].objects) == {PIPES_ROUTER, pipe_transport("w2")}
    assert set(workers.tables["w2"].objects) == {PIPES_ROUTER, pipe_transport("w1")}


def test_a_meeting_on_one_worker_is_sent_as_before() -> None:
    media = Media("m", "w1", [("sha-256", "BB")], [("127.0.0.1", 4001)])
    state = MeetingState(RoomFeatures(), (person("a", role=Role.ORGANIZER), person("b")))
    batch, records, _ = media.publish(MediaRecords(), "a", CONNECT, [(produce("0"), Source.MICROPHONE)])
    planned, after = media.reconcile(records, state)
    shares, split_after = media.split(batch + planned, MediaRecords(), after)
    assert shares == {"w1": batch + planned} and split_after is after


def test_the_stored_documents_keep_the_placement_and_so_the_pipes() -> None:
    """A restarted control plane restores each participant's worker and the workers holding the
    router: the same pipes, the same share of the table on each worker."""
    media, workers = spanning_media(), Workers()
    state = MeetingState(RoomFeatures(), (person("a", role=Role.ORGANIZER), person("b")))
    batch, records, _ = media.publish(MediaRecords(), "a", CONNECT, [(produce("0"), Source.MICROPHONE)])
    planned, after = media.reconcile(records, state)
    _, records = workers.apply(media, batch + planned, MediaRecords(), after)
    media.records = records
    live = LiveMeeting("m", "room", "company", state, media)
    document = documents.meeting_document(live, state, records)
    peers = {pid: documents.peer_document(peer) for pid, peer in records.peers.items()}
    restored = documents.live_meeting("m", document, peers).media
    restored.pipe_transport = media.pipe_transport
    restored.endpoint = media.endpoint
    assert restored.records.workers == {"w2"} and restored.records.peers["b"].worker == "w2"
    assert needed(restored.records, "w1").keys() == needed(records, "w1").keys() != set()
    for worker in ("w1", "w2"):
        assert restored.table(restored.records, worker) == media.table(records, worker)


def test_the_participants_of_a_lost_worker_are_placed_again() -> None:
    """w2 is lost: b (on it) gets an empty peer on w1, a's consumer of b's microphone ends, and the
    pipes both ways close; what closes on w2 goes to w2 (the commit drops it: w2's table is gone)."""
    media, workers = spanning_media(), Workers()
    state = MeetingState(RoomFeatures(), (person("a", role=Role.ORGANIZER), person("b")))
    batch, records, _ = media.publish(MediaRecords(), "a", CONNECT, [(produce("0"), Source.MICROPHONE)])
    planned, after = media.reconcile(records, state)
    _, records = workers.apply(media, batch + planned, MediaRecords(), after)
    batch, after, (b_mic,) = media.publish(records, "b", CONNECT, [(produce("1"), Source.MICROPHONE)])
    planned, after = media.reconcile(after, state)
    _, records = workers.apply(media, batch + planned, records, after)
    assert len(needed(records, "w1")) == 2

    media.placer = lambda peers: "w1"  # w2 is gone: every live worker is w1
    moved = replace(records, workers=records.workers - {"w2"})
    moved = media.relocate(moved, "b")
    assert moved.peers["b"].worker is None and moved.peers["b"].counter == records.peers["b"].counter
    assert not moved.peers["b"].publications and moved.peers["b"].pub_transport is None
    gone = next(s for s in moved.peers["a"].subscriptions if s.producer_id == b_mic.producer_id)
    assert not gone.active and moved.peers["a"].dirty
    planned, after = media.reconcile(moved, state)
    shares, after = media.split(planned, records, after)
    assert needed(after, "w1") == {}
    assert ("close_producer", f"{prefix('m')}{b_mic.producer_id}") in names(shares["w1"])
    assert ("create_webrtc_transport", "b.sub") in names(shares["w1"])  # b subscribes again, on w1
    assert all(op.name.startswith("close_") for op in shares.get("w2", []))


def test_a_piped_simulcast_layer_keeps_whether_a_higher_layer_exists() -> None:
    """The engine on the subscribers' worker probes their bandwidth only for a layer under its
    track's top one (engine/probe.pxi): each pipe producer says so as its origin's layer does."""
    media, workers = spanning_media(), Workers()
    state = MeetingState(
        RoomFeatures(), (person("a", role=Role.ORGANIZER, sources_on=frozenset({Source.CAMERA})), person("b"))
    )
    camera = Produce("1", "video", (VP8,), tuple(Encoding(rid=r) for r in ("q", "h", "f")), HeaderExtensionIds(mid=4))
    batch, records, (publication,) = media.publish(MediaRecords(), "a", CONNECT, [(camera, Source.CAMERA)])
    _, records = workers.apply(media, batch, MediaRecords(), records)
    batch, after = media.reconcile(records, state)
    shares, _ = workers.apply(media, batch, records, after)
    piped = {op.id: op.below_top for op in shares["w2"] if isinstance(op, ops.Produce)}
    layers = publication.layer_ids
    assert piped == {f"{prefix('m')}{layer}": layer != layers[-1] for layer in layers}
