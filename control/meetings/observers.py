"""Hook points for the layers beside meetings (chat, attendance): `MeetingService.add_observer`.

An observer subclasses `MeetingObserver` and overrides the hooks it needs (the others do
nothing). Notifications run after the change is committed and enforced in the engine, one at a
time, in the order the changes were committed (`Observers.observed()` waits until every queued one
has run); a failing observer is logged, never fatal.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("podium.meetings")


@dataclass(frozen=True)
class MeetingInfo:
    meeting_id: str
    room_id: str
    company_id: str


class MeetingObserver:
    """One method per event; each does nothing unless overridden."""

    async def meeting_started(self, meeting: MeetingInfo) -> None:
        """A meeting opened (before its opener's `participant_joined` or `participant_waiting`)."""

    async def moderated(
        self, meeting: MeetingInfo, actor: str, action: str, target: str | None, detail: dict[str, Any]
    ) -> None:
        """A moderation command was carried out (`action`: control.domain.moderation.Action values;
        `detail`: its source, capability, person or seconds, where given)."""

    async def participant_joined(self, meeting: MeetingInfo, participant_id: str, person: str, name: str) -> None:
        """Someone entered the meeting itself. `person`: u:<user id> or g:<invitation id>. An arrival
        into the waiting room is `participant_waiting` (with person and name) instead."""

    async def participant_waiting(
        self, meeting: MeetingInfo, participant_id: str, person: str | None = None, name: str = ""
    ) -> None:
        """Someone arrived in the waiting room (`person` and `name` given), or was sent back to it
        (None: known from their arrival)."""

    async def participant_admitted(self, meeting: MeetingInfo, participant_id: str) -> None:
        """A waiting participant was let into the meeting."""

    async def role_changed(self, meeting: MeetingInfo, participant_id: str, role: str) -> None:
        """A participant's role (organizer, moderator, participant): on arrival, and on every change
        (appointment, hand-over, succession, being sent back)."""

    async def participant_left(self, meeting: MeetingInfo, participant_id: str, person: str, reason: str) -> None:
        """Someone left or was disconnected (reason: control.domain.moderation.Reason values)."""

    async def source_changed(self, meeting: MeetingInfo, participant_id: str, source: str, on: bool) -> None:
        """A microphone, camera or screen went on or off."""

    async def meeting_ended(self, meeting: MeetingInfo, reason: str) -> None:
        """The meeting is over."""

    async def recording_changed(self, meeting: MeetingInfo, participant_id: str, recording: bool) -> None:
        """`participant_id` started or stopped recording the meeting."""

    async def recording_ready(self, meeting: MeetingInfo, description: dict[str, Any]) -> None:
        """A recording's files are final and listed (`description`: control.recording.library)."""

    async def chat_message(
        self, meeting: MeetingInfo, sender_id: str, sender_name: str, to: str | None, text: str
    ) -> dict[str, Any] | None:
        """Called once policy allowed a chat message (check_chat). Return the message to deliver:
        {"id", "from", "from_name", "to", "to_name", "text", "at"} (e.g. after persisting it), or
        None to let the next observer (or the service) build it. The service delivers it as a
        `chat` frame."""
        return None


Note = Callable[[MeetingObserver], Awaitable[None]]
"""One queued notification: calls one hook of an observer."""


class Observers:
    """The registered observers, and the queue that delivers notifications to them in order.

    Its notification methods mirror `MeetingObserver`'s and return at once: the hooks run later,
    one at a time (attendance folds them; chat reads the identities attendance recorded)."""

    def __init__(self) -> None:
        self._observers: list[MeetingObserver] = []
        self._notes: asyncio.Queue[tuple[str, Note] | asyncio.Future[None]] = asyncio.Queue()
        self._deliverer: asyncio.Task[None] | None = None

    def add(self, observer: MeetingObserver) -> None:
        self._observers.append(observer)

    def __bool__(self) -> bool:
        return bool(self._observers)

    def __iter__(self) -> Iterator[MeetingObserver]:
        return iter(self._observers)

    # -- notifications (queued) --

    def meeting_started(self, meeting: MeetingInfo) -> None:
        self._queue("meeting_started", lambda o: o.meeting_started(meeting))

    def moderated(
        self, meeting: MeetingInfo, actor: str, action: str, target: str | None, detail: dict[str, Any]
    ) -> None:
        self._queue("moderated", lambda o: o.moderated(meeting, actor, action, target, detail))

    def participant_joined(self, meeting: MeetingInfo, participant_id: str, person: str, name: str) -> None:
        self._queue("participant_joined", lambda o: o.participant_joined(meeting, participant_id, person, name))

    def participant_waiting(
        self, meeting: MeetingInfo, participant_id: str, person: str | None = None, name: str = ""
    ) -> None:
        self._queue("participant_waiting", lambda o: o.participant_waiting(meeting, participant_id, person, name))

    def participant_admitted(self, meeting: MeetingInfo, participant_id: str) -> None:
        self._queue("participant_admitted", lambda o: o.participant_admitted(meeting, participant_id))

    def role_changed(self, meeting: MeetingInfo, participant_id: str, role: str) -> None:
        self._queue("role_changed", lambda o: o.role_changed(meeting, participant_id, role))

    def participant_left(self, meeting: MeetingInfo, participant_id: str, person: str, reason: str) -> None:
        self._queue("participant_left", lambda o: o.participant_left(meeting, participant_id, person, reason))

    def source_changed(self, meeting: MeetingInfo, participant_id: str, source: str, on: bool) -> None:
        self._queue("source_changed", lambda o: o.source_changed(meeting, participant_id, source, on))

    def meeting_ended(self, meeting: MeetingInfo, reason: str) -> None:
        self._queue("meeting_ended", lambda o: o.meeting_ended(meeting, reason))

    def recording_changed(self, meeting: MeetingInfo, participant_id: str, recording: bool) -> None:
        self._queue("recording_changed", lambda o: o.recording_changed(meeting, participant_id, recording))

    def recording_ready(self, meeting: MeetingInfo, description: dict[str, Any]) -> None:
        self._queue("recording_ready", lambda o: o.recording_ready(meeting, description))

    # -- the chat hook (awaited) --

    async def chat_message(
        self, meeting: MeetingInfo, sender_id: str, sender_name: str, to: str | None, text: str
    ) -> dict[str, Any] | None:
        """The first message an observer returns (None: none built one). Waits until the observers
        heard every earlier change first (the chat observer reads identities from attendance)."""
        await self.observed()
        for observer in self._observers:
            try:
                message = await observer.chat_message(meeting, sender_id, sender_name, to, text)
            except Exception:
                log.exception("chat observer failed")
                continue
            if message is not None:
                return message
        return None

    # -- delivery --

    def _queue(self, name: str, note: Note) -> None:
        if not self._observers:
            return
        self._notes.put_nowait((name, note))
        if self._deliverer is None or self._deliverer.done():
            self._deliverer = asyncio.ensure_future(self._deliver())

    async def _deliver(self) -> None:
        while True:
            item = await self._notes.get()
            if isinstance(item, asyncio.Future):
                if not item.done():
                    item.set_result(None)
                continue
            name, note = item
            for observer in self._observers:
                try:
                    await note(observer)
                except Exception:
                    log.exception("meeting observer %s failed", name)

    async def observed(self) -> None:
        """Returns once the observers have heard every notification queued so far."""
        if not self._observers or self._deliverer is None or self._deliverer.done():
            return
        marker: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._notes.put_nowait(marker)
        await marker

    def close(self) -> None:
        if self._deliverer is not None:
            self._deliverer.cancel()
