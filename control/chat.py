"""Meeting chat: messages to everyone or to one person, persisted with the meeting.

Who may send is pure policy (`control.domain.moderation.check_chat` over the meeting's state): the
sender must be admitted and hold the chat capability; while room chat is off only moderators send.
Disabling chat for the room or for one participant is moderation state owned by the meeting service
(`Action.DISABLE_CHAT_ROOM`, `Action.DISABLE_CHAT_PARTICIPANT`); this module only reads it, through
the `MeetingState` it is given.

Interface for the meeting service
---------------------------------

    store = ChatStore(ctx.session, company_id)
    message = await send(store, state, meeting_id, sender_participant_id, text,
                         recipient=recipient_participant_id_or_None, at=ctx.now(),
                         names={participant_id: display_name, ...})
    await ctx.session.commit()        # then deliver `message` (message_json) to its audience
    page = await store.history(meeting_id, person, offset=0, limit=50)

`send` raises `ChatRefused` (403, its `code` one of control.domain.meeting_state.Code) when policy
refuses, and `Invalid` (422, code `invalid_chat_text`) for text that is empty, too long, or holds
control characters other than tab and newline. Nothing is committed: the caller commits.
Audience: a message to everyone goes to every admitted participant; a one-to-one message goes to
every connection of the recipient's and the sender's persons (`ChatMessage.recipient_person`,
`.sender_person`). History shows a person the messages to everyone and the one-to-one messages they
sent or received, oldest first.
"""

import unicodedata
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from control.attendance import AttendanceRecorder, iso, may_report, meeting_for, user_person_keys
from control.domain.meeting_state import MeetingState, Refused
from control.domain.moderation import check_chat
from control.errors import Forbidden, Invalid
from control.meetings.observers import MeetingObserver
from control.services.context import Context
from control.store.chat_attendance_models import ChatMessage
from control.store.repositories import Page, paginate
from control.types import Principal

__all__ = ["MAX_TEXT", "ChatObserver", "ChatRefused", "ChatStore", "send", "validate_text", "message_json", "history_for"]

MAX_TEXT = 4000
"""Longest message, in characters (code points)."""

_ALLOWED_CONTROLS = frozenset("\t\n")


class ChatRefused(Forbidden):
    """Policy refuses the message; `code` says why (chat_disabled, permission_missing, …)."""

    def __init__(self, refused: Refused):
        super().__init__(refused.message, code=refused.code.value)
        self.refused = refused


def text_problem(text: str) -> str | None:
    """Why `text` cannot be a chat message, or None. Raw text is kept as sent, but it must be
    storable on every backend and displayable: no NUL or other control characters (tab and newline
    allowed; a carriage return is a control character), no lone surrogates, not blank."""
    if not text.strip():
        return "a chat message cannot be empty"
    if len(text) > MAX_TEXT:
        return f"a chat message has at most {MAX_TEXT} characters, this one has {len(text)}"
    for ch in text:
        if ch in _ALLOWED_CONTROLS:
            continue
        category = unicodedata.category(ch)
        if category == "Cc":
            return f"a chat message cannot contain the control character U+{ord(ch):04X}"
        if category == "Cs":
            return f"a chat message cannot contain the lone surrogate U+{ord(ch):04X}"
    return None


def validate_text(text: str) -> str:
    problem = text_problem(text)
    if problem is not None:
        raise Invalid(problem, code="invalid_chat_text",
                      details=[{"field": "text", "message": problem, "type": "invalid_chat_text"}])
    return text


class ChatStore:
    """Chat messages of one company's meetings (tenant-scoped like the repositories)."""

    def __init__(self, session: AsyncSession, company_id: str):
        self.session = session
        self.company_id = company_id

    async def save(self, meeting_id: str, *, sender_person: str, sender_participant: str, sender_name: str,
                   text: str, at: datetime, recipient_person: str | None = None,
                   recipient_participant: str | None = None, recipient_name: str | None = None) -> ChatMessage:
        """Append one message (validated; flushed, not committed). No policy here: see `send`."""
        if at.tzinfo is None:
            raise ValueError("chat times must be aware (UTC)")
        message = ChatMessage(company_id=self.company_id, meeting_id=meeting_id, sent_at=at,
                              sender_person=sender_person, sender_participant=sender_participant,
                              sender_name=sender_name[:200], recipient_person=recipient_person,
                              recipient_participant=recipient_participant,
                              recipient_name=recipient_name[:200] if recipient_name is not None else None,
                              text=validate_text(text))
        self.session.add(message)
        await self.session.flush()
        return message

    def _visible(self, meeting_id: str, persons: tuple[str, ...]) -> Select[tuple[ChatMessage]]:
        query = select(ChatMessage).where(ChatMessage.company_id == self.company_id,
                                          ChatMessage.meeting_id == meeting_id)
        mine = [ChatMessage.recipient_person.is_(None)]
        if persons:
            mine += [ChatMessage.sender_person.in_(persons), ChatMessage.recipient_person.in_(persons)]
        return query.where(or_(*mine))

    async def history(self, meeting_id: str, person: str | tuple[str, ...] | None, *, offset: int = 0,
                      limit: int = 50, after_id: int | None = None) -> Page[ChatMessage]:
        """What `person` sees, oldest first: messages to everyone, and one-to-one messages they sent or
        received (person None: messages to everyone only; a tuple: one person under several keys).
        `after_id` keeps only later messages."""
        persons = (person,) if isinstance(person, str) else (person or ())
        query = self._visible(meeting_id, persons)
        if after_id is not None:
            query = query.where(ChatMessage.id > after_id)
        return await paginate(self.session, query.order_by(ChatMessage.id), offset, limit)

    async def involved(self, meeting_id: str, *persons: str) -> bool:
        """Whether the person (under any of the keys) sent or received a message in the meeting."""
        found = await self.session.scalar(
            select(ChatMessage.id).where(ChatMessage.company_id == self.company_id,
                                         ChatMessage.meeting_id == meeting_id,
                                         or_(ChatMessage.sender_person.in_(persons),
                                             ChatMessage.recipient_person.in_(persons))).limit(1))
        return found is not None


