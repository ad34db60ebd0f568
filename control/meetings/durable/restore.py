"""Resuming the running meetings of a previous control-plane process.

At start-up every meeting the database shows running is rebuilt from its documents
(control.meetings.durable.documents) with nobody connected, and waits for its worker
(`LiveMeeting.restoring`; changes wait on `LiveMeeting.ready`). When that worker connects:

- the same process (the DTLS fingerprints the meeting recorded): the worker still forwards for it.
  The worker's table is made exactly what the restored meetings' records describe, in one sync;
  what is unchanged keeps forwarding (their transports, DTLS associations and SRTP keys included),
  and routers no restored meeting claims are closed;
- a new process (a new certificate: `podium serve` restarted its worker with it) or no worker within
  the grace period: the meeting moves like one whose worker was lost (control.meetings.failover),
  and its clients rebuild their connections when they come back.

Then everyone in it has the resume grace to come back (a `join` with their resume token): a
participant who has not come back by then leaves as if their socket had just closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from contract.ops import Operation
from control.engines import EngineChannelError
from control.meetings.durable import codec, documents
from control.meetings.live import LiveMeeting
from control.meetings.media import Media
from control.meetings.pipes import prefix
from control.store.repositories.live_meetings import LiveMeetings

if TYPE_CHECKING:
    from control.meetings.service import MeetingService

log = logging.getLogger("podium.meetings")

END_REASON = "control_plane_restarted"
"""Of a running meeting that cannot be resumed (no document, or one this version cannot read)."""


class Restore:
    def __init__(self, service: MeetingService, grace: float) -> None:
        self.service = service
        self.grace = grace
        """Seconds a restored meeting waits for its own worker before it moves to another."""
        self._timers: list[asyncio.TimerHandle] = []
        self._restored_media: dict[str, Media] = {}
        """meeting id → the media it was restored with: what its clients' peer connections were
        made for, even once the meeting moved (then they cannot keep them)."""

    async def load(self, claim: Callable[[str], Awaitable[bool]] | None = None) -> list[LiveMeeting]:
        """Rebuild the meetings the database shows running (with replicas: those whose room this
        process may claim, `claim`); those that cannot be rebuilt end."""
        restored = await self._rebuild(None, claim)
        if restored:
            log.info("resuming %d running meeting(s); waiting for their workers", len(restored))
            self._timers.append(asyncio.get_running_loop().call_later(self.grace, self._give_up))
        return restored

    async def take_over(self, room_id: str) -> LiveMeeting | None:
        """The meeting another replica ran in the room, whose lease this one just claimed (that
        replica stopped renewing it: control.replicas.ownership). Its workers went with it (they are
        its children, and dial only it), so the meeting moves onto this replica's workers, as after
        a restart onto a new worker process; a worker of the same id and certificate connected here
        keeps its transports. Its people have the resume grace to come back here."""
        taken = await self._rebuild(room_id, None)
        for live in taken:
            worker = next((w for w in self.service.registry.workers() if w.worker_id == live.media.worker_id), None)
            log.warning("meeting %s of room %s taken over from another replica", live.id, room_id)
            self.service.recordings.interrupted(live)  # the dead replica's recording ended with it
            if worker is None or not worker.connected or not self.worker_connected(worker.worker_id):
                self._move(live)
        return taken[0] if taken else None

    async def _rebuild(self, room_id: str | None, claim: Callable[[str], Awaitable[bool]] | None) -> list[LiveMeeting]:
        service = self.service
        restored: list[LiveMeeting] = []
        async with service.context() as ctx:
            for meeting, document, peers in await LiveMeetings(ctx.session).running(room_id):
                if service.meeting(meeting.id) is not None:
                    continue
                if claim is not None and not await claim(meeting.room_id):
                    continue  # another live replica runs it
                try:
                    if document is None:
                        raise codec.CodecError("no document")
                    live = documents.live_meeting(meeting.id, document, peers)
                except (codec.CodecError, KeyError, TypeError, ValueError) as error:
                    log.warning("meeting %s cannot be resumed (%s): it ends", meeting.id, error)
                    meeting.ended_at, meeting.end_reason = ctx.now(), END_REASON
                    await LiveMeetings(ctx.session).forget(meeting.id)
                    continue
                self.service.spanning(live.media)
                live.restoring, live.stranded = True, True
                live.ready.clear()
                service.adopt(live)
                self._restored_media[live.id] = live.media
                restored.append(live)
            await ctx.session.commit()
        return restored

    def close(self) -> None:
        for timer in self._timers:
            timer.cancel()

    def waiting(self, worker_id: str) -> list[LiveMeeting]:
        return [live for live in self.service.live.values() if live.restoring and live.media.worker_id == worker_id]

    def worker_connected(self, worker_id: str) -> bool:
        """A worker connected: resume the restored meetings it hosted (True if there were any)."""
        meetings = self.waiting(worker_id)
        if not meetings:
            return False
        fingerprints = sorted(tuple(f) for f in self.service.registry.worker(worker_id).dtls_fingerprints)
        same = [live for live in meetings if sorted(tuple(f) for f in live.media.fingerprints) == fingerprints]
        for live in meetings:
            if live not in same:
                log.warning("meeting %s: worker %s is a new process; the meeting moves", live.id, worker_id)
                self._move(live)
        if same:
            self.service.spawn(self._reconcile(worker_id, same))
        return True

    async def _reconcile(self, worker_id: str, meetings: list[LiveMeeting]) -> None:
        """Make the worker's table what the restored meetings describe, keeping what is unchanged."""
        service = self.service
        table: list[Operation] = []
        for live in meetings:
            held = {op.id for op in table}
            table += [op for op in live.media.table(live.media.records) if op.id not in held]  # pipes: shared
        others = [live for live in service.live.values() if live.media.worker_id == worker_id and not live.restoring]
        try:
            if others:  # this process placed meetings there already: replace only the restored routers
                for live in meetings:
                    await service.registry.resync_router(
                        worker_id, live.id, live.media.table(live.media.records), owned=prefix(live.id)
                    )
            else:
                await service.registry.replace_table(worker_id, table)
        except EngineChannelError as error:
            log.error("worker %s refused the restored meetings' table (%s): they move", worker_id, error)
            for live in meetings:
                self._move(live)
            return
        for live in meetings:
            live.restoring = live.stranded = False
            if live.media.spans(live.media.records):
                service.commits.resync(live)  # its share on the other workers it spans, and the pipes
            self._resumed(live)
            log.info("meeting %s resumed on worker %s with its transports", live.id, worker_id)

    def _move(self, live: LiveMeeting) -> None:
        live.restoring = False  # still stranded: the move places it on a live worker when there is one
        self.service.spawn(self._move_then_resume(live))

    async def _move_then_resume(self, live: LiveMeeting) -> None:
        with contextlib.suppress(Exception):
            await self.service.failover.move(live)
        self._resumed(live)

    def _give_up(self) -> None:
        for live in list(self.service.live.values()):
            if live.restoring:
                log.warning("meeting %s: its worker %s did not come back in time", live.id, live.media.worker_id)
                self._move(live)

    def _resumed(self, live: LiveMeeting) -> None:
        """The meeting takes changes again; whoever has not come back yet has the resume grace, as
        if their socket had just closed (`MeetingService.disconnected`)."""
        media = self._restored_media.pop(live.id, None)
        for pid in [p.id for p in live.state.participants if p.id not in live.links]:
            self.service.absent(live, pid, media=media)  # before any resume waiting on `ready` runs
        live.ready.set()
