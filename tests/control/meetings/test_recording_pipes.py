"""Recording a meeting across two workers: the recorder's feed is on the first worker, and the
producers of the other are piped to it (one pipe per producer, shared with subscribers there); the
shares replayed on the contract's Table leave each worker holding what the records say; stopping
closes the feed."""

from dataclasses import replace

from test_media import CONNECT, person, produce
from test_pipes import Workers, names, spanning_media

from contract import ops
from control.domain.meeting_state import MeetingState, RoomFeatures
from control.domain.roles import Role, Source
from control.meetings.media_records import MediaRecords
from control.meetings.pipes import needed, prefix

RECORDER = ("127.0.0.1", 45000)


def test_the_recorder_on_the_first_worker_gets_the_other_workers_producers_through_pipes() -> None:
    media, workers = spanning_media(), Workers()
    state = MeetingState(RoomFeatures(), (person("a", role=Role.ORGANIZER), person("b")))
    batch, records, _ = media.publish(MediaRecords(), "a", CONNECT, [(produce("0"), Source.MICROPHONE)])
    _, records = workers.apply(media, batch, MediaRecords(), records)
    batch, after = media.reconcile(records, state)
    _, records = workers.apply(media, batch, records, after)
    batch, after, (b_mic,) = media.publish(records, "b", CONNECT, [(produce("1"), Source.MICROPHONE)])
    planned, after = media.reconcile(after, state)
    _, records = workers.apply(media, batch + planned, records, after)
    assert records.peers["b"].worker == "w2"

    # recording: the feed on w1 consumes a's producer there and b's through the pipe b→w1
    media.recorder_address = RECORDER
    recorded = replace(state, recording=True)
    batch, after = media.reconcile(records, recorded)
    shares, records = workers.apply(media, batch, records, after)
    b_pipe = f"{prefix('m')}{b_mic.producer_id}"
    feed = records.recorder
    assert feed is not None and feed.transport.remote == RECORDER
    consumes = {op.producer_id for op in shares["w1"] if isinstance(op, ops.Consume) and op.transport_id == "m.rec"}
    assert consumes == {"a.microphone.1", b_pipe}
    assert "w2" not in shares or all(op.name != "create_plain_transport" for op in shares["w2"])
    assert (b_mic.producer_id, "w1") in needed(records, "w1")

    # stop: the feed closes on w1; the pipe b→w1 stays while a (on w1) subscribes to b
    media.recorder_address = None
    batch, after = media.reconcile(records, state)
    shares, records = workers.apply(media, batch, records, after)
    assert ("close_transport", "m.rec") in names(shares["w1"])
    assert records.recorder is None
    assert (b_mic.producer_id, "w1") in needed(records, "w1")