async def send(store: ChatStore, state: MeetingState, meeting_id: str, sender: str, text: str,
               recipient: str | None = None, *, at: datetime, names: Mapping[str, str] | None = None) -> ChatMessage:
    """Check policy on `state`, validate the text, and store the message (not committed).

    `sender` and `recipient` are participant ids in `state`; `names` maps participant ids to display
    names (a missing name is stored as the person key)."""
    decision = check_chat(state, sender, recipient)
    if isinstance(decision, Refused):
        raise ChatRefused(decision)
    names = names or {}
    from_ = state.get(sender)
    assert from_ is not None  # check_chat found them
    to = state.get(recipient) if recipient is not None else None
    return await store.save(
        meeting_id, sender_person=from_.person, sender_participant=from_.id,
        sender_name=names.get(from_.id, from_.person), text=text, at=at,
        recipient_person=to.person if to is not None else None, recipient_participant=to.id if to else None,
        recipient_name=names.get(to.id, to.person) if to is not None else None)


def message_json(m: ChatMessage) -> dict[str, object]:
    """A message as clients receive it (signaling and REST alike)."""
    return {"id": m.id, "meeting_id": m.meeting_id, "sent_at": iso(m.sent_at),
            "sender": {"person": m.sender_person, "participant": m.sender_participant, "name": m.sender_name},
            "recipient": ({"person": m.recipient_person, "participant": m.recipient_participant,
                           "name": m.recipient_name} if m.recipient_person is not None else None),
            "text": m.text}


async def history_for(ctx: Context, principal: Principal, meeting_id: str, *, offset: int, limit: int,
                      after_id: int | None = None) -> Page[ChatMessage]:
    """The meeting's chat as the calling user sees it. Whoever took part in the meeting (or its chat) sees
    the messages to everyone and their own one-to-one messages; holders of Administrate rooms and the
    meeting's organizers and moderators who did not take part see the messages to everyone. Nobody
    reads other people's one-to-one messages."""
    meeting = await meeting_for(ctx, principal, meeting_id)
    store = ChatStore(ctx.session, meeting.company_id)
    persons = user_person_keys(principal.user_id)
    took_part = (await AttendanceRecorder(ctx.session, meeting.company_id).took_part(meeting.id, *persons)
                 or await store.involved(meeting.id, *persons))
    if not took_part and not await may_report(ctx, principal, meeting):
        raise Forbidden("only people who took part in the meeting, its moderators and holders of 'Administrate "
                        "rooms' read its chat", code="not_a_participant")
    return await store.history(meeting.id, persons, offset=offset, limit=limit, after_id=after_id)


class ChatObserver(MeetingObserver):
    """Persists the messages the meeting service allowed (its `chat_message` hook, see
    control.meetings.observers) and returns them as delivered: {"id", "from", "from_name", "to", "to_name",
    "text", "at"}. Person keys and names come from the attendance events of the connections, so
    register an `AttendanceObserver` before it. Invalid text raises `Invalid` (nothing stored)."""

    def __init__(self, context: Callable[[], AbstractAsyncContextManager[Context]]):
        self.context = context

    async def chat_message(self, meeting: Any, sender_id: str, sender_name: str, to: str | None,
                           text: str) -> dict[str, Any]:
        async with self.context() as ctx:
            recorder = AttendanceRecorder(ctx.session, meeting.company_id)
            sender = await recorder.identity(meeting.meeting_id, sender_id) or (sender_id, sender_name)
            recipient = None
            if to is not None:
                recipient = await recorder.identity(meeting.meeting_id, to) or (to, to)
            message = await ChatStore(ctx.session, meeting.company_id).save(
                meeting.meeting_id, sender_person=sender[0], sender_participant=sender_id,
                sender_name=sender_name or sender[1], text=text, at=ctx.now(),
                recipient_person=recipient[0] if recipient else None, recipient_participant=to,
                recipient_name=recipient[1] if recipient else None)
            await ctx.session.commit()
        return {"id": message.id, "from": sender_id, "from_name": message.sender_name, "to": to,
                "to_name": message.recipient_name, "text": message.text, "at": iso(message.sent_at)}
