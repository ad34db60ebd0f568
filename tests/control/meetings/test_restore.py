"""Durable meetings: every commit writes the meeting's documents with its audit entry, and a
restarted control plane resumes its meetings from them (control.meetings.durable)."""

from __future__ import annotations

import asyncio

import pytest
from meeting_fakes import FakeRegistry, Socket, audio_offer, subscriber_answer
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from contract.table import Table
from control.domain.moderation import Action, Command
from control.domain.roles import Capability, Role, Source
from control.engines import WorkerConnected
from control.meetings import resume
from control.meetings.durable import codec
from control.meetings.errors import MeetingError
from control.meetings.service import MeetingService
from control.store.models import AuditEvent, LiveMeetingRow, LivePeerRow, Meeting
from control.store.repositories.live_meetings import LiveMeetings


async def _until(condition, steps: int = 200) -> bool:
    for _ in range(steps):
        if condition():
            return True
        await asyncio.sleep(0.01)
    return False


async def _a_meeting(meetings):
    """The organizer and Ann in a call: both publish a microphone and subscribe, Ann's microphone is
    revoked, presenter mode is on and chat is off."""
    service = meetings.service
    organizer, other = Socket(), Socket()
    live, oid = await service.join(meetings.admin.token, meetings.room["id"], organizer.link())
    _, aid = await service.join(meetings.ann.token, meetings.room["id"], other.link())
    await service.act(live, oid, Command(Action.ADMIT, target=aid))
    await service.publish(live, oid, audio_offer(1111), {"0": Source.MICROPHONE}, frozenset())
    await service.publish(live, aid, audio_offer(2222), {"0": Source.MICROPHONE}, frozenset())
    for socket, pid in ((organizer, oid), (other, aid)):
        offer = socket.of("subscribe-offer")[-1]
        await service.subscribe_answer(live, pid, offer["version"], subscriber_answer(offer["sdp"]))
    await service.act(live, oid, Command(Action.REVOKE_PERMISSION, target=aid, capability=Capability.MICROPHONE))
    await service.act(live, oid, Command(Action.START_PRESENTER_MODE))
    await service.act(live, oid, Command(Action.DISABLE_CHAT_ROOM))
    return live, oid, aid


async def _restarted(
    meetings, world, grace: float = 5.0, resume_grace: float = 30.0
) -> tuple[MeetingService, FakeRegistry]:
    """A second control plane on the same database, as after a restart."""
    registry = FakeRegistry()
    service = MeetingService(world.app.state.context, registry, resume_grace=resume_grace)  # type: ignore[arg-type]
    await service.restore(grace)
    return service, registry


async def test_a_restarted_control_plane_resumes_the_meeting_as_it_was(meetings, world) -> None:
    live, oid, aid = await _a_meeting(meetings)
    table = live.media.table(live.media.records)
    service, registry = await _restarted(meetings, world)
    try:
        again = service.meeting(live.id)
        assert again is not None and service.meeting_of_room(meetings.room["id"]) is again
        assert again.state == live.state  # roles, the revoked microphone, the chat switch...
        assert not again.state.get(aid).holds(Capability.MICROPHONE) and not again.state.chat_enabled
        assert again.state.presenter_mode
        assert again.state.get(oid).role is Role.ORGANIZER
        assert again.names == live.names and again.numbers == live.numbers and again.users == live.users
        assert again.viewers == live.viewers
        assert dict(again.media.records.peers) == dict(live.media.records.peers)
        assert Table.from_ops(again.media.table(again.media.records)) == Table.from_ops(table)
        assert again.restoring and again.stranded and not again.ready.is_set()

        # its worker comes back as the same process: the table is made what the records say, in one sync
        registry.emit(WorkerConnected("w1", True, False))
        assert await _until(again.ready.is_set)
        [(worker, replaced)] = registry.replaced
        assert worker == "w1" and Table.from_ops(replaced) == Table.from_ops(table)
        assert not again.stranded and not again.restoring
    finally:
        await service.close()


