"""The meetings' whiteboards: ordering, storing and delivering operations, and replaying the board.

A participant's operation is decided by the pure rules (control.domain.whiteboard.decide) under the
meeting's lock, so it is ordered against moderation: once a `revoke_permission` of `whiteboard` has
been answered, the next operation of that participant is refused. An accepted operation gets the next
sequence number, is committed to the store (table whiteboard_ops), and only then goes to everyone
admitted as `whiteboard-op`; a store that does not take it refuses it (`store_unavailable`), and
nothing is delivered. A board is read from the store when first used, so a restarted control plane
goes on with the sequence where it stopped.
"""

from __future__ import annotations

import collections
import logging
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from control.domain import whiteboard as rules
from control.domain.meeting_state import Refused
from control.domain.whiteboard import Op, OpKind, Request
from control.meetings import audit_trail, tool_frames
from control.meetings.errors import refused, store_unavailable
from control.meetings.live import LiveMeeting
from control.meetings.observers import MeetingInfo, MeetingObserver
from control.meetings.whiteboard_wire import body, decode, encode
from control.services.context import Context
from control.store.models import WhiteboardOpRow
from control.store.repositories.whiteboard import WhiteboardOps

log = logging.getLogger("podium.meetings")

REPLAY_PAGE = 200
"""Operations per `whiteboard-ops` frame of a replay."""


class Board:
    """One meeting's operations, in order, and when each person's recent ones were accepted."""

    def __init__(self, ops: list[Op]) -> None:
        self.ops = ops
        self.recent: dict[str, collections.deque[float]] = {}

    def accepted(self, person: str) -> collections.deque[float]:
        return self.recent.setdefault(person, collections.deque(maxlen=rules.RATE))


class Whiteboards(MeetingObserver):
    """Every live meeting's board (an observer: a board leaves memory when its meeting ends)."""

    def __init__(
        self, context: Callable[[], AbstractAsyncContextManager[Context]], clock: Callable[[], float] = time.time
    ) -> None:
        self.context = context
        self.clock = clock
        self._boards: dict[str, Board] = {}

    async def board(self, live: LiveMeeting) -> Board:
        board = self._boards.get(live.id)
        if board is None:
            async with self.context() as ctx:
                rows = await WhiteboardOps(ctx.session, live.company_id).of_meeting(live.id)
            board = Board([decode(r.seq, r.kind, r.author, r.person, r.body) for r in rows])
            self._boards[live.id] = board
        return board

    async def draw(self, live: LiveMeeting, pid: str, request: Request) -> Op:
        """Decide, store, then deliver one operation; returns it (with its sequence number)."""
        async with live.lock:
            board = await self.board(live)
            p = live.state.get(pid)
            now = self.clock()
            decided = rules.decide(live.state, board.ops, pid, request, board.accepted(p.person) if p else (), now)
            if isinstance(decided, Refused):
                raise refused(decided)
            await self._store(live, decided)
            board.ops.append(decided)
            board.accepted(decided.person).append(now)
            live.broadcast(tool_frames.WhiteboardOp(op=encode(decided)).wire())
        if decided.kind is OpKind.CLEAR:
            await audit_trail.record(self.context, live, pid, "whiteboard.cleared", {"seq": decided.seq})
        return decided

    async def _store(self, live: LiveMeeting, op: Op) -> None:
        row = WhiteboardOpRow(
            meeting_id=live.id, seq=op.seq, kind=str(op.kind), author=op.author, person=op.person, body=body(op)
        )
        try:
            async with self.context() as ctx:
                row.at = ctx.now()
                await WhiteboardOps(ctx.session, live.company_id).add(row)
                await ctx.session.commit()
        except Exception as error:
            log.warning("whiteboard: storing operation %s of %s failed: %s", op.seq, live.id, error)
            self._boards.pop(live.id, None)  # read again from the store next time: it is the truth
            raise store_unavailable("the whiteboard operation could not be stored") from None

    async def replay(self, live: LiveMeeting, pid: str, after: int) -> int:
        """Send the participant the board's operations after `after`, in pages (`whiteboard-ops`, `more`
        true on all but the last); returns the last sequence number. Under the meeting's lock, so the
        replay comes before any later `whiteboard-op` on the socket."""
        async with live.lock:
            allowed = rules.check_view(live.state, pid)
            if isinstance(allowed, Refused):
                raise refused(allowed)
            board = await self.board(live)
            ops = [encode(op) for op in board.ops if op.seq > after]
            last = board.ops[-1].seq if board.ops else 0
            for start in range(0, max(len(ops), 1), REPLAY_PAGE):
                page = ops[start : start + REPLAY_PAGE]
                more = start + REPLAY_PAGE < len(ops)
                live.send(pid, tool_frames.WhiteboardOps(ops=page, last=last, more=more).wire())
            return last

    async def meeting_ended(self, meeting: MeetingInfo, reason: str) -> None:
        self._boards.pop(meeting.meeting_id, None)
