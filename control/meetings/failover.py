"""Engine workers coming and going: a meeting whose worker was lost moves to a live one, and a
worker that reconnects with a table a previous control plane left is emptied, but for the meetings
resumed from the database (control.meetings.durable.restore).

A meeting whose worker is lost is *stranded* at once (`LiveMeeting.stranded`: nothing more is sent
to that worker id) and moves to a live worker: another one, or the same id once its supervisor has
restarted it (a new process, a new DTLS certificate, an empty table). With no worker live it stays
stranded, and moves when one connects. Its clients get `reconnect` when it has moved, so that the
`publish-answer` they get next names the live worker's address and certificate."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from control.engines import (
    EngineChannelError,
    RegistryEvent,
    WorkerConnected,
    WorkerLost,
)
from control.meetings import frames
from control.meetings.errors import MeetingError
from control.meetings.live import LiveMeeting
from control.meetings.pipes import media_workers, prefix
from control.store.repositories.meetings import MeetingStore

if TYPE_CHECKING:
    from control.meetings.service import MeetingService

log = logging.getLogger("podium.meetings")


class Failover:
    def __init__(self, service: MeetingService) -> None:
        self.service = service

    def on_registry_event(self, event: RegistryEvent) -> None:
        service = self.service
        if isinstance(event, WorkerLost):
            for live in list(service.live.values()):
                if live.media.worker_id == event.worker_id:
                    live.stranded = True
                    service.spawn(self.move(live))
                elif event.worker_id in media_workers(live):  # a worker it spans besides its first
                    service.spawn(self.move_participants(live, event.worker_id))
        elif isinstance(event, WorkerConnected):
            # a worker that hosted restored meetings gets its whole table from their reconciliation
            hosted = service.restorer is not None and service.restorer.worker_connected(event.worker_id)
            for live in list(service.live.values()):
                if live.stranded and not live.restoring:  # lost while no other worker was live
                    service.spawn(self.move(live))
            if not hosted:
                service.spawn(self.clean_stale_table(event.worker_id))

    async def clean_stale_table(self, worker_id: str) -> None:
        """A worker the registry adopted (its table became the desired one) that hosts no meeting
        this process resumed forwards for meetings that no longer exist: empty its table, unless a
        live meeting of this process already uses the worker (then everything on it was put there
        by this process)."""
        registry = self.service.registry
        if any(worker_id in media_workers(live) for live in self.service.live.values()):
            return
        try:
            if not registry.table(worker_id):
                return
            # no await between the check above and the enqueue inside replace_table: a meeting
            # placed on the worker from now on sends its batches after this one
            await registry.replace_table(worker_id, [])
            log.info("engine worker %s: cleared a table left by a previous control plane", worker_id)
        except EngineChannelError as error:
            log.warning("engine worker %s: could not clear its stale table: %s", worker_id, error)

    async def move(self, live: LiveMeeting, lost: str | None = None) -> None:
        """The meeting's worker (`lost`: its first, or one it spans) is gone: place it on a live
        worker and have every client reconnect (new transports, fresh ICE credentials: an ICE
        restart onto the new worker; placement spills them over workers again, with new pipes).
        Their states stay: the sources they publish again keep their switches
        (`LiveMeeting.republish`). What the meeting held on the workers that live on is closed."""
        service = self.service
        async with live.lock:
            if service.live.get(live.id) is not live or not live.stranded:
                return  # ended, or moved already
            lost = lost or live.media.worker_id
            self._close_remains(live, lost)
            try:
                # the lost worker is out of the registry: a worker of that id now is a new process
                worker_id = service.registry.pick_worker(require=["webrtc"])
            except EngineChannelError:
                log.error("meeting %s lost its worker %s and no other is live: it moves when one is", live.id, lost)
                return
            live.republish = {
                pid: set(peer.publications) for pid, peer in live.media.peers.items() if peer.publications
            } | live.republish
            recorder = live.media.recorder_address
            live.media = service.media(live.id, worker_id)
            live.media.recorder_address = recorder  # recorded: the new worker feeds the same recorder
            live.stranded = False
            frame = frames.Reconnect(reason="worker_lost").wire()
            for pid in list(live.links):
                live.send(pid, frame)
            log.warning("meeting %s moved from worker %s to %s", live.id, lost, worker_id)
            try:
                async with service.context() as ctx:
                    meeting = await MeetingStore(ctx.session).meeting(live.id)
                    if meeting is not None:
                        meeting.worker_id = worker_id
                    await ctx.session.commit()
                await service.commits.save(live)
            except Exception:  # the move stands: the next change writes the documents again
                log.exception("meeting %s: its move to worker %s was not recorded", live.id, worker_id)

    async def move_participants(self, live: LiveMeeting, lost: str) -> None:
        """A worker the meeting spans, not its first, is gone: only the participants on it move.
        They are placed again on live workers (the pipes to and from the lost worker close, the
        others' consumers of their tracks end and are re-offered) and told to reconnect; everyone
        else keeps their media. If the engine does not take that, the whole meeting moves."""
        service = self.service
        async with live.lock:
            if service.live.get(live.id) is not live or live.stranded:
                return  # ended, or moving already
            media, before = live.media, live.media.records
            moving = [pid for pid, peer in before.peers.items() if peer.worker == lost]
            records = replace(before, workers=before.workers - {lost})
            for pid in moving:
                records = media.relocate(records, pid)
                if before.peers[pid].publications:
                    live.republish[pid] = set(before.peers[pid].publications) | live.republish.get(pid, set())
            frame = frames.Reconnect(reason="worker_lost").wire()
            for pid in moving:
                live.send(pid, frame)
            try:
                await service.commits.commit(live, live.state, (), actor="", records=records)
            except MeetingError as error:
                log.error("meeting %s: moving the participants of lost worker %s failed (%s)", live.id, lost, error)
                live.stranded = True
            else:
                log.warning("meeting %s: %d participant(s) moved off lost worker %s", live.id, len(moving), lost)
                return
        await self.move(live, lost)

    def _close_remains(self, live: LiveMeeting, lost: str) -> None:
        """Empty the meeting's share (its router, pipe producers and consumers) on each worker it
        spanned besides the lost one: the move starts it afresh. Queued before its next batches."""
        registry = self.service.registry
        connected = {w.worker_id for w in registry.workers() if w.connected}
        for worker_id in media_workers(live):
            if worker_id == lost or worker_id not in connected:
                continue
            try:
                registry.resync_router(worker_id, live.media.router_id, [], owned=prefix(live.media.router_id))
            except EngineChannelError as error:
                log.warning("meeting %s: could not close what it held on worker %s: %s", live.id, worker_id, error)