async def test_a_worker_that_is_a_new_process_moves_the_restored_meeting(meetings, world) -> None:
    live, oid, aid = await _a_meeting(meetings)
    service, registry = await _restarted(meetings, world)
    try:
        registry.fingerprint = "CD"  # `podium serve` restarted its worker with the control plane
        registry.emit(WorkerConnected("w1", True, False))
        again = service.meeting(live.id)
        assert await _until(again.ready.is_set)
        assert not again.stranded and again.media.peers == {} and again.media.fingerprints == [("sha-256", "CD")]
        assert again.republish == {oid: {Source.MICROPHONE}, aid: {Source.MICROPHONE}}
        assert registry.replaced == []  # nothing of the old table is sent to the new process
        assert again.state == live.state
    finally:
        await service.close()


async def test_a_restored_meeting_whose_worker_stays_away_moves_after_the_grace(meetings, world) -> None:
    live, _, _ = await _a_meeting(meetings)
    service, registry = await _restarted(meetings, world, grace=0.05)
    try:
        registry.live = ["w2"]
        again = service.meeting(live.id)
        assert await _until(again.ready.is_set)
        assert again.media.worker_id == "w2" and not again.stranded
    finally:
        await service.close()


async def test_a_join_waits_for_the_restored_meeting_to_be_ready(meetings, world) -> None:
    live, oid, _ = await _a_meeting(meetings)
    service, registry = await _restarted(meetings, world)
    try:
        socket = Socket()
        joining = asyncio.ensure_future(service.join(meetings.admin.token, meetings.room["id"], socket.link()))
        await asyncio.sleep(0.05)
        assert not joining.done() and registry.batches == []
        registry.emit(WorkerConnected("w1", True, False))
        again, pid = await asyncio.wait_for(joining, 5)
        assert again.id == live.id and pid != oid and again.state.get(pid) is not None
    finally:
        await service.close()


async def test_the_audit_entry_and_the_documents_are_one_transaction(meetings, world, monkeypatch) -> None:
    live, oid, aid = await _a_meeting(meetings)
    service = meetings.service
    await service.act(live, oid, Command(Action.STOP_PRESENTER_MODE))
    await service.act(live, oid, Command(Action.TURN_ON_SOURCE, source=Source.MICROPHONE))

    async def count_audit() -> int:
        async with world.context() as ctx:
            return await ctx.session.scalar(select(func.count()).select_from(AuditEvent))

    before, state, records, batches = (
        await count_audit(),
        live.state,
        live.media.records,
        len(meetings.registry.batches),
    )

    async def unavailable(*args, **kwargs) -> None:
        raise OperationalError("UPDATE live_meetings", {}, Exception("database is down"))

    monkeypatch.setattr(LiveMeetings, "save", unavailable)
    with pytest.raises(MeetingError) as error:
        await service.act(live, oid, Command(Action.TURN_OFF_SOURCE, target=oid, source=Source.MICROPHONE))
    assert error.value.code == "store_unavailable" and error.value.status == 503
    # the engine applied the change, then was put back: the kept records' table is resent
    assert len(meetings.registry.batches) == batches + 1
    assert (await meetings.registry.resynced())[-1] == ("w1", live.media.table(records))
    assert live.state is state and live.media.records is records and await count_audit() == before

    monkeypatch.undo()
    await service.act(live, oid, Command(Action.TURN_OFF_SOURCE, target=oid, source=Source.MICROPHONE))
    assert await count_audit() == before + 1
    async with world.context() as ctx:
        row = await ctx.session.get(LiveMeetingRow, live.id)
        assert codec.decode(row.document["state"]) == live.state


