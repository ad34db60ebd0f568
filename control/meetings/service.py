"""The meetings service: the entry points (join, act, leave, publish, chat) that execute the pure
meeting policy against the store and the engine.

Every change goes through the commit pipeline (control.meetings.commit): policy decides
(`control.domain.moderation`), the engine applies and acknowledges the operations that enforce the
decision, and only then does the meeting's state change, its persistent effects reach the store
and clients and observers hear of it. Changes of one meeting are serialised by its lock; meetings
are independent. Publishing lives in control.meetings.publishing, moving meetings off lost
workers in control.meetings.failover, the frames clients get in control.meetings.frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from control import metrics
from control.domain import moderation
from control.domain.meeting_state import (
    USER_PREFIX,
    Code,
    MeetingState,
    Refused,
    Removal,
    listed_count,
)
from control.domain.moderation import Action, Command, Disconnect, Reason
from control.domain.moderation.commands import RECORD_ACTIONS
from control.domain.roles import Source
from control.engines import EngineChannelError, EngineRegistry
from control.engines.mesh import pipe_address
from control.engines.placement import spill
from control.meetings import chat, entry, frames
from control.meetings.bandwidth import SubscriberBandwidth
from control.meetings.commit import Commits
from control.meetings.durable.restore import Restore
from control.meetings.encodings import PublisherLayers
from control.meetings.errors import MeetingError, engine_unavailable, refused
from control.meetings.failover import Failover
from control.meetings.graces import ResumeGraces
from control.meetings.identity import identify_token
from control.meetings.live import Identity, Link, LiveMeeting
from control.meetings.media import Media
from control.meetings.media_records import Endpoint, MediaRecords, Peer
from control.meetings.observers import MeetingObserver, Observers
from control.meetings.pipes import worker_of, workers
from control.meetings.publishing import Publishing
from control.meetings.recordings import Recordings
from control.meetings.remote_control import RemoteControl
from control.meetings.resuming import CLOSE_REPLACED, RESTART_WAIT, Resuming, ready
from control.meetings.settings_requests import SettingsRequests
from control.meetings.snapshot import snapshot as meeting_snapshot
from control.meetings.speaker import ActiveSpeakers
from control.meetings.visibility import Viewer
from control.meetings.whiteboard import Whiteboards
from control.meetings.whiteboard_previews import WhiteboardPreviews
from control.recording.library import RecordingLibrary
from control.replicas.ownership import Sole
from control.services.context import Context
from control.store.models import Meeting, Room
from control.store.repositories.meetings import MeetingStore
from control.types import Principal

log = logging.getLogger("podium.meetings")

CLOSE_RESTARTING = 1012
"""The close code of every participant's socket when the control plane stops: reconnect and resume."""

__all__ = ["CLOSE_REPLACED", "Identity", "Link", "LiveMeeting", "MeetingError", "MeetingService", "refused"]


