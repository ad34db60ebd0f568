"""Engine workers coming and going: moving a meeting off a lost worker, clearing the tables a
previous control plane left."""

from __future__ import annotations

import asyncio

import pytest
from meeting_fakes import Socket, audio_offer

from contract.ops import CreateRouter
from control.domain.moderation import Action, Command
from control.domain.roles import Source
from control.engines import WorkerConnected, WorkerLost
from control.meetings.errors import MeetingError
from control.store.models import Meeting


async def test_a_lost_worker_moves_the_meeting_and_clients_reconnect(meetings, world) -> None:
    service, registry = meetings.service, meetings.registry
    organizer = Socket()
    live, _ = await service.join(meetings.admin.token, meetings.room["id"], organizer.link())
    assert live.media.worker_id == "w1"
    registry.live = ["w2"]
    registry.emit(WorkerLost("w1", [live.id], []))
    for _ in range(50):
        if organizer.of("reconnect"):
            break
        await asyncio.sleep(0.01)
    assert organizer.of("reconnect") == [{"type": "reconnect", "reason": "worker_lost"}]
    assert live.media.worker_id == "w2" and live.media.peers == {}
    for _ in range(200):  # recorded after the clients are told (other tasks may hold the database a moment)
        async with world.context() as ctx:
            if (await ctx.session.get(Meeting, live.id)).worker_id == "w2":
                break
        await asyncio.sleep(0.01)
    async with world.context() as ctx:
        assert (await ctx.session.get(Meeting, live.id)).worker_id == "w2"


async def _frames(socket: Socket, type_: str, count: int = 1) -> list:
    for _ in range(100):
        if len(socket.of(type_)) >= count:
            break
        await asyncio.sleep(0.01)
    return socket.of(type_)


async def test_a_meeting_waits_stranded_for_its_restarted_worker(meetings) -> None:
    """The only worker died: nothing is sent to its id until a worker connects; a worker of the
    same id that connects then is a new process, and the meeting moves to it."""
    service, registry = meetings.service, meetings.registry
    organizer = Socket()
    live, pid = await service.join(meetings.admin.token, meetings.room["id"], organizer.link())
    await service.publish(live, pid, audio_offer(), {"0": Source.MICROPHONE}, frozenset())
    registry.live = []
    registry.emit(WorkerLost("w1", [live.id], [f"{pid}.pub"]))
    await asyncio.sleep(0.05)
    assert live.stranded and organizer.of("reconnect") == []
    sent = len(registry.batches)
    with pytest.raises(MeetingError) as refused:
        await service.act(live, pid, Command(Action.TURN_OFF_SOURCE, target=pid, source=Source.MICROPHONE))
    assert refused.value.code == "engine_unavailable" and len(registry.batches) == sent

    registry.live, registry.fingerprint = ["w1"], "CD"  # restarted by its supervisor
    registry.emit(WorkerConnected("w1", True, False))
    assert await _frames(organizer, "reconnect") == [{"type": "reconnect", "reason": "worker_lost"}]
    assert not live.stranded and live.media.worker_id == "w1" and live.media.peers == {}
    assert live.media.fingerprints == [("sha-256", "CD")]
    assert live.republish == {pid: {Source.MICROPHONE}}
    answer = await service.publish(live, pid, audio_offer(), {"0": Source.MICROPHONE}, frozenset())
    assert "a=fingerprint:sha-256 CD" in answer.sdp
    assert registry.batches[-1][0] == "w1" and registry.batches[-1][1][0].name == "create_router"


async def test_a_new_meeting_waits_for_a_restarting_worker(meetings) -> None:
    service, registry = meetings.service, meetings.registry
    registry.live, registry.restarts = [], True
    organizer = Socket()
    joining = asyncio.create_task(service.join(meetings.admin.token, meetings.room["id"], organizer.link()))
    await asyncio.sleep(0.05)
    assert not joining.done()
    registry.live, registry.restarts = ["w1"], False
    registry.emit(WorkerConnected("w1", True, False))
    live, _ = await joining
    assert live.media.worker_id == "w1"


async def test_tables_left_by_a_previous_control_plane_are_cleared(meetings) -> None:
    service, registry = meetings.service, meetings.registry
    registry.tables["w2"] = [CreateRouter("old-meeting")]
    registry.emit(WorkerConnected("w2", True, False))
    await asyncio.sleep(0.05)
    assert registry.replaced == [("w2", [])]
    # a worker a live meeting of this process uses keeps its table
    organizer = Socket()
    live, _ = await service.join(meetings.admin.token, meetings.room["id"], organizer.link())
    registry.tables["w1"] = [CreateRouter(live.id)]
    registry.emit(WorkerConnected("w1", False, False))
    await asyncio.sleep(0.05)
    assert registry.replaced == [("w2", [])]