async def test_only_the_peers_a_change_touched_are_written(meetings, world) -> None:
    live, oid, aid = await _a_meeting(meetings)
    written: list[set[str]] = []
    original = LiveMeetings.save

    async def spy(self, meeting_id, document, now, **kwargs):
        written.append(set(kwargs.get("peers", {})))
        await original(self, meeting_id, document, now, **kwargs)

    LiveMeetings.save = spy  # type: ignore[method-assign]
    try:
        await meetings.service.act(live, oid, Command(Action.ENABLE_CHAT_ROOM))
    finally:
        LiveMeetings.save = original  # type: ignore[method-assign]
    assert written == [set()]  # no media changed
    async with world.context() as ctx:
        peers = await ctx.session.scalar(select(func.count()).select_from(LivePeerRow))
        assert peers == 2


async def test_an_ended_meeting_leaves_no_documents(meetings, world) -> None:
    live, oid, aid = await _a_meeting(meetings)
    await meetings.service.act(live, oid, Command(Action.END_MEETING))
    async with world.context() as ctx:
        assert await ctx.session.get(LiveMeetingRow, live.id) is None
        assert await ctx.session.scalar(select(func.count()).select_from(LivePeerRow)) == 0
        assert (await ctx.session.get(Meeting, live.id)).ended_at is not None
    service, _ = await _restarted(meetings, world)
    try:
        assert service.meeting(live.id) is None
    finally:
        await service.close()


async def test_a_document_naming_an_unknown_record_type_is_not_restored(meetings, world) -> None:
    live, _, _ = await _a_meeting(meetings)
    async with world.context() as ctx:
        row = await ctx.session.get(LiveMeetingRow, live.id)
        row.document = {**row.document, "state": {"$": "os.system", "command": "true"}}
        await ctx.session.commit()
    service, _ = await _restarted(meetings, world)
    try:
        assert service.meeting(live.id) is None
        async with world.context() as ctx:
            meeting = await ctx.session.get(Meeting, live.id)
            assert meeting.ended_at is not None and meeting.end_reason == "control_plane_restarted"
    finally:
        await service.close()


async def test_who_does_not_come_back_within_the_resume_grace_leaves(meetings, world) -> None:
    live, oid, aid = await _a_meeting(meetings)
    service, registry = await _restarted(meetings, world, resume_grace=0.05)
    try:
        registry.emit(WorkerConnected("w1", True, False))
        again = service.meeting(live.id)
        assert await _until(again.ready.is_set)
        assert await _until(lambda: service.meeting(live.id) is None)  # both left: the meeting ended
        for _ in range(200):  # its end is recorded after the observers heard of it
            async with world.context() as ctx:
                if (await ctx.session.get(Meeting, live.id)).ended_at is not None:
                    break
            await asyncio.sleep(0.01)
        async with world.context() as ctx:
            assert (await ctx.session.get(Meeting, live.id)).ended_at is not None
            assert await ctx.session.get(LiveMeetingRow, live.id) is None
    finally:
        await service.close()


async def test_a_resume_waiting_for_a_moved_meeting_renews_its_media(meetings, world) -> None:
    """Its client's peer connections were made for the worker the meeting had before the restart:
    even with `keep_media`, they cannot be kept once the meeting moved to a new process."""
    live, oid, _ = await _a_meeting(meetings)
    service, registry = await _restarted(meetings, world)
    try:
        socket = Socket()
        async with world.context() as ctx:
            token = resume.issue(ctx.token_key, resume.ResumeClaims(live.id, oid, live.state.get(oid).person), 0)
        resuming = asyncio.ensure_future(
            service.join(
                meetings.admin.token,
                meetings.room["id"],
                socket.link(),
                resume=token,
                keep_media=True,
            )
        )
        await asyncio.sleep(0.05)
        registry.fingerprint = "CD"
        registry.emit(WorkerConnected("w1", True, False))
        again, pid = await asyncio.wait_for(resuming, 5)
        assert pid == oid and socket.frames[0]["resumed"] and socket.frames[0]["media"] == "renew"
    finally:
        await service.close()
