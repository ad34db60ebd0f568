"""Resuming against a fake engine registry: a participant whose socket closed stays for the resume
grace and comes back with the resume token of their `joined` frame as the same participant; their
media is kept, renewed (transports closed through the commit pipeline) or waits for a move; a stale
token joins a new participant; the grace running out makes them leave."""

from __future__ import annotations

import asyncio
from typing import Any

import jwt
from meeting_fakes import Socket, audio_offer, subscriber_answer

from contract import ops
from control.domain.moderation import Action, Command
from control.domain.roles import Capability, Source
from control.meetings import resume
from control.meetings.resuming import CLOSE_JOINED_ELSEWHERE
from control.meetings.service import CLOSE_REPLACED

MIC = Source.MICROPHONE
KEY = "k" * 40


class Call:
    """The organizer O and Ann (A) admitted, both publishing a microphone, subscribe offers answered;
    a moderator revoked A's microphone."""

    def __init__(self, meetings: Any) -> None:
        self.m = meetings
        self.service, self.registry = meetings.service, meetings.registry
        self.o_socket, self.a_socket = Socket(), Socket()

    async def setup(self) -> None:
        service, room = self.service, self.m.room["id"]
        self.live, self.o = await service.join(self.m.admin.token, room, self.o_socket.link())
        _, self.a = await service.join(self.m.ann.token, room, self.a_socket.link())
        await service.act(self.live, self.o, Command(Action.ADMIT, target=self.a))
        await service.publish(self.live, self.o, audio_offer(1111), {"0": MIC}, frozenset())
        await service.publish(self.live, self.a, audio_offer(2222), {"0": MIC}, frozenset())
        for pid, socket in ((self.o, self.o_socket), (self.a, self.a_socket)):
            await self.answer(pid, socket)
        await service.act(
            self.live, self.o, Command(Action.REVOKE_PERMISSION, target=self.a, capability=Capability.MICROPHONE)
        )

    async def answer(self, pid: str, socket: Socket) -> None:
        offer = socket.of("subscribe-offer")[-1]
        await self.service.subscribe_answer(self.live, pid, offer["version"], subscriber_answer(offer["sdp"]))

    @property
    def a_token(self) -> str:
        return self.a_socket.of("joined")[0]["resume_token"]

    async def resume(self, keep_media: bool, token: str | None = None) -> tuple[Socket, str]:
        socket = Socket()
        _, pid = await self.service.join(
            self.m.ann.token, self.m.room["id"], socket.link(), resume=token or self.a_token, keep_media=keep_media
        )
        return socket, pid


async def call(meetings: Any) -> Call:
    scene = Call(meetings)
    await scene.setup()
    return scene


def batch_ops(registry: Any, since: int) -> list[Any]:
    return [op for _, batch in registry.batches[since:] for op in batch]


async def test_joined_carries_a_resume_token_of_the_participant(meetings) -> None:
    scene = await call(meetings)
    joined = scene.a_socket.of("joined")[0]
    assert joined["resumed"] is False and "media" not in joined
    async with meetings.service.context() as ctx:
        claims = resume.verify(ctx.token_key, joined["resume_token"])
    assert claims == resume.ResumeClaims(scene.live.id, scene.a, f"u:{meetings.ann.id}")
    assert resume.verify("another key " * 4, joined["resume_token"]) is None
    forged = jwt.encode({"mid": "m", "pid": "p", "sub": "s", "aud": "podium-guest", "typ": "resume"}, KEY)
    assert resume.verify(KEY, forged) is None


async def test_a_closed_socket_stays_and_resumes_with_media_kept(meetings) -> None:
    scene = await call(meetings)
    service, live = scene.service, scene.live
    await service.disconnected(live, scene.a, None)
    assert scene.a not in live.links and live.state.get(scene.a) is not None
    # something changes while nobody listens on A's side: O unpublishes, A's consumer ends
    await service.close_producer(live, scene.o, MIC)
    before, batches = live.media.records, len(scene.registry.batches)
    socket, pid = await scene.resume(keep_media=True)
    assert pid == scene.a and len(scene.registry.batches) == batches  # nothing done in the engine
    assert live.media.peers[pid].pub_transport == before.peers[pid].pub_transport
    joined = socket.frames[0]
    assert (joined["type"], joined["resumed"], joined["media"]) == ("joined", True, "kept")
    assert joined["you"]["role"] == "participant" and "microphone" not in joined["you"]["capabilities"]
    assert joined["participant_id"] == scene.a and {p["id"] for p in joined["participants"]} == {scene.o, scene.a}
    # the offer the old socket never saw comes to the new one
    offer = socket.of("subscribe-offer")[-1]
    assert [c["active"] for c in offer["consumers"]] == [False]
    await scene.answer(pid, socket)
    assert scene.o_socket.of("participant-left") == []


async def test_resume_without_media_renews_the_transports(meetings) -> None:
    scene = await call(meetings)
    service, live = scene.service, scene.live
    await service.disconnected(live, scene.a)
    o_offers, batches = len(scene.o_socket.of("subscribe-offer")), len(scene.registry.batches)
    socket, pid = await scene.resume(keep_media=False)
    assert pid == scene.a and socket.frames[0]["media"] == "renew"
    done = batch_ops(scene.registry, batches)
    closed = {op.id for op in done if isinstance(op, ops.CloseTransport)}
    assert closed == {f"{pid}.pub", f"{pid}.sub"}
    # a new subscribe transport with new credentials, offered from version 1; O's consumer of A ended
    assert [op.id for op in done if isinstance(op, ops.CreateWebRtcTransport)] == [f"{pid}.sub"]
    assert socket.of("subscribe-offer")[0]["version"] == 1
    assert [c["active"] for c in scene.o_socket.of("subscribe-offer")[o_offers]["consumers"]] == [False]
    assert scene.o_socket.of("track-unpublished")[-1] == {
        "type": "track-unpublished",
        "participant_id": pid,
        "source": "microphone",
        "kind": "audio",
    }
    # publishing again: the revoked microphone comes back gated, and O gets it again (paused)
    await service.publish(live, pid, audio_offer(3333), {"0": MIC}, frozenset())
    publication = live.media.peers[pid].publications[MIC]
    assert publication.paused and MIC not in live.state.get(pid).sources_on
    assert publication.producer_id != f"{pid}.microphone.1"  # ids count on
    assert live.republish == {}


