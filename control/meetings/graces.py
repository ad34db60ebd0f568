"""Resume graces: a participant whose socket closed without `leave` stays in the meeting, their media
flowing, for `Settings.resume_grace` seconds. A join with their resume token in that time attaches a
new socket to them (control.meetings.resuming); otherwise they leave, and while the engine does not
apply that departure they stay and it is tried again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from control.meetings.errors import MeetingError
from control.meetings.live import Link, LiveMeeting
from control.meetings.media import Media

if TYPE_CHECKING:
    from control.meetings.service import MeetingService

log = logging.getLogger("podium.meetings")

LEAVE_RETRIES = (1.0, 2.0, 5.0, 10.0, 30.0)
"""Seconds between tries of a departure the engine did not apply (control.meetings.commit)."""


class ResumeGraces:
    """The running graces of one control plane's meetings."""

    def __init__(self, service: MeetingService, seconds: float | None) -> None:
        self.service = service
        self.seconds = seconds
        """None: `Settings.resume_grace`, read from the context when first needed."""
        self.running: dict[tuple[str, str], asyncio.Future[Any]] = {}
        """(meeting id, participant id) → the departure that ends their grace."""
        self.media_at_drop: dict[tuple[str, str], Media] = {}
        """(meeting id, participant id) → the meeting's media when their socket dropped: if the meeting
        moved to another worker since, they missed its `reconnect`, and their media cannot be kept."""

    def start(self, live: LiveMeeting, pid: str, link: Link | None = None, *, media: Media | None = None) -> None:
        """The participant's socket closed without `leave` (`link`: that socket; a socket that was
        replaced by a resumed one is ignored), or is gone with a previous control plane. `media`: the
        meeting's media their peer connections were made for (default: the current one)."""
        if self.service.closing or (link is not None and live.links.get(pid) is not link):
            return
        live.links.pop(pid, None)
        if live.state.get(pid) is None:
            return
        self.cancel(live, pid)
        self.media_at_drop[(live.id, pid)] = media or live.media
        self.running[(live.id, pid)] = self.service.spawn(self._leave_after_grace(live, pid))

    def cancel(self, live: LiveMeeting, pid: str) -> None:
        """The participant is back (resumed) or gone: their grace ends without a departure."""
        self.media_at_drop.pop((live.id, pid), None)
        task = self.running.pop((live.id, pid), None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    def cancel_meeting(self, live: LiveMeeting) -> None:
        for pid in [pid for (meeting_id, pid) in self.running if meeting_id == live.id]:
            self.cancel(live, pid)

    async def _seconds(self) -> float:
        if self.seconds is None:
            async with self.service.context() as ctx:
                self.seconds = ctx.settings.resume_grace
        return self.seconds

    async def _leave_after_grace(self, live: LiveMeeting, pid: str) -> None:
        key = (live.id, pid)
        try:
            await asyncio.sleep(await self._seconds())
            if self.running.get(key) is asyncio.current_task():
                del self.running[key]
            if self.service.live.get(live.id) is not live:
                return
            try:
                await self.service.leave(live, pid, unless_resumed=True)
            except MeetingError as error:
                log.warning("meeting %s: %s could not leave yet (%s); trying again", live.id, pid, error.code)
                await self._leave_later(live, pid)
        finally:
            if self.service.live.get(live.id) is not live or live.state.get(pid) is None:
                self.media_at_drop.pop(key, None)

    async def _leave_later(self, live: LiveMeeting, pid: str) -> None:
        for delay in LEAVE_RETRIES:
            await asyncio.sleep(delay)
            if self.service.live.get(live.id) is not live or pid in live.links:
                return
            with contextlib.suppress(MeetingError):
                await self.service.leave(live, pid, unless_resumed=True)
                return
        log.error("meeting %s: %s could not leave: the engine refused every time", live.id, pid)
