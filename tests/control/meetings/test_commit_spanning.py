"""The commit pipeline for a meeting spanning two workers: a change is one share per worker, and the
meeting's state changes only once every worker acked its share; when one refuses or does not answer,
nothing changes and both workers are resynced to the kept records (undoing the share the other applied)."""

from __future__ import annotations

import pytest
from meeting_fakes import Socket, audio_offer, subscriber_answer

from control.domain.moderation import Action, Command
from control.domain.roles import Capability, Source
from control.meetings.errors import MeetingError
from control.meetings.pipes import needed

MIC = Source.MICROPHONE


@pytest.fixture(params=["refuse", "timeout"])
def mode(request) -> str:  # type: ignore[no-untyped-def]
    return request.param


async def test_a_refused_share_leaves_the_spanning_meeting_as_it_was(meetings, mode: str) -> None:  # type: ignore[no-untyped-def]
    service, registry = meetings.service, meetings.registry
    service.worker_capacity = 1  # the organizer fills w1, Ann spills onto w2
    o_socket, a_socket = Socket(), Socket()
    live, o = await service.join(meetings.admin.token, meetings.room["id"], o_socket.link())
    _, a = await service.join(meetings.ann.token, meetings.room["id"], a_socket.link())
    await service.act(live, o, Command(Action.ADMIT, target=a))
    await service.publish(live, o, audio_offer(1111), {"0": MIC}, frozenset())
    await service.publish(live, a, audio_offer(2222), {"0": MIC}, frozenset())
    for pid, socket in ((o, o_socket), (a, a_socket)):
        offer = socket.of("subscribe-offer")[-1]
        await service.subscribe_answer(live, pid, offer["version"], subscriber_answer(offer["sdp"]))
    records = live.media.records
    assert records.peers[o].worker is None and records.peers[a].worker == "w2"
    assert {(pipe.origin, pipe.worker) for pipe in needed(records, "w1").values()} == {("w1", "w2"), ("w2", "w1")}

    state, batches = live.state, len(registry.batches)
    registry.fail, registry.failing = mode, "w2"
    try:
        with pytest.raises(MeetingError):
            await service.act(live, o, Command(Action.REVOKE_PERMISSION, target=a, capability=Capability.MICROPHONE))
    finally:
        registry.fail = registry.failing = None
    sent = registry.batches[batches:]
    assert {w for w, _ in sent} == {"w1", "w2"}  # the origin's gate on w2, the pipe's gate on w1
    assert live.state is state and live.media.records is records
    resynced = {w: ops for w, ops in (await registry.resynced())[-2:]}
    assert resynced == {w: live.media.table(records, w) for w in ("w1", "w2")}

    # accepted by both: the gate closes at the origin (w2) and on its pipe (w1)
    before = len(registry.batches)
    await service.act(live, o, Command(Action.REVOKE_PERMISSION, target=a, capability=Capability.MICROPHONE))
    shares = dict(registry.batches[before:])
    mic = records.peers[a].publications[MIC].producer_id
    assert [(op.name, op.id) for op in shares["w2"]] == [("pause_producer", mic)]
    assert [(op.name, op.id) for op in shares["w1"]] == [("pause_producer", f"pipe:{live.id}:{mic}")]