async def test_the_old_socket_is_replaced(meetings) -> None:
    scene = await call(meetings)
    socket, pid = await scene.resume(keep_media=True)
    await asyncio.sleep(0)
    assert pid == scene.a and scene.live.links[pid] is not None
    assert scene.a_socket.of("disconnected")[-1]["reason"] == "replaced"
    assert scene.a_socket.closed == (CLOSE_REPLACED, "replaced")
    # the old socket's end does not start a grace for the resumed participant
    old_link = scene.a_socket.link()
    await scene.service.disconnected(scene.live, pid, old_link)
    assert pid in scene.live.links and scene.service.graces.running == {}


async def test_a_stale_or_foreign_token_joins_a_new_participant(meetings) -> None:
    scene = await call(meetings)
    await scene.service.disconnected(scene.live, scene.a, None)  # A's socket dropped: no take-over
    o_token = scene.o_socket.of("joined")[0]["resume_token"]
    _, pid = await scene.resume(keep_media=True, token=o_token)  # Ann presents the organizer's token
    assert pid not in (scene.o, scene.a)
    await scene.service.leave(scene.live, pid)
    _, other = await scene.resume(keep_media=True, token="not.a.token")
    assert other not in (scene.o, scene.a, pid)
    await scene.service.leave(scene.live, other)
    await scene.service.leave(scene.live, scene.a)
    _, again = await scene.resume(keep_media=True)  # A left: the token names nobody now
    assert again != scene.a and scene.live.state.get(again).waiting


async def test_a_second_tab_takes_the_participant_over(meetings) -> None:
    """The same person joins again without a resume token while connected (a second tab): the new socket
    becomes that participant (no one appears twice), the old one is told and closed with 4011, the media is
    renewed and the sources are off until the new page publishes what it chose."""
    scene = await call(meetings)
    service, live = scene.service, scene.live
    await service.act(live, scene.o, Command(Action.GRANT_PERMISSION, target=scene.a, capability=Capability.MICROPHONE))
    await service.act(live, scene.a, Command(Action.TURN_ON_SOURCE, source=MIC))
    assert MIC in live.state.get(scene.a).sources_on
    before = len(live.state.participants)
    socket = Socket()
    _, pid = await service.join(meetings.ann.token, meetings.room["id"], socket.link())
    await asyncio.sleep(0)
    assert pid == scene.a and len(live.state.participants) == before
    assert live.state.get(pid).admitted and live.state.get(pid).sources_on == frozenset()
    joined = socket.of("joined")[0]
    assert joined["resumed"] is True and joined["media"] == "renew" and joined["you"]["sources_on"] == []
    assert scene.a_socket.of("disconnected")[-1]["reason"] == "joined_elsewhere"
    assert scene.a_socket.closed == (CLOSE_JOINED_ELSEWHERE, "joined_elsewhere")
    assert live.republish == {}  # the new page's publish decides what is on
    # the others hear that the microphone went off, and see one Ann
    changed = [f for f in scene.o_socket.of("source-changed") if f["participant_id"] == pid]
    assert changed[-1]["on"] is False
    # the old socket's end starts no grace
    await service.disconnected(live, pid, scene.a_socket.link())
    assert pid in live.links and service.graces.running == {}


async def test_a_stranded_meeting_resumes_with_media_waiting(meetings) -> None:
    scene = await call(meetings)
    scene.live.stranded = True
    socket, _ = await scene.resume(keep_media=True)
    assert socket.frames[0]["media"] == "wait"


async def test_the_grace_runs_out_and_the_ghost_leaves(meetings) -> None:
    scene = await call(meetings)
    scene.service.graces.seconds = 0.05
    await scene.service.disconnected(scene.live, scene.a)
    assert scene.live.state.get(scene.a) is not None
    left = await wait_for(lambda: scene.o_socket.of("participant-left"))
    assert left == [{"type": "participant-left", "participant_id": scene.a, "reason": "left"}]
    assert scene.live.state.get(scene.a) is None


async def test_a_resume_within_the_grace_cancels_the_departure(meetings) -> None:
    scene = await call(meetings)
    scene.service.graces.seconds = 0.2
    await scene.service.disconnected(scene.live, scene.a)
    await scene.resume(keep_media=True)
    await asyncio.sleep(0.4)
    assert scene.live.state.get(scene.a) is not None and scene.o_socket.of("participant-left") == []


async def wait_for(check: Any, timeout: float = 3.0) -> Any:
    async with asyncio.timeout(timeout):
        while not (value := check()):
            await asyncio.sleep(0.01)
    return value


async def test_media_is_not_kept_when_the_meeting_moved_while_the_socket_was_gone(meetings) -> None:
    """A participant without a socket missed the move's `reconnect`: their peer connections name the
    lost worker, so a resume renews them even when they say they are connected."""
    scene = await call(meetings)
    service, live = scene.service, scene.live
    await service.disconnected(live, scene.a)
    live.media = service.media(live.id, "w2")  # what a move does (control.meetings.failover)
    socket, pid = await scene.resume(keep_media=True)
    assert pid == scene.a and socket.frames[0]["media"] == "renew"
