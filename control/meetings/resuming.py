"""Resuming: a join with a resume token attaches the new socket to the participant it names, who
stayed in the meeting through their resume grace (docs/signaling.md, "Resuming"), and says what
becomes of their media: kept, renewed on new peer connections, or waiting for a move."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from control.domain import moderation
from control.domain.meeting_state import MeetingState, Refused
from control.domain.moderation import Action, Command
from control.engines import EngineChannelError
from control.meetings import frames, resume
from control.meetings.errors import MeetingError
from control.meetings.live import Identity, Link, LiveMeeting
from control.meetings.pipes import worker_of
from control.meetings.publishing import announce

if TYPE_CHECKING:
    from control.meetings.service import MeetingService

log = logging.getLogger("podium.meetings")

RESTART_WAIT = 10.0
"""Seconds a join waits for a meeting restored after a restart (or a new one for a worker being restarted)."""
CLOSE_REPLACED = 4010
"""The close code of a participant's socket whose participant resumed on another socket."""
CLOSE_JOINED_ELSEWHERE = 4011
"""The close code of a participant's socket when the same person joined the meeting again on another socket
(a second tab): the new socket takes the participant over."""


async def ready(live: LiveMeeting) -> None:
    """A meeting restored after a restart takes changes once its worker is known (or moved)."""
    if not live.ready.is_set():
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(RESTART_WAIT):
                await live.ready.wait()


def sources_off(state: MeetingState, pid: str, now: float) -> tuple[MeetingState, tuple[Any, ...]]:
    """The participant's sources turned off (as they would turn them off themselves), and the effects."""
    me = state.get(pid)
    effects: tuple[Any, ...] = ()
    for source in sorted(me.sources_on if me else ()):
        decision = moderation.decide(state, pid, Command(Action.TURN_OFF_SOURCE, source=source), now)
        if not isinstance(decision, Refused):
            state, effects = decision.state, effects + tuple(decision.effects)
    return state, effects


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
        await ready(live)
        return await self._attach(live, claims.participant_id, identity, link, keep_media, None)

    async def take_over(self, identity: Identity, room_id: str, link: Link) -> tuple[LiveMeeting, str] | None:
        """A join without a resume token by a person who is in the room's running meeting on an open socket
        (a second tab of the same browser, or another device): the new socket takes that participant over
        (its id, role, permissions and place), so that nobody appears twice. The old socket gets
        `disconnected` (reason `joined_elsewhere`) and is closed with 4011; the participant's media is
        renewed, and their sources are turned off: the new page publishes what its pre-join check chose.
        None when the person has no connected participant there (a participant in their resume grace,
        whose socket already dropped, is left to time out: a closed tab opened again joins anew)."""
        live = self.service.meeting_of_room(room_id)
        if live is None:
            return None
        await ready(live)
        connected = [p.id for p in live.state.participants if p.person == identity.person and p.id in live.links]
        if not connected:
            return None
        return await self._attach(live, connected[0], identity, link, False, "joined_elsewhere")

    async def _attach(
        self, live: LiveMeeting, pid: str, identity: Identity, link: Link, keep_media: bool, elsewhere: str | None
    ) -> tuple[LiveMeeting, str] | None:
        """Attach `link` to participant `pid` of `live` (see resume and take_over; `elsewhere`: the reason
        of a take-over, None for a resume)."""
        async with live.lock:
            me = live.state.get(pid)
            if live.state.ended or me is None or me.person != identity.person:
                return None
            media = self._media(live, pid, keep_media)
            ops: list[Any] = []
            records = None
            state, effects = live.state, ()
            if elsewhere is not None:
                state, effects = sources_off(live.state, pid, self.service.clock())
            republish = live.republish.get(pid)
            peer = live.media.peers.get(pid)
            closed = sorted(peer.publications.values(), key=lambda p: p.source) if peer and media == "renew" else []
            if media == "renew":
                ops, records = live.media.renew(live.media.records, pid)
                if closed and elsewhere is None:  # published again, with the switches they had
                    live.republish[pid] = {p.source for p in closed} | (republish or set())
            old = live.links.get(pid)

            def arrived() -> None:
                live.reattach(pid, link, identity)
                now = live.state.get(pid)
                assert now is not None
                link.send(
                    frames.joined(
                        live,
                        now,
                        self.token(live, pid, me.person),
                        resumed=True,
                        media=media,
                        ice_servers=self.service.ice_servers(pid),
                    ).wire()
                )

            try:
                await self.service.commits.commit(
                    live, state, effects, actor=pid, records=records, ops=ops, accepted=arrived
                )
            except MeetingError:
                if republish is None:
                    live.republish.pop(pid, None)
                else:
                    live.republish[pid] = republish
                raise
            self.service.graces.cancel(live, pid)
            announce(live, pid, "track-unpublished", [p.source for p in closed])
            if old is not None and old is not link:
                reason, code = (elsewhere, CLOSE_JOINED_ELSEWHERE) if elsewhere else ("replaced", CLOSE_REPLACED)
                old.send(frames.Disconnected(reason=reason).wire())
                self.service.spawn(old.close(code, reason))
            if media == "kept":
                self._offer_again(live, pid)
                self.service.publisher_layers.greet(live, pid)
            self.service.speakers.greet(live, pid)
        log.info("meeting %s: %s %s (media %s)", live.id, pid, "taken over" if elsewhere else "resumed", media)
        return live, pid

    def _media(self, live: LiveMeeting, pid: str, keep_media: bool) -> frames.MediaOnResume:
        if live.stranded:
            return "wait"
        if not keep_media or self.service.graces.media_at_drop.get((live.id, pid), live.media) is not live.media:
            return "renew"  # no peer connections, or they name a worker the meeting moved away from
        try:  # the participant's own worker (a meeting may span several)
            self.service.registry.worker(worker_of(live.media.peers.get(pid), live.media.worker_id))
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
