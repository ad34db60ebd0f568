"""Publishing and subscribing: a participant's publish offer, the answers to our subscribe offers,
and closing a producer. Each is a media change that goes through the commit pipeline with the
participant's new producers or connections, so it too takes effect only once the engine acked it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, Literal

from control.domain import moderation, pending_views
from control.domain.meeting_state import Refused
from control.domain.moderation import Action, Command
from control.domain.roles import KIND, Source
from control.meetings import frames
from control.meetings.commit import Commits
from control.meetings.errors import MeetingError, refused
from control.meetings.live import LiveMeeting
from control.meetings.sdp import (
    ConnectWebRtcTransport,
    Produce,
    SdpError,
    answer_offer,
    parse_subscriber_answer,
)

log = logging.getLogger("podium.meetings")

ENGINE_FAILURES = frozenset({"engine_refused", "engine_timeout", "engine_unavailable", "store_unavailable"})
"""Why a change did not happen that says nothing of the change itself: a view waits and is tried again."""


def kind(source: Source) -> str:
    return KIND[Source(source)].value


def announce(
    live: LiveMeeting, pid: str, type_: Literal["track-published", "track-unpublished"], sources: Iterable[Source]
) -> None:
    """Tell everyone else that the participant published or stopped publishing these sources."""
    for source in sources:
        live.broadcast(
            frames.Track(type=type_, participant_id=pid, source=str(source), kind=kind(source)).wire(), exclude=pid
        )


class Publishing:
    def __init__(self, commits: Commits, clock: Callable[[], float]) -> None:
        self.commits = commits
        self.clock = clock

    async def publish(
        self, live: LiveMeeting, pid: str, sdp: str, sources: dict[str, Source], muted: frozenset[Source]
    ) -> frames.PublishAnswer:
        """Answer the participant's publish offer; new sources need the permission (check_produce)."""
        async with live.lock:
            state = live.state
            records, peer = live.media.with_peer(live.media.records, pid)
            try:
                result = answer_offer(sdp, live.media.local(peer.pub_ice, peer.worker))
            except SdpError as error:
                raise MeetingError(str(error), code="sdp") from None
            produces = [op for op in result.operations if isinstance(op, Produce)]
            connect = next((op for op in result.operations if isinstance(op, ConnectWebRtcTransport)), None)
            known = {pub.mid for pub in peer.publications.values()}
            kept = live.republish.get(pid, set())
            new: list[tuple[Produce, Source]] = []
            for produce in produces:
                source = sources.get(produce.mid)
                if source is None:
                    raise MeetingError(f"m-section {produce.mid!r} is not named in sources", code="invalid")
                if produce.mid in known:
                    continue
                if source in peer.publications:
                    raise MeetingError(f"{source} is already published; close-producer first", code="invalid")
                # a source published before a move or a renewal comes back as it was, even without
                # its permission now: its gate stays as the plan says (closed, for a revoked one)
                checked = moderation.check_produce(state, pid, source)
                if isinstance(checked, Refused) and source not in kept:
                    raise refused(checked)
                if Source(source).value and produce.kind != kind(source):
                    raise MeetingError(f"{source} must be {kind(source)}, not {produce.kind}", code="invalid")
                new.append((produce, source))
            ops, records, created = live.media.publish(records, pid, connect, new)
            new_state = state
            effects: tuple[Any, ...] = ()
            for publication in created:
                if publication.source in kept:
                    continue  # published again after a move: its switch is as it was
                if publication.source in muted or publication.source in new_state.get(pid).sources_on:  # type: ignore[union-attr]
                    continue
                decision = moderation.decide(
                    new_state, pid, Command(Action.TURN_ON_SOURCE, source=publication.source), self.clock()
                )
                if isinstance(decision, Refused):
                    live.send(pid, frames.Error(code=str(decision.code), message=decision.message).wire())
                    continue
                new_state, effects = decision.state, effects + decision.effects
            await self.commits.commit(live, new_state, effects, actor=pid, records=records, ops=ops)
            # a client publishes its sources again one `publish` at a time: the others stay kept
            remaining = kept - {publication.source for publication in created}
            if remaining:
                live.republish[pid] = remaining
            else:
                live.republish.pop(pid, None)
            announce(live, pid, "track-published", [p.source for p in created])
            mine = live.media.peers[pid].publications.values()
            return frames.publish_answer(result.answer, list(mine))

    async def close_producer(self, live: LiveMeeting, pid: str, source: Source) -> None:
        async with live.lock:
            ops, records = live.media.close_producer(live.media.records, pid, source)
            if not ops:
                raise MeetingError(f"{source} is not published", code="invalid")
            await self.commits.commit(live, live.state, (), actor=pid, records=records, ops=ops)
            announce(live, pid, "track-unpublished", [source])

    async def view(
        self,
        live: LiveMeeting,
        pid: str,
        consumer_id: str,
        width: int,
        height: int,
        speaker: str | None = None,
        *,
        waited: bool = False,
    ) -> None:
        """The participant shows one of its consumers at this size (0 x 0: not at all): its
        simulcast layer and its pause follow (control.domain.layers; `speaker`: the active speaker),
        once the engine acked them. Waiting in the waiting room too: the consumers of a visit follow,
        and the plan keeps what the view says when it admits. A view of a consumer the participant
        will get, or one the engine did not take, waits (control.domain.pending_views); `waited`:
        such a view, applied only while it is still the latest one of its consumer."""
        async with live.lock:
            if live.state.get(pid) is None:
                raise MeetingError("you are not in this meeting", code="invalid")
            waiting = live.pending_views.get(pid)
            if waited and (waiting is None or waiting.sizes.get(consumer_id) != (width, height)):
                return  # a newer view took effect, or this one already did
            try:
                ops, records = live.media.view(live.media.records, live.state, pid, consumer_id, width, height, speaker)
            except KeyError:
                peer = live.media.peers.get(pid)
                if not pending_views.may_wait(pid, consumer_id, peer.counter if peer is not None else 0):
                    raise MeetingError(f"no consumer {consumer_id!r} of yours is active", code="invalid") from None
                self._wait(live, pid, consumer_id, (width, height))  # applied once it exists
                return
            if waiting is not None:  # this view is newer than any waiting one, or is the one waiting
                live.pending_views[pid] = pending_views.settled(waiting, consumer_id)
            if records is not live.media.records:
                try:
                    await self.commits.commit(live, live.state, (), actor=pid, records=records, ops=ops)
                except MeetingError as error:
                    if error.code in ENGINE_FAILURES:
                        self._wait(live, pid, consumer_id, (width, height))  # tried again after the next change
                    raise

    @staticmethod
    def _wait(live: LiveMeeting, pid: str, consumer_id: str, size: tuple[int, int]) -> None:
        waiting = live.pending_views.get(pid, pending_views.PendingViews())
        live.pending_views[pid] = pending_views.want(waiting, consumer_id, size)

    def due_views(self, live: LiveMeeting) -> list[tuple[str, str, tuple[int, int]]]:
        """After a change: the waiting views whose consumer can take them now, as (participant,
        consumer, size); they wait until applied. Those whose consumer came and went, and those of
        participants gone, are dropped."""
        out = []
        for pid, waiting in list(live.pending_views.items()):
            peer = live.media.peers.get(pid)
            if peer is None or live.state.get(pid) is None:
                del live.pending_views[pid]
                continue
            now, rest = pending_views.due(waiting, (s.consumer_id for s in peer.subscriptions if s.active))
            out += [(pid, consumer_id, size) for consumer_id, size in now]
            for consumer_id in [c for c in rest.sizes if not pending_views.may_wait(pid, c, peer.counter)]:
                waiting = pending_views.settled(waiting, consumer_id)
            live.pending_views[pid] = waiting
            if not waiting.sizes:
                del live.pending_views[pid]
        return out

    async def apply_views(
        self, live: LiveMeeting, views: list[tuple[str, str, tuple[int, int]]], speaker: Callable[[], str | None]
    ) -> None:
        """Applies waiting views that became due, one commit each (a refused one waits again)."""
        for pid, consumer_id, (width, height) in views:
            try:
                await self.view(live, pid, consumer_id, width, height, speaker(), waited=True)
            except MeetingError as error:
                log.info("meeting %s: %s's waiting view of %s not applied: %s", live.id, pid, consumer_id, error)

    async def speaking(self, live: LiveMeeting, speaker: str | None) -> None:
        """The active speaker changed: cameras' layers follow (control.domain.layers priority)."""
        async with live.lock:
            ops, records = live.media.speaking(live.media.records, live.state, speaker)
            if records is not live.media.records:
                await self.commits.commit(live, live.state, (), actor="", records=records, ops=ops)

    async def budget(
        self,
        live: LiveMeeting,
        caps: Callable[[LiveMeeting], dict[str, int]],
        silent: frozenset[str],
        speaker: str | None,
    ) -> None:
        """The layer caps the subscribers' bandwidth allows (`caps`: control.meetings.bandwidth, read
        under the meeting's lock) and the simulcast layers whose publisher sends nothing now
        (`silent`): the consumers whose cap changed, or of a track one of whose layers fell silent or
        came back, choose their layer again (or pause), once the engine acked it; the caps and the
        silence are kept only if it did."""
        async with live.lock:
            before, was_silent = live.media.caps, live.media.silent
            after = caps(live)
            changed = {c for c in before.keys() | after.keys() if before.get(c) != after.get(c)}
            toggled = was_silent ^ silent
            tracks = {
                (pid, source)
                for pid, peer in live.media.peers.items()
                for source, publication in peer.publications.items()
                if toggled.intersection(publication.layer_ids)
            }
            if not changed and not tracks:
                return
            live.media.caps, live.media.silent = after, silent
            try:
                ops, records = live.media.choose_again(
                    live.media.records,
                    live.state,
                    speaker,
                    lambda s: s.consumer_id in changed or (s.publisher, s.source) in tracks,
                )
                if records is not live.media.records:
                    await self.commits.commit(live, live.state, (), actor="", records=records, ops=ops)
            except BaseException:
                live.media.caps, live.media.silent = before, was_silent
                raise

    async def subscribe_answer(self, live: LiveMeeting, pid: str, version: int, sdp: str) -> None:
        async with live.lock:
            peer = live.media.peers.get(pid)
            if peer is None or peer.pending_offer is None or peer.pending_offer[0] != version:
                raise MeetingError(f"no subscribe offer {version} awaits an answer", code="stale")
            try:
                answer = parse_subscriber_answer(sdp, peer.pending_offer[1])
            except SdpError as error:
                raise MeetingError(str(error), code="sdp") from None
            ops, records = live.media.answered(live.media.records, pid, answer.connect, answer.agreed_extensions())
            await self.commits.commit(live, live.state, (), actor=pid, records=records, ops=ops)
