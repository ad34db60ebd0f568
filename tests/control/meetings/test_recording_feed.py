"""Starting and stopping a recording through the meetings service: the worker is asked for a plain
transport to the recorder's loopback socket and a consumer per producer (a producer published while
recording gets one too), everyone is told, late joiners see the indicator, the audit log and the
recording's description say who did what; participants are refused and nothing is left behind."""

from __future__ import annotations

import asyncio

import pytest
from meeting_fakes import Socket, audio_offer
from sqlalchemy import select

from control.domain.moderation import Action, Command
from control.domain.roles import Source
from control.meetings.errors import MeetingError
from control.meetings.observers import MeetingObserver
from control.store.models import AuditEvent

MIC = Source.MICROPHONE
START, STOP = Command(Action.START_RECORDING), Command(Action.STOP_RECORDING)


@pytest.fixture
async def scene(meetings):  # type: ignore[no-untyped-def]
    service, room = meetings.service, meetings.room["id"]
    o_socket, a_socket = Socket(), Socket()
    live, o = await service.join(meetings.admin.token, room, o_socket.link())
    _, a = await service.join(meetings.ann.token, room, a_socket.link())
    await service.act(live, o, Command(Action.ADMIT, target=a))
    await service.publish(live, o, audio_offer(1111), {"0": MIC}, frozenset())
    return meetings, live, (o, o_socket), (a, a_socket)


async def test_start_feeds_every_producer_to_the_recorder_and_stop_closes_it(scene) -> None:  # type: ignore[no-untyped-def]
    meetings, live, (o, o_socket), (a, a_socket) = scene
    service, registry = meetings.service, meetings.registry
    version = await service.act(live, o, START)
    assert version is not None and live.state.recording
    ops = registry.batches[-1][1]
    assert [op.name for op in ops] == ["create_plain_transport", "consume"]
    transport, consume = ops
    assert transport.remote[0] == "127.0.0.1" and transport.router_id == live.id and not transport.pipe
    assert consume.transport_id == transport.id
    assert consume.producer_id == live.media.peers[o].publications[MIC].producer_id
    feed = live.media.records.recorder
    assert feed is not None and feed.track(consume.ssrc) is not None
    recording_id = live.recording.id
    for socket in (o_socket, a_socket):
        assert socket.of("recording-changed")[-1] == {
            "type": "recording-changed",
            "recording": True,
            "by": o,
            "recording_id": recording_id,
        }

    # published while recording: recorded too
    await service.publish(live, a, audio_offer(2222), {"0": MIC}, frozenset())
    consumes = [op for op in registry.batches[-1][1] if op.name == "consume" and op.transport_id == transport.id]
    assert [c.producer_id for c in consumes] == [live.media.peers[a].publications[MIC].producer_id]
    assert len(live.media.records.recorder.consumers) == 2
    assert live.media.table(live.media.records)[-3:] == [transport, consume, consumes[0]]

    # a late joiner sees the indicator
    late = Socket()
    await service.join(meetings.admin.token, meetings.room["id"], late.link())
    assert late.of("joined")[-1]["recording"] is True
    assert service.snapshot(live)["recording"] is True

    # a participant may not stop it
    with pytest.raises(MeetingError) as refused:
        await service.act(live, a, STOP)
    assert (refused.value.code, refused.value.status) == ("role_too_low", 403)

    await service.act(live, o, STOP)
    assert [op.name for op in registry.batches[-1][1]] == ["close_transport"]
    assert live.media.records.recorder is None and live.recording is None and not live.state.recording
    assert a_socket.of("recording-changed")[-1]["recording"] is False
    description = service.recordings.library.get(live.company_id, recording_id)
    assert description["state"] == "stopped" and description["ended_at"] is not None
    assert description["started_by"]["participant_id"] == o and description["stopped_by"] == o

    async with service.context() as ctx:
        audit = (
            await ctx.session.scalars(select(AuditEvent).where(AuditEvent.action.like("meeting.%_recording")))
        ).all()
    assert [(e.action, e.after["recording_id"]) for e in audit] == [
        ("meeting.start_recording", recording_id),
        ("meeting.stop_recording", recording_id),
    ]


async def test_participants_are_refused_and_nothing_is_left(scene) -> None:  # type: ignore[no-untyped-def]
    meetings, live, (o, _), (a, a_socket) = scene
    service, registry = meetings.service, meetings.registry
    batches = len(registry.batches)
    with pytest.raises(MeetingError) as refused:
        await service.act(live, a, START)
    assert (refused.value.code, refused.value.status) == ("role_too_low", 403)
    assert len(registry.batches) == batches and live.recording is None and not live.state.recording
    assert service.recordings.library.list(live.company_id) == []
    with pytest.raises(MeetingError) as refused:
        await service.act(live, o, STOP)
    assert (refused.value.code, refused.value.status) == ("not_recording", 409)
    await service.act(live, o, START)
    with pytest.raises(MeetingError) as refused:
        await service.act(live, o, START)
    assert (refused.value.code, refused.value.status) == ("already_recording", 409)
    assert a_socket.of("recording-changed")[-1]["recording"] is True


