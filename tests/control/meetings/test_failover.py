"""Engine workers coming and going: moving a meeting off a lost worker, clearing the tables a
previous control plane left."""

from __future__ import annotations

import asyncio

from meeting_fakes import Socket

from contract.ops import CreateRouter
from control.engines import WorkerConnected, WorkerLost
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
    async with world.context() as ctx:
        assert (await ctx.session.get(Meeting, live.id)).worker_id == "w2"


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
