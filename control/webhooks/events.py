"""The meeting's committed changes as webhook events: an observer (control.meetings.observers) that
queues meeting started and ended, participant joined and left, and moderation actions. Observers run
after the meeting's commit, off its path: a slow database here delays no meeting."""

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from control.domain.webhooks import EventType
from control.meetings.observers import MeetingInfo, MeetingObserver
from control.services.context import Context
from control.webhooks.queue import enqueue


class WebhookObserver(MeetingObserver):
    def __init__(self, context: Callable[[], AbstractAsyncContextManager[Context]], wake: Callable[[], None]) -> None:
        self.context = context
        self.wake = wake

    async def _queue(self, meeting: MeetingInfo, event: EventType, **data: Any) -> None:
        async with self.context() as ctx:
            queued = await enqueue(
                ctx.session,
                meeting.company_id,
                event,
                {"meeting_id": meeting.meeting_id, "room_id": meeting.room_id, **data},
                ctx.now(),
            )
            await ctx.session.commit()
        if queued:
            self.wake()

    async def meeting_started(self, meeting: MeetingInfo) -> None:
        await self._queue(meeting, EventType.MEETING_STARTED)

    async def meeting_ended(self, meeting: MeetingInfo, reason: str) -> None:
        await self._queue(meeting, EventType.MEETING_ENDED, reason=reason)

    async def participant_joined(self, meeting: MeetingInfo, participant_id: str, person: str, name: str) -> None:
        await self._queue(
            meeting, EventType.PARTICIPANT_JOINED, participant_id=participant_id, person=person, name=name
        )

    async def participant_admitted(self, meeting: MeetingInfo, participant_id: str) -> None:
        """Entering through the waiting room: joined on admission (person and name are in the attendance)."""
        await self._queue(meeting, EventType.PARTICIPANT_JOINED, participant_id=participant_id, admitted=True)

    async def participant_left(self, meeting: MeetingInfo, participant_id: str, person: str, reason: str) -> None:
        await self._queue(
            meeting, EventType.PARTICIPANT_LEFT, participant_id=participant_id, person=person, reason=reason
        )

    async def moderated(
        self, meeting: MeetingInfo, actor: str, action: str, target: str | None, detail: dict[str, Any]
    ) -> None:
        await self._queue(meeting, EventType.MODERATION_ACTION, actor=actor, action=action, target=target, **detail)