async def test_an_engine_refusal_leaves_no_recording(scene) -> None:  # type: ignore[no-untyped-def]
    meetings, live, (o, _), _ = scene
    service, registry = meetings.service, meetings.registry
    registry.fail = "refuse"
    try:
        with pytest.raises(MeetingError):
            await service.act(live, o, START)
    finally:
        registry.fail = None
    assert live.recording is None and not live.state.recording and live.media.records.recorder is None
    assert service.recordings.library.list(live.company_id) == []
    assert not any(service.recordings.library.root.rglob("*.webm"))


async def test_the_meeting_ending_finalises_the_recording(scene) -> None:  # type: ignore[no-untyped-def]
    meetings, live, (o, _), _ = scene
    service = meetings.service
    await service.act(live, o, START)
    recording_id = live.recording.id
    await service.act(live, o, Command(Action.END_MEETING))
    assert service.recordings.library.get(live.company_id, recording_id)["state"] == "meeting_ended"


async def test_observers_are_told_when_the_files_are_ready(scene) -> None:  # type: ignore[no-untyped-def]
    """The `recording.ready` webhook's source: one notification per finalised recording, after stop."""
    meetings, live, (o, _), _ = scene
    service = meetings.service
    told: list[tuple[str, dict]] = []

    class Listener(MeetingObserver):
        async def recording_ready(self, meeting, description) -> None:  # type: ignore[no-untyped-def]
            told.append((meeting.meeting_id, description))

    service.observers.add(Listener())
    await service.act(live, o, START)
    recording_id = live.recording.id
    await asyncio.sleep(0.05)
    assert told == []  # running: nothing is ready
    await service.act(live, o, STOP)
    for _ in range(100):
        if told:
            break
        await asyncio.sleep(0.01)
    assert [(m, d["id"], d["state"]) for m, d in told] == [(live.id, recording_id, "stopped")]


async def test_a_restart_finalises_the_files_and_the_restored_meeting_is_not_recorded(scene, world) -> None:  # type: ignore[no-untyped-def]
    """The process stopping finalises the recording (state interrupted); the next process restores the
    meeting without the recording, and the worker's table without the feed to the recorder."""
    from meeting_fakes import FakeRegistry

    from contract.table import Table
    from control.engines import WorkerConnected
    from control.meetings.service import MeetingService

    meetings, live, (o, _), _ = scene
    service = meetings.service
    await service.act(live, o, START)
    recording_id = live.recording.id
    table_recorded = live.media.table(live.media.records)
    assert any(op.id == f"{live.id}.rec" for op in table_recorded)
    service.recordings.close_all([live])  # what MeetingService.close does first
    assert service.recordings.library.get(live.company_id, recording_id)["state"] == "interrupted"

    registry = FakeRegistry()
    again_service = MeetingService(
        world.app.state.context,
        registry,  # type: ignore[arg-type]
        resume_grace=30.0,
        recordings=service.recordings.library,
    )
    await again_service.restore(5.0)
    try:
        again = again_service.meeting(live.id)
        assert again is not None and not again.state.recording and again.recording is None
        assert again.media.records.recorder is None
        registry.emit(WorkerConnected("w1", True, False))
        for _ in range(200):
            if again.ready.is_set():
                break
            await asyncio.sleep(0.01)
        [(_, replaced)] = registry.replaced
        assert Table.from_ops(replaced) == Table.from_ops([op for op in table_recorded if ".rec" not in op.id])
        description = again_service.recordings.library.get(live.company_id, recording_id)
        assert description["state"] == "interrupted" and description["ended_at"] is not None
    finally:
        await again_service.close()


async def test_a_used_up_storage_quota_refuses_to_start(scene) -> None:  # type: ignore[no-untyped-def]
    meetings, live, (o, _), _ = scene
    service, registry = meetings.service, meetings.registry
    library = service.recordings.library
    old = library.directory(live.company_id, "r" + "0" * 16)
    old.mkdir(parents=True)
    (old / "mixed.webm").write_bytes(b"x" * 100)
    service.recordings.quota = 100
    batches = len(registry.batches)
    with pytest.raises(MeetingError) as refused:
        await service.act(live, o, START)
    assert (refused.value.code, refused.value.status) == ("storage_quota", 409)
    assert len(registry.batches) == batches and live.recording is None and not live.state.recording
    service.recordings.quota = 101
    await service.act(live, o, START)
    assert live.state.recording


async def test_a_meeting_moved_while_recorded_feeds_the_same_recorder_from_its_new_worker(scene) -> None:  # type: ignore[no-untyped-def]
    from control.engines import WorkerLost

    meetings, live, (o, o_socket), _ = scene
    service, registry = meetings.service, meetings.registry
    await service.act(live, o, START)
    first = live.media.records.recorder
    address = live.media.recorder_address
    registry.live = ["w2"]
    registry.emit(WorkerLost("w1", [live.id], []))
    for _ in range(100):
        if o_socket.of("reconnect"):
            break
        await asyncio.sleep(0.01)
    assert live.media.worker_id == "w2" and live.state.recording and live.media.recorder_address == address
    await service.publish(live, o, audio_offer(1111), {"0": MIC}, frozenset())
    worker, ops = registry.batches[-1]
    transport = next(op for op in ops if op.name == "create_plain_transport")
    consume = next(op for op in ops if op.name == "consume" and op.transport_id == transport.id)
    assert worker == "w2" and transport.remote == address
    assert consume.ssrc not in {c.ssrc for c in first.consumers}  # a new feed: SSRCs the recorder never saw
    await service.act(live, o, STOP)
    assert live.media.recorder_address is None
