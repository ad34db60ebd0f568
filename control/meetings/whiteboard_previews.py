"""Whiteboard previews: the stroke a participant is drawing, relayed as it grows to the others who
draw too (control.domain.datagrams), as WebTransport datagrams (docs/signaling.md, "Datagrams").

A preview is neither ordered against the board nor stored: it is the latest picture of a stroke not
yet made. The committed stroke still goes through `control.meetings.whiteboard` (ordered, stored,
sent to everyone admitted); a client drops an author's preview when that author's stroke arrives.
Participants on a WebSocket get no previews (they have no datagrams), only the strokes.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable

from control.domain import datagrams
from control.domain.datagrams import PREVIEW_RATE, DropReason
from control.domain.meeting_state import Refused
from control.meetings.datagram_wire import PreviewDatagram, preview_frame
from control.meetings.live import LiveMeeting
from control.meetings.observers import MeetingInfo, MeetingObserver


class WhiteboardPreviews(MeetingObserver):
    """Every live meeting's preview relay: each person's recent previews (the rate) and the meeting's
    preview number `n` (an observer: forgotten when the meeting ends)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._recent: dict[str, dict[str, collections.deque[float]]] = {}
        """meeting id → person → when their recent previews were relayed."""
        self._numbers: dict[str, int] = {}
        """meeting id → the last preview number relayed."""

    def relay(self, live: LiveMeeting, pid: str, preview: PreviewDatagram) -> DropReason | None:
        """Relay one preview of `pid` to everyone else who receives previews; why it was dropped, or None."""
        allowed = datagrams.check_preview(live.state, pid)
        if isinstance(allowed, Refused):
            return datagrams.drop_reason(allowed)
        person = live.state.get(pid).person  # type: ignore[union-attr]  # checked: present
        recent = self._recent.setdefault(live.id, {}).setdefault(person, collections.deque(maxlen=PREVIEW_RATE))
        now = self.clock()
        if datagrams.preview_rate_refusal(recent, now) is not None:
            return DropReason.RATE_LIMITED
        recent.append(now)
        n = self._numbers[live.id] = self._numbers.get(live.id, 0) + 1
        frame = preview_frame(pid, n, preview)
        for to in datagrams.preview_recipients(live.state, pid):
            live.send_datagram(to, frame, fallback=False)
        return None

    async def meeting_ended(self, meeting: MeetingInfo, reason: str) -> None:
        self._recent.pop(meeting.meeting_id, None)
        self._numbers.pop(meeting.meeting_id, None)
