"""Meeting chat: storing the messages the meeting service allowed, and the history people read.

Sending runs through the meeting service (`MeetingService.chat`, for the signaling `chat` frame): it
checks policy (`control.domain.moderation.check_chat`: the sender is admitted and holds the chat
capability; while room chat is off only moderators send) and the text
(`control.domain.chat.text_problem`), then calls `ChatObserver.chat_message`, which stores the
message and returns it as the `chat` frame carries it. `GET /meetings/{id}/chat` reads the history
(`history_for`). Both answers are rendered from one `Message`, built from the stored row.

A message to everyone goes to every admitted participant; a one-to-one message to the sender and
the recipient. History shows a person the messages to everyone and the one-to-one messages they sent
or received, oldest first.
"""

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import asdict, dataclass
from typing import Any

from control.errors import Forbidden
from control.meetings.observers import MeetingObserver
from control.services.attendance import AttendanceRecorder, iso, may_report, meeting_for, user_person_keys
from control.services.context import Context
from control.store.models import ChatMessage
from control.store.repositories import Page
from control.store.repositories.chat import ChatMessages
from control.types import Principal

__all__ = ["ChatObserver", "Message", "Speaker", "history_for"]

NAME_LENGTH = 200
"""Stored display names are cut to the column's length."""


@dataclass(frozen=True)
class Speaker:
    person: str
    """u:<user id>, or a guest's invitee key."""
    participant: str
    """The connection it was sent from or to."""
    name: str


@dataclass(frozen=True)
class Message:
    """One stored chat message, as clients receive it live (`frame`) and in the history (`item`)."""

    id: int
    meeting_id: str
    sent_at: str
    """ISO 8601 in UTC."""
    sender: Speaker
    recipient: Speaker | None
    """None: to everyone."""
    text: str

    @classmethod
    def of(cls, row: ChatMessage) -> "Message":
        recipient = None
        if row.recipient_person is not None:
            recipient = Speaker(row.recipient_person, row.recipient_participant or "", row.recipient_name or "")
        return cls(
            row.id,
            row.meeting_id,
            iso(row.sent_at) or "",
            Speaker(row.sender_person, row.sender_participant, row.sender_name),
            recipient,
            row.text,
        )

    def item(self) -> dict[str, Any]:
        """The history item (`GET /meetings/{id}/chat`): speakers with their person keys."""
        return asdict(self)

    def frame(self) -> dict[str, Any]:
        """The fields of the live `chat` frame: participants by connection, as the meeting knows them."""
        to = self.recipient
        return {
            "id": self.id,
            "from": self.sender.participant,
            "from_name": self.sender.name,
            "to": to.participant if to else None,
            "to_name": to.name if to else None,
            "text": self.text,
            "at": self.sent_at,
        }


async def history_for(
    ctx: Context, principal: Principal, meeting_id: str, *, offset: int, limit: int, after_id: int | None = None
) -> Page[Message]:
    """The meeting's chat as the calling user sees it. Whoever took part in the meeting (or its chat) sees
    the messages to everyone and their own one-to-one messages; holders of Administrate rooms and the
    meeting's organizers and moderators who did not take part see the messages to everyone. Nobody
    reads other people's one-to-one messages."""
    meeting = await meeting_for(ctx, principal, meeting_id)
    messages = ChatMessages(ctx.session, meeting.company_id)
    persons = user_person_keys(principal.user_id)
    took_part = await AttendanceRecorder(ctx.session, meeting.company_id).took_part(
        meeting.id, *persons
    ) or await messages.involved(meeting.id, *persons)
    if not took_part and not await may_report(ctx, principal, meeting):
        raise Forbidden(
            "only people who took part in the meeting, its moderators and holders of 'Administrate "
            "rooms' read its chat",
            code="not_a_participant",
        )
    page = await messages.history(meeting.id, persons, offset=offset, limit=limit, after_id=after_id)
    return Page([Message.of(row) for row in page.items], page.total)


class ChatObserver(MeetingObserver):
    """Stores the messages the meeting service allowed (its `chat_message` hook, see
    control.meetings.observers; the service checked policy and text) and returns them as delivered
    (`Message.frame`). Person keys and names come from the attendance events of the connections, so
    register an `AttendanceObserver` before it."""

    def __init__(self, context: Callable[[], AbstractAsyncContextManager[Context]]):
        self.context = context

    async def chat_message(
        self, meeting: Any, sender_id: str, sender_name: str, to: str | None, text: str
    ) -> dict[str, Any]:
        async with self.context() as ctx:
            recorder = AttendanceRecorder(ctx.session, meeting.company_id)
            sender = await recorder.identity(meeting.meeting_id, sender_id) or (sender_id, sender_name)
            recipient = None
            if to is not None:
                recipient = await recorder.identity(meeting.meeting_id, to) or (to, to)
            row = await ChatMessages(ctx.session, meeting.company_id).add(
                ChatMessage(
                    meeting_id=meeting.meeting_id,
                    sent_at=ctx.now(),
                    sender_person=sender[0],
                    sender_participant=sender_id,
                    sender_name=(sender_name or sender[1])[:NAME_LENGTH],
                    recipient_person=recipient[0] if recipient else None,
                    recipient_participant=to,
                    recipient_name=recipient[1][:NAME_LENGTH] if recipient else None,
                    text=text,
                )
            )
            await ctx.session.commit()
            return Message.of(row).frame()
