"""Publishing and subscribing: a participant's publish offer, the answers to our subscribe offers,
and closing a producer. Each is a media change that goes through the commit pipeline with the
participant's new producers or connections, so it too takes effect only once the engine acked it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Literal

from control.domain import moderation
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
        self, live: LiveMeeting, pid: str, consumer_id: str, width: int, height: int, speaker: str | None = None
    ) -> None:
        """The participant shows one of its consumers at this size (0 x 0: not at all): its
        simulcast layer and its pause follow (control.domain.layers; `speaker`: the active speaker),
        once the engine acked them."""
        async with live.lock:
            me = live.state.get(pid)
            if me is None or not me.admitted:
                # a waiting person's tiles are a moderator's visit at most: their layers stay as
                # made (a view committed then left the consumers of the admission that follows
                # paused: test_browser_meeting's guest); the page reports again once admitted
                return
            try:
                ops, records = live.media.view(live.media.records, live.state, pid, consumer_id, width, height, speaker)
            except KeyError:
                raise MeetingError(f"no consumer {consumer_id!r} of yours is active", code="invalid") from None
            if records is not live.media.records:
                await self.commits.commit(live, live.state, (), actor=pid, records=records, ops=ops)

    async def speaking(self, live: LiveMeeting, speaker: str | None) -> None:
        """The active speaker changed: cameras' layers follow (control.domain.layers priority)."""
        async with live.lock:
            ops, records = live.media.speaking(live.media.records, live.state, speaker)
            if records is not live.media.records:
                await self.commits.commit(live, live.state, (), actor="", records=records, ops=ops)

    async def budget(
        self, live: LiveMeeting, caps: Callable[[LiveMeeting], dict[str, int]], speaker: str | None
    ) -> None:
        """The layer caps the subscribers' bandwidth allows (`caps`: control.meetings.bandwidth, read
        under the meeting's lock): the consumers whose cap changed choose their layer again (or
        pause), once the engine acked it; the caps are kept only if it did."""
        async with live.lock:
            before = live.media.caps
            after = caps(live)
            changed = {c for c in before.keys() | after.keys() if before.get(c) != after.get(c)}
            if not changed:
                return
            live.media.caps = after
            try:
                ops, records = live.media.choose_again(
                    live.media.records, live.state, speaker, lambda s: s.consumer_id in changed
                )
                if records is not live.media.records:
                    await self.commits.commit(live, live.state, (), actor="", records=records, ops=ops)
            except BaseException:
                live.media.caps = before
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
