"""Resuming: a join with a resume token attaches the new socket to the participant it names, who
stayed in the meeting through their resume grace (docs/signaling.md, "Resuming"), and says what
becomes of their media: kept, renewed on new peer connections, or waiting for a move."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from control.engines import EngineChannelError
from control.meetings import frames, resume
from control.meetings.errors import MeetingError
from control.meetings.live import Identity, Link, LiveMeeting
from control.meetings.publishing import announce

if TYPE_CHECKING:
    from control.meetings.service import MeetingService

log = logging.getLogger("podium.meetings")

RESTART_WAIT = 10.0
"""Seconds a join waits for a meeting restored after a restart (or a new one for a worker being restarted)."""
CLOSE_REPLACED = 4010
"""The close code of a participant's socket whose participant resumed on another socket."""


async def ready(live: LiveMeeting) -> None:
    """A meeting restored after a restart takes changes once its worker is known (or moved)."""
    if not live.ready.is_set():
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(RESTART_WAIT):
                await live.ready.wait()


class Resuming:
    def __init__(self, service: MeetingService) -> None:
        self.service = service

    def token(self, live: LiveMeeting, pid: str, person: str) -> str:
        assert self.service._token_key is not None  # identify() ran
        return resume.issue(self.service._token_key, resume.ResumeClaims(live.id, pid, person), self.service.clock())

    async def resume(
        self, token: str, identity: Identity, room_id: str, link: Link, keep_media: bool
    ) -> tuple[LiveMeeting, str] | None:
        """Re-attach `link` to the participant the resume token names, when that participant is still
        in the room's running meeting and is the person `identity` authenticated; None otherwise.
        Their old socket, if still open, is closed (4010, `replaced`). Their media is kept when the
        client's peer connections are up (`keep_media`) and their transports still exist on a live
        worker; else their transports are closed through the commit pipeline and the client publishes
        again on new peer connections (`renew`); while the meeting is moving to another worker, the
        `reconnect` that follows the move says when (`wait`)."""
        assert self.service._token_key is not None
        claims = resume.verify(self.service._token_key, token)
        if claims is None or claims.person != identity.person:
            return None
        live = self.service.live.get(claims.meeting_id)
        if live is None or live.room_id != room_id:
            return None
        pid = claims.participant_id
        await ready(live)
        async with live.lock:
            me = live.state.get(pid)
            if live.state.ended or me is None or me.person != identity.person:
                return None
            media = self._media(live, pid, keep_media)
            ops: list[Any] = []
            records = None
            republish = live.republish.get(pid)
            peer = live.media.peers.get(pid)
            closed = sorted(peer.publications.values(), key=lambda p: p.source) if peer and media == "renew" else []
            if media == "renew":
                ops, records = live.media.renew(live.media.records, pid)
                if closed:  # published again, with the switches they had
                    live.republish[pid] = {p.source for p in closed} | (republish or set())
            old = live.links.get(pid)

            def arrived() -> None:
                live.reattach(pid, link, identity)
                link.send(
                    frames.joined(
                        live,
                        me,
                        self.token(live, pid, me.person),
                        resumed=True,
                        media=media,
                        ice_servers=self.service.ice_servers(pid),
                    ).wire()
                )

            try:
                await self.service.commits.commit(
                    live, live.state, (), actor=pid, records=records, ops=ops, accepted=arrived
                )
            except MeetingError:
                if republish is None:
                    live.republish.pop(pid, None)
                else:
                    live.republish[pid] = republish
                raise
            self.service._cancel_grace(live, pid)
            announce(live, pid, "track-unpublished", [p.source for p in closed])
            if old is not None and old is not link:
                old.send(frames.Disconnected(reason="replaced").wire())
                self.service.spawn(old.close(CLOSE_REPLACED, "replaced"))
            if media == "kept":
                self._offer_again(live, pid)
            self.service.speakers.greet(live, pid)
        log.info("meeting %s: %s resumed (media %s)", live.id, pid, media)
        return live, pid

    def _media(self, live: LiveMeeting, pid: str, keep_media: bool) -> frames.MediaOnResume:
        if live.stranded:
            return "wait"
        if not keep_media or self.service._media_at_drop.get((live.id, pid), live.media) is not live.media:
            return "renew"  # no peer connections, or they name a worker the meeting moved away from
        try:
            self.service.registry.worker(live.media.worker_id)
        except EngineChannelError:
            return "renew"
        return "kept"

    def _offer_again(self, live: LiveMeeting, pid: str) -> None:
        """The subscribe offer the old socket may not have answered (or not received) is sent to the
        new one, as it was; else a new offer if consumers changed while no socket was attached."""
        peer = live.media.peers.get(pid)
        if peer is not None and peer.pending_offer is not None:
            version, sdp = peer.pending_offer
            live.send(pid, frames.subscribe_offer(version, sdp, list(peer.subscriptions)).wire())
        else:
            self.service.commits.offer(live, pid)
