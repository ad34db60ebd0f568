"""The commit pipeline: the one path every change of a live meeting takes.

Policy has decided (`control.domain.moderation`): the new state and its effects. The pipeline
computes the engine operations and the new media records from them (`Media.reconcile`, pure),
sends the operations as one versioned batch and awaits the worker's acknowledgement. Then, in one
database transaction, it writes the meeting's new documents (control.meetings.durable: what a
restarted control plane resumes from), the decision's persistent effects (removals, bans, revoked
tokens) and the audit entry with the version that enforces it. Only then does it swap the new state
and records in and tell clients and observers. So a caller that gets a version back knows the
engine enforces the change and the database holds it.

When the worker refuses an operation, does not answer in time or is lost, nothing changes: the
old state and records stand, the caller gets a MeetingError (`engine_refused`, `engine_timeout`,
`engine_unavailable`), and the worker is sent the table the kept records describe, undoing
whatever part of the batch it did apply (`resync`). When the database does not commit, the same
resync undoes the batch the engine applied, and the caller gets `store_unavailable`. The caller
holds the meeting's lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Any

from contract.acks import Ack
from contract.ops import Close
from control.domain.meeting_state import USER_PREFIX, MeetingState, iso
from control.domain.moderation import (
    Action,
    Command,
    Disconnect,
    FloorChanged,
    HiddenChanged,
    MeetingEnded,
    PermissionChanged,
    Reason,
    RecordingChanged,
    RevokeTokens,
    RoleChanged,
    RoomChanged,
    SourceChanged,
    SuccessorChosen,
    VisitChanged,
    WaitingChanged,
)
from control.engines import AckTimeout, EngineChannelError, EngineRegistry, OpsRefused
from control.engines.mesh import PipeMesh, pairs
from control.meetings import frames
from control.meetings.durable import documents
from control.meetings.errors import MeetingError, engine_refused, engine_timeout, engine_unavailable, store_unavailable
from control.meetings.live import Identity, LiveMeeting
from control.meetings.media_records import MediaRecords, Op
from control.meetings.observers import Observers
from control.meetings.pipes import media_workers, prefix
from control.replicas.ownership import LeaseLost, Sole
from control.services.context import Context
from control.store.models import AuditEvent, RoomRemoval
from control.store.repositories.live_meetings import LiveMeetings
from control.store.repositories.meetings import MeetingStore

log = logging.getLogger("podium.meetings")

ContextFactory = Callable[[], contextlib.AbstractAsyncContextManager[Context]]


class Commits:
    """Carries out decisions against the engine, the store and the clients."""

    def __init__(
        self,
        context: ContextFactory,
        registry: EngineRegistry,
        observers: Observers,
        ended: Callable[[LiveMeeting], None],
        spawn: Callable[[Any], None],
    ) -> None:
        self._context = context
        self.registry = registry
        self.observers = observers
        self._ended = ended
        """Forgets a meeting that ended (the service's live-meeting maps)."""
        self._spawn = spawn
        self.ownership: Sole = Sole()
        """Whether this process still runs a meeting: every write of its documents is fenced by its
        lease (control.replicas.ownership)."""
        self.lease_lost: Callable[[LiveMeeting], Awaitable[None]] | None = None
        """Stops a meeting here whose lease another replica holds (the service's `drop`)."""
        self.mesh = PipeMesh(registry)
        self.media_changed: Callable[[LiveMeeting], None] | None = None
        """Runs after every committed change of a meeting's media records (the publishers' layers)."""

    async def commit(
        self,
        live: LiveMeeting,
        new: MeetingState,
        effects: tuple[Any, ...],
        *,
        actor: str,
        action: Command | None = None,
        started: float | None = None,
        records: MediaRecords | None = None,
        ops: Iterable[Op] = (),
        accepted: Callable[[], None] | None = None,
        arrival: tuple[str, Identity] | None = None,
    ) -> int | None:
        """Make `new` the meeting's state once the engine enforces it; returns the table version
        that does (None when no operation was needed). `records` and `ops`: a media change
        computed before (publishing) that the reconciliation starts from. `accepted` runs right
        after the swap, before anyone is told (an arrival connects there, so `joined` is their
        first frame); `arrival`: who that is, for the stored document. Raises MeetingError when the
        engine did not apply the change, or the database did not record it (the engine is then put
        back as it was)."""
        old = live.state
        base = records if records is not None else live.media.records
        planned, after = live.media.reconcile(base, new)
        batch = [*ops, *planned]
        ended = next((e for e in effects if isinstance(e, MeetingEnded)), None)
        if ended is not None:
            closing, after = live.media.close(after)
            batch += closing
        shares, after = live.media.split(batch, live.media.records, after)
        version = await self.apply(live, shares, started)
        after, offers = self._offers(live, after, ended is None)
        try:
            await self._record(live, old, new, after, effects, actor, action, version, arrival, ended is not None)
        except MeetingError:
            raise
        except Exception as error:  # the database: put the engine back as it was, nothing happened
            log.error("meeting %s: the change was not recorded (%r); undoing it in the engine", live.id, error)
            if batch:
                self.resync(live)
            if isinstance(error, LeaseLost) and self.lease_lost is not None:
                self._spawn(self.lease_lost(live))
            raise store_unavailable("the database did not record the change, which did not happen") from None
        live.state, live.media.records = new, after
        if accepted is not None:
            accepted()
        self._tell(live, old, effects, actor)
        if self.media_changed is not None:
            self.media_changed(live)
        for pid, offer in offers:
            live.send(pid, frames.subscribe_offer(*offer).wire())
        self.waiting_update(live)
        if ended is not None:
            await self._finish(live, ended.reason)
        return version

    def _offers(
        self, live: LiveMeeting, records: MediaRecords, open_: bool
    ) -> tuple[MediaRecords, list[tuple[str, tuple[int, str]]]]:
        """The subscribe offers the change calls for, and the records that remember them. A
        participant with no socket now (in their resume grace, or arriving: `accepted` attaches them)
        gets theirs when a socket is attached: it is the pending offer then."""
        offers = []
        if open_:
            for pid in list(records.peers):
                records, offer = live.media.subscribe_offer(records, pid)
                if offer is not None:
                    offers.append((pid, offer))
        return records, offers

    async def apply(self, live: LiveMeeting, shares: dict[str, list[Op]], started: float | None) -> int | None:
        """Send each worker its share of the change as one batch (control.meetings.pipes: a meeting
        spanning workers has one per worker) and await every ack; when one worker refuses, does not
        answer or is lost, resync every worker the meeting is on to the kept records (undoing the
        shares the others applied) and raise. Returns the version the meeting's first worker acked
        (or another's, when it had no share)."""
        if not shares:
            return None
        if live.stranded:
            raise engine_unavailable("the meeting's engine worker was lost; the meeting is moving to another")
        known = {w.worker_id for w in self.registry.workers()}
        # a lost worker's table went with it: what closes objects there has nothing left to close
        shares = {w: s for w, s in shares.items() if w in known or not all(isinstance(op, Close) for op in s)}
        if not shares:
            return None
        try:
            await self.mesh.ensure(pairs(shares))
        except EngineChannelError as error:
            log.error("meeting %s: the pipes between its workers could not be made: %s", live.id, error)
            raise engine_unavailable(f"the engine did not apply the change: {error}") from None
        workers = list(shares)
        outcomes = await asyncio.gather(
            *(self.registry.apply(w, shares[w], started=started) for w in workers), return_exceptions=True
        )
        failed = next((o for o in outcomes if isinstance(o, BaseException)), None)
        if failed is None:
            acks = dict(zip(workers, outcomes, strict=True))
            home = acks.get(live.media.worker_id) or next(iter(acks.values()))
            assert isinstance(home, Ack)
            return home.version
        if isinstance(failed, OpsRefused):
            log.error("meeting %s: engine refused the batch: %s", live.id, failed)
            self.resync(live)
            raise engine_refused(f"the engine refused the change, which did not happen: {failed}") from None
        if isinstance(failed, AckTimeout):
            log.error("meeting %s: engine batch unacknowledged: %s", live.id, failed)
            self.resync(live)
            raise engine_timeout(f"the engine did not confirm the change, which did not happen: {failed}") from None
        if isinstance(failed, EngineChannelError):
            log.error("meeting %s: engine batch failed: %s", live.id, failed)
            if len(workers) > 1:
                self.resync(live)  # undo on the workers that applied their share
            raise engine_unavailable(f"the engine did not apply the change: {failed}") from None
        raise failed

    def resync(self, live: LiveMeeting) -> None:
        """Have every worker of the meeting hold what its current records describe, leaving the
        other meetings on them as they are. Queued now, under the meeting's lock: before any later
        change of this meeting, and after (never undoing) the other meetings' batches already queued."""
        if live.stranded:
            return  # its worker was lost: the move gives it a table on a live one
        media = live.media
        for worker_id in media_workers(live):
            try:
                ack = self.registry.resync_router(
                    worker_id, media.router_id, media.table(media.records, worker_id), owned=prefix(media.router_id)
                )
            except EngineChannelError as error:
                log.warning("engine worker %s: resync after a failed change failed: %s", worker_id, error)
                continue
            self._spawn(self._resynced(worker_id, ack))

    @staticmethod
    async def _resynced(worker_id: str, ack: asyncio.Future[Ack]) -> None:
        try:
            await ack
        except (EngineChannelError, asyncio.CancelledError) as error:
            log.warning("engine worker %s: resync after a failed change failed: %r", worker_id, error)

    # ---- the store ---------------------------------------------------------------------------

    async def _record(
        self,
        live: LiveMeeting,
        old: MeetingState,
        new: MeetingState,
        records: MediaRecords,
        effects: tuple[Any, ...],
        actor: str,
        action: Command | None,
        version: int | None,
        arrival: tuple[str, Identity] | None,
        ending: bool,
    ) -> None:
        """One transaction: the meeting's new documents, the decision's persistent effects
        (removals, bans, revoked tokens, lifted bans) and the audit entry of the action."""
        async with self._context() as ctx:
            now = ctx.now()
            await self.ownership.fence(ctx.session, live.room_id)
            if ending:
                await LiveMeetings(ctx.session).forget(live.id)
            else:
                await self._save(ctx, live, new, records, arrival)
            revokes = [e for e in effects if isinstance(e, RevokeTokens)]
            if revokes:
                await self._revoke(ctx, live, revokes, actor)
            if action is not None and action.action is Action.UNBAN and action.person:
                await MeetingStore(ctx.session).lift_bans(live.room_id, action.person, now)
            if action is not None:
                ctx.session.add(self._audit_entry(live, old, actor, action, version, now))
            await ctx.session.commit()
        if not ending:
            live.saved_peers = dict(records.peers)

    async def save(self, live: LiveMeeting) -> None:
        """Write the meeting's documents as they are (a change that needed no engine operation:
        a move to another worker, a ban lifted from outside the meeting). The caller holds the lock."""
        async with self._context() as ctx:
            await self.ownership.fence(ctx.session, live.room_id)
            await self._save(ctx, live, live.state, live.media.records, None)
            await ctx.session.commit()
        live.saved_peers = dict(live.media.records.peers)

    @staticmethod
    async def _save(
        ctx: Context,
        live: LiveMeeting,
        state: MeetingState,
        records: MediaRecords,
        arrival: tuple[str, Identity] | None,
    ) -> None:
        changed, gone = documents.changed_peers(live.saved_peers or {}, records)
        await LiveMeetings(ctx.session).save(
            live.id,
            documents.meeting_document(live, state, records, arrival),
            ctx.now(),
            stored=live.saved_peers is not None,
            peers={pid: documents.peer_document(peer) for pid, peer in changed.items()},
            known=(live.saved_peers or {}).keys(),
            gone=gone,
        )

    @staticmethod
    async def _revoke(ctx: Context, live: LiveMeeting, revokes: list[RevokeTokens], actor: str) -> None:
        store = MeetingStore(ctx.session)
        now = ctx.now()
        for effect in revokes:
            kind = {Reason.EXCLUDED: "exclusion", Reason.REMOVED: "removal", Reason.BANNED: "ban"}[effect.reason]
            await store.add(
                RoomRemoval(
                    company_id=live.company_id,
                    room_id=live.room_id,
                    person=effect.person,
                    kind=kind,
                    meeting_id=live.id if kind == "exclusion" else None,
                    until=frames.utc(effect.until) if effect.until is not None else None,
                    actor=actor,
                    created_at=now,
                )
            )
            # scoped to the room: the room's removal list refuses the person at every entry; a
            # registered user's login sessions stay valid elsewhere in the company, while a
            # guest's tokens (each for this room only) are revoked
            if not effect.person.startswith(USER_PREFIX):
                await store.revoke_person(effect.person, now)

    @staticmethod
    def _audit_entry(
        live: LiveMeeting, old: MeetingState, actor: str, command: Command, version: int | None, now: datetime
    ) -> AuditEvent:
        target = old.get(command.target) if command.target else None
        after: dict[str, Any] = {
            "meeting_id": live.id,
            "actor_participant": actor,
            "target_participant": command.target,
            "target_person": target.person if target else command.person,
            "engine_worker": live.media.worker_id,
            "engine_version": version,
        }
        if command.action in (Action.START_RECORDING, Action.STOP_RECORDING) and live.recording is not None:
            after["recording_id"] = live.recording.id
        for name in ("source", "capability", "seconds"):
            value = getattr(command, name)
            if value is not None:
                after[name] = str(value) if not isinstance(value, float) else value
        return AuditEvent(
            company_id=live.company_id,
            at=now,
            actor_user_id=live.users.get(actor),
            action=f"meeting.{command.action}",
            target_type="participant",
            target_id=command.target or command.person or live.id,
            after=after,
        )

    async def _finish(self, live: LiveMeeting, reason: Reason) -> None:
        self._ended(live)
        # the observers record the departures first: reports stop at the end time, so it comes last
        self.observers.meeting_ended(live.info(), str(reason))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                await self.observers.observed()
        async with self._context() as ctx:
            meeting = await MeetingStore(ctx.session).meeting(live.id)
            if meeting is not None and meeting.ended_at is None:
                meeting.ended_at = ctx.now()
                meeting.end_reason = str(reason)
            await self.ownership.release(ctx.session, live.room_id)
            await ctx.session.commit()

    # ---- telling clients -----------------------------------------------------------------------

    def _tell(self, live: LiveMeeting, old: MeetingState, effects: tuple[Any, ...], actor: str) -> None:
        state, info = live.state, live.info()
        for effect in effects:
            if isinstance(effect, SourceChanged):
                live.broadcast(
                    frames.SourceChanged(
                        participant_id=effect.participant,
                        source=str(effect.source),
                        on=effect.on,
                        by=actor if actor != effect.participant else None,
                    ).wire(),
                    also=(effect.participant,),
                )
                self.observers.source_changed(info, effect.participant, str(effect.source), effect.on)
            elif isinstance(effect, PermissionChanged):
                live.broadcast(
                    frames.PermissionChanged(
                        participant_id=effect.participant, capability=str(effect.capability), held=effect.held, by=actor
                    ).wire(),
                    also=(effect.participant,),
                )
            elif isinstance(effect, RoleChanged):
                live.broadcast(
                    frames.RoleChanged(participant_id=effect.participant, role=str(effect.role)).wire(),
                    also=(effect.participant,),
                )
                self.observers.role_changed(info, effect.participant, str(effect.role))
            elif isinstance(effect, FloorChanged):
                live.broadcast(frames.FloorChanged(participant_id=effect.participant, floor=effect.floor).wire())
            elif isinstance(effect, RoomChanged):
                live.broadcast(
                    frames.RoomChanged(presenter_mode=effect.presenter_mode, chat_enabled=effect.chat_enabled).wire()
                )
            elif isinstance(effect, RecordingChanged):
                # everyone connected, the waiting room too: whoever is in the meeting may be recorded
                recording = live.recording.id if live.recording is not None else None
                frame = frames.RecordingChanged(recording=effect.recording, by=actor, recording_id=recording).wire()
                for pid in list(live.links):
                    live.send(pid, frame)
                self.observers.recording_changed(info, actor, effect.recording)
            elif isinstance(effect, WaitingChanged):
                p = state.get(effect.participant)
                if p is None:
                    continue
                if effect.waiting:
                    self.observers.participant_waiting(info, p.id)
                    live.send(p.id, frames.SentBack().wire())
                    live.broadcast(frames.ParticipantLeft(participant_id=p.id, reason="sent_back").wire(), exclude=p.id)
                else:
                    self.observers.participant_admitted(info, p.id)
                    live.send(p.id, frames.admitted(live, p).wire())
                    live.broadcast_listed(
                        p,
                        lambda viewer, p=p: frames.ParticipantJoined(  # type: ignore[misc]
                            participant=frames.participant(live, p, viewer)
                        ).wire(),
                        exclude=p.id,
                    )
            elif isinstance(effect, HiddenChanged):
                self._hidden(live, effect)
            elif isinstance(effect, VisitChanged):
                frame = frames.Visit(
                    type="visit-started" if effect.active else "visit-ended",
                    moderator_id=effect.moderator,
                    participant_id=effect.visited,
                ).wire()
                for pid in {effect.moderator, effect.visited} | {m.id for m in state.moderators()}:
                    live.send(pid, frame)
            elif isinstance(effect, SuccessorChosen):
                live.send(
                    effect.participant,
                    frames.Notice(code="successor", message=f"you are now {effect.role} of this meeting").wire(),
                )
            elif isinstance(effect, MeetingEnded):
                frame = frames.MeetingEnded(reason=str(effect.reason)).wire()
                for pid in list(live.links):
                    live.send(pid, frame)
        for effect in effects:
            if isinstance(effect, Disconnect):
                self._disconnect(live, old, effect, effects)

    def _disconnect(self, live: LiveMeeting, old: MeetingState, effect: Disconnect, effects: tuple[Any, ...]) -> None:
        was = old.get(effect.participant)
        until = next(
            (
                e.until
                for e in effects
                if isinstance(e, RevokeTokens) and e.until is not None and was is not None and was.person == e.person
            ),
            None,
        )
        if was is not None and was.admitted:
            left = frames.ParticipantLeft(participant_id=effect.participant, reason=str(effect.reason)).wire()
            live.broadcast_listed(was, lambda viewer: left, exclude=effect.participant)
        link = live.links.pop(effect.participant, None)
        if link is not None:
            link.send(
                frames.Disconnected(reason=str(effect.reason), until=iso(until) if until is not None else None).wire()
            )
            self._spawn(link.close(1000, str(effect.reason)))
        if was is not None:
            self.observers.participant_left(live.info(), effect.participant, was.person, str(effect.reason))

    @staticmethod
    def _hidden(live: LiveMeeting, effect: HiddenChanged) -> None:
        """Moderators and the person hear of it; to everyone else the person leaves the list
        (`participant-left`, reason `hidden`) or joins it again (`participant-joined`)."""
        p = live.state.get(effect.participant)
        if p is None:
            return
        told = {m.id for m in live.state.moderators()} | {p.id}
        for pid in told:
            live.send(pid, frames.ParticipantHidden(participant_id=p.id, hidden=effect.hidden).wire())
        if p.waiting:
            return
        for q in live.state.admitted():
            if q.id in told:
                continue
            if effect.hidden:
                live.send(q.id, frames.ParticipantLeft(participant_id=p.id, reason="hidden").wire())
            else:
                view = frames.participant(live, p, live.viewer(q.id))
                live.send(q.id, frames.ParticipantJoined(participant=view).wire())

    def offer(self, live: LiveMeeting, pid: str) -> None:
        """Send the participant a new subscribe offer if their consumers changed (outside a commit:
        a resumed socket; the next commit writes the records it leaves)."""
        if pid not in live.links:
            return
        live.media.records, offer = live.media.subscribe_offer(live.media.records, pid)
        if offer is not None:
            live.send(pid, frames.subscribe_offer(*offer).wire())

    def waiting_update(self, live: LiveMeeting) -> None:
        """Moderators get the waiting room whenever it (or who moderates) changed."""
        waiting = live.state.waiting()
        moderators = tuple(m.id for m in live.state.moderators())
        snapshot = (repr([frames.participant(live, p, frames.EVERYONE) for p in waiting]), moderators)
        if snapshot == live.last_waiting:
            return
        live.last_waiting = snapshot
        for pid in moderators:
            live.send(pid, frames.waiting_room(live, live.viewer(pid)).wire())