class MeetingService:
    """Live meetings of this control plane and every operation on them."""

    def __init__(
        self,
        context: Callable[[], contextlib.AbstractAsyncContextManager[Context]],
        registry: EngineRegistry,
        *,
        clock: Callable[[], float] = time.time,
        resume_grace: float | None = None,
        ice_servers: Callable[[str], list[dict[str, Any]]] = lambda participant_id: [],
        ownership: Sole | None = None,
        worker_capacity: int | None = None,
        pipe_srtp: bool = False,
        recordings: RecordingLibrary | None = None,
        storage_quota: int | None = None,
    ) -> None:
        self.context = context
        self.registry = registry
        self.clock = clock
        self.graces = ResumeGraces(self, resume_grace)
        """Seconds a participant whose socket closed without `leave` stays, resumable, before they
        leave (`resume_grace`; None: `Settings.resume_grace`)."""
        self._token_key: str | None = None
        """The control plane's token key (signs resume tokens), cached from the first context."""
        self.ice_servers = ice_servers
        self.worker_capacity = worker_capacity
        """Participants a worker takes before a meeting spills to the next (Settings.worker_capacity)."""
        """participant id → the RTCIceServer list of its `joined` frame (TURN credentials)."""
        self.live: dict[str, LiveMeeting] = {}
        """meeting id → live meeting."""
        self._by_room: dict[str, str] = {}
        self._opening: dict[str, asyncio.Lock] = {}
        self.observers = Observers()
        self.action_latency = metrics.Histogram(
            "podium_moderation_seconds", "Time from a moderation request to the engine's ack of its table version."
        )
        self._tasks: set[asyncio.Task[Any]] = set()
        self.commits = Commits(context, registry, self.observers, self._forget, self.spawn)
        self.commits.mesh.srtp_always = pipe_srtp
        self.publishing = Publishing(self.commits, clock)
        self.resuming = Resuming(self)
        self.failover = Failover(self)
        self.restorer: Restore | None = None
        self.closing = False
        self.ownership = ownership or Sole()
        """Which meetings this process runs: all (`Sole`), or those whose lease it holds among
        replicas on PostgreSQL (control.replicas.ownership)."""
        self.ownership.bind(self)
        self.commits.ownership = self.ownership
        self.commits.lease_lost = self.drop
        # beside the media: the whiteboard, settings requests and remote control (observers, to forget
        # a meeting that ended and to end what its people's departures end)
        self.whiteboards = Whiteboards(context, clock)
        self.settings_requests = SettingsRequests(context)
        self.remote_control = RemoteControl(context, self.live.get)
        self.whiteboard_previews = WhiteboardPreviews(clock)
        for tool in (self.whiteboards, self.whiteboard_previews, self.settings_requests, self.remote_control):
            self.observers.add(tool)
        self.recordings = Recordings(
            recordings or RecordingLibrary(Path(tempfile.gettempdir()) / "podium-recordings"),
            storage_quota,
            self._decide_and_commit,
            lambda live, description: self.observers.recording_ready(live.info(), description),
        )
        registry.add_listener(self.failover.on_registry_event)
        self.speakers = ActiveSpeakers(self)
        self.publisher_layers = PublisherLayers(clock)
        self.commits.media_changed = self._media_changed
        registry.add_listener(self.speakers.on_registry_event)
        self.bandwidth = SubscriberBandwidth(self)
        registry.add_listener(self.bandwidth.on_registry_event)

    def _media_changed(self, live: LiveMeeting) -> None:
        """After every committed media change: the publishers' layers, and the views that waited for
        it (a consumer made, an engine answering again)."""
        self.publisher_layers.changed(live)
        views = self.publishing.due_views(live)
        if views:
            self.spawn(self.publishing.apply_views(live, views, lambda: self.speakers.current.get(live.id)))

    def add_observer(self, observer: MeetingObserver) -> None:
        """Chat, attendance and other layers hear about joins, departures, sources and chat here."""
        self.observers.add(observer)

    async def observed(self) -> None:
        """Returns once the observers have heard every change queued so far."""
        await self.observers.observed()

    def stopping(self) -> None:
        """The control plane is about to close every socket: none of that makes anyone leave."""
        self.closing = True

    async def close(self) -> None:
        """Shutting down: meetings are not ended (the database holds them and the next process
        resumes them); every socket closes with 1012 (service restart), which clients answer by
        resuming, and closed sockets no longer make anyone leave."""
        self.closing = True
        if self.restorer is not None:
            self.restorer.close()
        self.recordings.close_all(list(self.live.values()))
        for live in list(self.live.values()):
            for link in list(live.links.values()):
                with contextlib.suppress(Exception):
                    await link.close(CLOSE_RESTARTING, "server restarting")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):
                await self.observed()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:  # let them unwind (a database session returns its connection) before the loop ends
            await asyncio.wait(tasks, timeout=1)
        self.observers.close()

    def spawn(self, coro: Awaitable[Any]) -> asyncio.Future[Any]:
        """Runs `coro` beside the caller; it is cancelled when the service closes."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def meeting(self, meeting_id: str) -> LiveMeeting | None:
        return self.live.get(meeting_id)

    def meeting_of_room(self, room_id: str) -> LiveMeeting | None:
        meeting_id = self._by_room.get(room_id)
        return self.live.get(meeting_id) if meeting_id else None

    def adopt(self, live: LiveMeeting) -> None:
        """Hold a meeting restored from the database (control.meetings.durable.restore)."""
        self.live[live.id] = live
        self._by_room[live.room_id] = live.id

    async def restore(self, grace: float) -> list[LiveMeeting]:
        """Resume the meetings a previous process left running (control.meetings.durable.restore):
        each waits up to `grace` for its worker, then its people have the resume grace to come back."""
        self.restorer = Restore(self, grace)
        restored = await self.restorer.load(self.ownership.claim)
        for live in restored:
            self.recordings.interrupted(live)
        return restored

    def rooms(self) -> list[str]:
        """The rooms whose meeting runs here."""
        return list(self._by_room)

    def opening(self, room_id: str) -> asyncio.Lock:
        """Held while the room's meeting is opened or taken over here."""
        return self._opening.setdefault(room_id, asyncio.Lock())

    async def drop(self, live: LiveMeeting) -> None:
        """Another replica runs the meeting now (this one lost its lease): stop it here without
        ending it. Its sockets close with 1012, so that its clients resume, and are sent to the
        owner; its router leaves this process's worker."""
        async with live.lock:
            if self.live.get(live.id) is not live:
                return
            self._forget(live)
            self.graces.cancel_meeting(live)
            for link in list(live.links.values()):
                with contextlib.suppress(Exception):
                    await link.close(CLOSE_RESTARTING, "the meeting moved to another replica")
            live.links.clear()
            if not live.stranded:
                with contextlib.suppress(EngineChannelError):
                    ack = self.registry.resync_router(live.media.worker_id, live.media.router_id, [])
                    self.spawn(Commits._resynced(live.media.worker_id, ack))

    def _forget(self, live: LiveMeeting) -> None:
        if live.recording is not None:
            self.recordings.finish(live, "meeting_ended")
        self.live.pop(live.id, None)
        self.speakers.forget(live.id)
        self.bandwidth.forget(live.id)
        self.publisher_layers.forget(live.id)
        if self._by_room.get(live.room_id) == live.id:
            del self._by_room[live.room_id]

    def media(self, meeting_id: str, worker_id: str) -> Media:
        info = self.registry.worker(worker_id)
        return self.spanning(Media(meeting_id, worker_id, list(info.dtls_fingerprints), list(info.candidates)))

    def spanning(self, media: Media) -> Media:
        """Let the meeting's participants spill onto other workers (`worker_capacity`), their
        transports told those workers' certificates and candidates."""
        media.placer = lambda peers: self._place_participant(media, peers)
        media.endpoint = self._endpoint
        media.pipe_transport = self.commits.mesh.transport_op
        return media

    def _endpoint(self, worker_id: str) -> Endpoint:
        info = self.registry.worker(worker_id)
        return Endpoint(list(info.dtls_fingerprints), list(info.candidates), pipe_address(info))

    def _place_participant(self, media: Media, peers: Mapping[str, Peer]) -> str:
        """control.engines.placement.spill over every live meeting's participants."""
        capacity = self.worker_capacity
        if capacity is None:
            return media.worker_id
        people: dict[str, int] = {}
        for live in self.live.values():
            if live.media is media:
                continue
            for peer in live.media.peers.values():
                worker = worker_of(peer, live.media.worker_id)
                people[worker] = people.get(worker, 0) + 1
        mine = MediaRecords(MappingProxyType(dict(peers)), workers=media.records.workers)
        for peer in peers.values():
            worker = worker_of(peer, media.worker_id)
            people[worker] = people.get(worker, 0) + 1
        return spill(workers(mine, media.worker_id), people, capacity, self.registry.preference(require=["webrtc"]))

    # ---- identity ------------------------------------------------------------------------------

    async def identify(self, token: str, room_id: str) -> tuple[Identity, Room]:
        """The person behind a join token, with the room (control.meetings.identity)."""
        async with self.context() as ctx:
            self._token_key = ctx.token_key
            return await identify_token(ctx, token, room_id)

    # ---- joining -------------------------------------------------------------------------------

    async def join(
        self, token: str, room_id: str, link: Link, *, resume: str | None = None, keep_media: bool = False
    ) -> tuple[LiveMeeting, str]:
        """Enter the room's running meeting (opening one if none runs), in the role the person's
        rights give them (control.domain.moderation.authority), within the quotas. Sends the
        `joined` frame, before any other, (and tells the others) before returning (meeting,
        participant id). With a `resume` token of a participant still in the meeting, and a `token`
        of the same person, this socket becomes that participant again (control.meetings.resuming); any other resume
        token is ignored. A person already in the meeting on another open socket (a second tab) takes that
        participant over (`Resuming.take_over`); else a new participant joins. Among replicas, the room's lease
        is claimed first (taking over the meeting a dead replica left), or MeetingElsewhere names the live
        replica that runs it."""
        identity, room = await self.identify(token, room_id)
        async with self.opening(room_id):
            claimed = self.meeting_of_room(room_id) is None
            if claimed:  # the room's lease (another replica may run its meeting: MeetingElsewhere)
                await self.ownership.arrive(room_id)
        try:
            return await self._join(identity, room, link, resume, keep_media)
        except BaseException:
            if claimed:
                await self.ownership.unclaim(room_id)
            raise

    async def _join(
        self, identity: Identity, room: Room, link: Link, resume: str | None, keep_media: bool
    ) -> tuple[LiveMeeting, str]:
        room_id = room.id
        if resume is not None:
            resumed = await self.resuming.resume(resume, identity, room_id, link, keep_media)
            if resumed is not None:
                return resumed
        taken = await self.resuming.take_over(identity, room_id, link)  # the same person on another socket
        if taken is not None:
            return taken
        pid = "p" + secrets.token_hex(6)
        async with self.opening(room_id):
            live = self.meeting_of_room(room_id)
            if live is None:
                async with self.context() as ctx:
                    await entry.check_entry(ctx, room, None, self.live.values())
                live, new = await self._open(room, identity, pid)
                effects: tuple[Any, ...] = ()
                opened = True
            else:
                opened = False
        await ready(live)
        async with live.lock:
            if live.state.ended:
                raise refused(Refused(Code.MEETING_ENDED, "the meeting has ended"))
            if not opened:
                async with self.context() as ctx:
                    await entry.check_entry(ctx, room, live, self.live.values())
                decision = moderation.join(
                    live.state,
                    pid,
                    identity.person,
                    registered=identity.registered,
                    now=self.clock(),
                    rights=entry.rights(identity),
                    capabilities=identity.rights,
                )
                if isinstance(decision, Refused):
                    raise refused(decision)
                new, effects = decision.state, tuple(decision.effects)

            def arrived() -> None:
                live.enter(pid, identity, link)
                me = live.state.get(pid)
                assert me is not None
                link.send(
                    frames.joined(
                        live, me, self.resuming.token(live, me.id, identity.person), ice_servers=self.ice_servers(pid)
                    ).wire()
                )

            try:
                await self.commits.commit(live, new, effects, actor=pid, accepted=arrived, arrival=(pid, identity))
            except MeetingError:
                if opened:
                    self._forget(live)
                raise
            me = live.state.get(pid)
            assert me is not None
            if me.admitted:
                live.broadcast_listed(
                    me,
                    lambda viewer: frames.ParticipantJoined(participant=frames.participant(live, me, viewer)).wire(),
                    exclude=pid,
                )
                self.speakers.greet(live, pid)
            if opened:
                self.observers.meeting_started(live.info())
            if me.waiting:
                self.observers.participant_waiting(live.info(), pid, identity.person, identity.name)
            else:
                self.observers.participant_joined(live.info(), pid, identity.person, identity.name)
            self.observers.role_changed(live.info(), pid, str(me.role))
        return live, pid

    async def _open(self, room: Room, identity: Identity, pid: str) -> tuple[LiveMeeting, MeetingState]:
        """A new live meeting for the room (no one in it yet), and its state once the opener joined."""
        now = self.clock()
        worker_id = await self._place()
        async with self.context() as ctx:
            store = MeetingStore(ctx.session)
            rows = await store.removals(room.id, ctx.now())
            removals = [Removal(r.person, r.until.timestamp()) for r in rows if r.kind == "removal" and r.until]
            bans = [r.person for r in rows if r.kind == "ban"]
            state = moderation.open_meeting(
                entry.features(room),
                pid,
                identity.person,
                registered=identity.registered,
                rights=entry.rights(identity),
                now=now,
                removals=removals,
                bans=bans,
                capabilities=identity.rights,
            )
            if isinstance(state, Refused):
                raise refused(state)
            if not room.chat:
                state = replace(state, chat_enabled=False)
            meeting = Meeting(
                company_id=room.company_id,
                room_id=room.id,
                opened_by=identity.user_id or "",
                started_at=ctx.now(),
                worker_id=worker_id,
            )
            await store.add(meeting)
            await ctx.session.commit()
            meeting_id = meeting.id
        live = LiveMeeting(
            meeting_id, room.id, room.company_id, replace(state, participants=()), self.media(meeting_id, worker_id)
        )
        self.live[meeting_id] = live
        self._by_room[room.id] = meeting_id
        log.info("meeting %s opened in room %s on worker %s", meeting_id, room.id, worker_id)
        return live, state

    async def _place(self) -> str:
        """The worker a new meeting goes to; while none is live but a supervisor is restarting one
        (`podium serve` after a worker crash), it waits for that one rather than refuse."""
        try:
            return self.registry.pick_worker(require=["webrtc"])
        except EngineChannelError as error:
            if not self.registry.restarting():
                raise engine_unavailable(str(error)) from None
        with contextlib.suppress(TimeoutError, EngineChannelError):
            async with asyncio.timeout(RESTART_WAIT):
                while True:
                    await self.registry.wait_for_worker(timeout=RESTART_WAIT)
                    with contextlib.suppress(EngineChannelError):
                        return self.registry.pick_worker(require=["webrtc"])
                    await asyncio.sleep(0.1)
        raise engine_unavailable("no live engine worker: the one being restarted did not come back in time")

    # ---- actions -------------------------------------------------------------------------------

    async def act(self, live: LiveMeeting, actor: str, command: Command, *, started: float | None = None) -> int | None:
        """Decide and carry out one command; returns the engine version that enforces it (None
        when no engine operation was needed). Raises MeetingError when policy or the engine refuses."""
        started = started if started is not None else time.perf_counter()
        if command.action in RECORD_ACTIONS:  # the recorder is started before, finalised after
            return await self.recordings.act(live, actor, command, started)
        return await self._decide_and_commit(live, actor, command, started)

    async def _decide_and_commit(
        self, live: LiveMeeting, actor: str, command: Command, started: float | None
    ) -> int | None:
        started = started if started is not None else time.perf_counter()
        async with live.lock:
            decision = moderation.decide(live.state, actor, command, self.clock())
            if isinstance(decision, Refused):
                raise refused(decision)
            version = await self.commits.commit(
                live, decision.state, decision.effects, actor=actor, action=command, started=started
            )
            self.observers.moderated(live.info(), actor, str(command.action), command.target, _detail(command))
        self.action_latency.observe(time.perf_counter() - started)
        return version

    async def leave(
        self, live: LiveMeeting, pid: str, reason: Reason = Reason.LEFT, *, unless_resumed: bool = False
    ) -> None:
        """The participant left (or their resume grace ran out: `unless_resumed`, and then not if a
        socket is attached to them again); `reason` tells them and the others why (e.g. REVOKED:
        their invitation was revoked). Raises MeetingError when the engine did not apply the
        departure (the participant then stays in the meeting's state)."""
        async with live.lock:
            if unless_resumed and pid in live.links:
                return
            self.graces.cancel(live, pid)
            if live.state.get(pid) is None:
                live.links.pop(pid, None)
                return
            decision = moderation.decide(live.state, pid, Command(Action.LEAVE), self.clock())
            if isinstance(decision, Refused):
                return
            effects = tuple(
                replace(e, reason=reason) if isinstance(e, Disconnect) and e.participant == pid else e
                for e in decision.effects
            )
            await self.commits.commit(live, decision.state, effects, actor=pid)

    async def disconnected(
        self, live: LiveMeeting, pid: str, link: Link | None = None, *, media: Media | None = None
    ) -> None:
        self.absent(live, pid, link, media=media)

    def absent(self, live: LiveMeeting, pid: str, link: Link | None = None, *, media: Media | None = None) -> None:
        """The participant's socket closed without `leave`: they stay for the resume grace
        (control.meetings.graces)."""
        self.graces.start(live, pid, link, media=media)

    def actor_for_user(self, live: LiveMeeting, user_id: str, participant_id: str | None = None) -> str:
        """The participant a REST caller acts as: the given one if it is theirs, else their first."""
        mine = [p.id for p in live.state.of_person(USER_PREFIX + user_id)]
        if participant_id is not None:
            if participant_id not in mine:
                raise refused(Refused(Code.UNKNOWN_PARTICIPANT, f"{participant_id} is not one of yours"))
            return participant_id
        if not mine:
            raise refused(Refused(Code.UNKNOWN_PARTICIPANT, "you are not in this meeting"))
        return mine[0]

    # ---- media (control.meetings.publishing) -----------------------------------------------------

    async def publish(
        self, live: LiveMeeting, pid: str, sdp: str, sources: dict[str, Source], muted: frozenset[Source]
    ) -> frames.PublishAnswer:
        return await self.publishing.publish(live, pid, sdp, sources, muted)

    async def close_producer(self, live: LiveMeeting, pid: str, source: Source) -> None:
        await self.publishing.close_producer(live, pid, source)

    async def subscribe_answer(self, live: LiveMeeting, pid: str, version: int, sdp: str) -> None:
        await self.publishing.subscribe_answer(live, pid, version, sdp)

    async def view(self, live: LiveMeeting, pid: str, consumer_id: str, width: int, height: int) -> None:
        await self.publishing.view(live, pid, consumer_id, width, height, self.speakers.current.get(live.id))

    # ---- chat ----------------------------------------------------------------------------------

    async def chat(self, live: LiveMeeting, pid: str, text: str, to: str | None) -> None:
        """A chat message from `pid`, to everyone or to `to` (control.meetings.chat)."""
        await chat.send(live, pid, text, to, self.observers, self.clock)

    # ---- views ---------------------------------------------------------------------------------

    def snapshot(self, live: LiveMeeting, caller: Principal | Viewer | None = None) -> dict[str, Any]:
        """The meeting as the REST API shows it to `caller` (control.meetings.snapshot)."""
        return meeting_snapshot(live, caller)

    def online(self, room_id: str) -> int:
        """How many are in the room's running meeting (the waiting room and hidden people excluded): a
        presence count."""
        live = self.meeting_of_room(room_id)
        return listed_count(live.state) if live is not None else 0


def _detail(command: Command) -> dict[str, Any]:
    """What a moderation command named beside its target, for the `moderated` hook."""
    named = {"source": command.source, "capability": command.capability, "person": command.person}
    return {k: v for k, v in {**named, "seconds": command.seconds}.items() if v is not None}
