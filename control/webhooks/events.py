"""The meeting's committed changes as webhook events: an observer (control.meetings.observers) that
queues meeting started and ended, participant joined and left, and moderation actions.

Observers run after the meeting's commit; this one only hands each event to its own writer task and
returns, so neither the meeting nor the other observers (attendance, chat) ever wait on the webhook
queue's database writes. Events still in its hands when the process stops are written on `close`
(bounded); a crash loses those few, as it loses observer notifications not yet delivered.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from control.domain.webhooks import EventType
from control.meetings.observers import MeetingInfo, MeetingObserver
from control.services.context import Context
from control.webhooks.queue import enqueue

log = logging.getLogger("podium.webhooks")

CLOSE_TIMEOUT = 5.0
"""Seconds `close` spends writing the events still in hand."""

Event = tuple[str, EventType, dict[str, Any]]
"""(company id, type, data)."""


class WebhookObserver(MeetingObserver):
    def __init__(self, context: Callable[[], AbstractAsyncContextManager[Context]], wake: Callable[[], None]) -> None:
        self.context = context
        self.wake = wake
        self._events: asyncio.Queue[Event] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None

    def _queue(self, meeting: MeetingInfo, event: EventType, **data: Any) -> None:
        data = {"meeting_id": meeting.meeting_id, "room_id": meeting.room_id, **data}
        self._events.put_nowait((meeting.company_id, event, data))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.ensure_future(self._write())

    async def _write(self) -> None:
        while True:
            company_id, event, data = await self._events.get()
            try:
                await self._store(company_id, event, data)
            except Exception:
                log.exception("webhook event %s not queued", event)
            finally:
                self._events.task_done()

    async def _store(self, company_id: str, event: EventType, data: dict[str, Any]) -> None:
        async with self.context() as ctx:
            queued = await enqueue(ctx.session, company_id, event, data, ctx.now())
            await ctx.session.commit()
        if queued:
            self.wake()

    async def written(self) -> None:
        """Returns once every event handed over so far is in the database (for tests and `close`)."""
        await self._events.join()

    async def close(self) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await self.written()
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer

    # -- the hooks: hand over and return --

    async def meeting_started(self, meeting: MeetingInfo) -> None:
        self._queue(meeting, EventType.MEETING_STARTED)

    async def meeting_ended(self, meeting: MeetingInfo, reason: str) -> None:
        self._queue(meeting, EventType.MEETING_ENDED, reason=reason)

    async def recording_ready(self, meeting: MeetingInfo, description: dict[str, Any]) -> None:
        files = [{"name": f["name"], "kind": f["kind"], "source": f["source"]} for f in description.get("files", [])]
        self._queue(
            meeting,
            EventType.RECORDING_READY,
            recording_id=description["id"],
            state=description.get("state"),
            bytes=description.get("bytes", 0),
            files=files,
        )

    async def participant_joined(self, meeting: MeetingInfo, participant_id: str, person: str, name: str) -> None:
        self._queue(meeting, EventType.PARTICIPANT_JOINED, participant_id=participant_id, person=person, name=name)

    async def participant_admitted(self, meeting: MeetingInfo, participant_id: str) -> None:
        """Entering through the waiting room: joined on admission (person and name are in the attendance)."""
        self._queue(meeting, EventType.PARTICIPANT_JOINED, participant_id=participant_id, admitted=True)

    async def participant_left(self, meeting: MeetingInfo, participant_id: str, person: str, reason: str) -> None:
        self._queue(meeting, EventType.PARTICIPANT_LEFT, participant_id=participant_id, person=person, reason=reason)

    async def moderated(
        self, meeting: MeetingInfo, actor: str, action: str, target: str | None, detail: dict[str, Any]
    ) -> None:
        self._queue(meeting, EventType.MODERATION_ACTION, actor=actor, action=action, target=target, **detail)
