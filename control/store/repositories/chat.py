"""Chat messages of one company's meetings (table chat_messages, append-only)."""

from sqlalchemy import Select, or_, select

from control.store.models import ChatMessage
from control.store.repositories import Page, TenantRepository, paginate


class ChatMessages(TenantRepository):
    async def add(self, message: ChatMessage) -> ChatMessage:
        """Append one message (flushed, not committed): its id orders the conversation."""
        message.company_id = self.company_id
        self.session.add(message)
        await self.session.flush()
        return message

    def _visible(self, meeting_id: str, persons: tuple[str, ...]) -> Select[tuple[ChatMessage]]:
        query = select(ChatMessage).where(
            ChatMessage.company_id == self.company_id, ChatMessage.meeting_id == meeting_id
        )
        mine = [ChatMessage.recipient_person.is_(None)]
        if persons:
            mine += [ChatMessage.sender_person.in_(persons), ChatMessage.recipient_person.in_(persons)]
        return query.where(or_(*mine))

    async def history(
        self,
        meeting_id: str,
        persons: tuple[str, ...],
        *,
        offset: int = 0,
        limit: int = 50,
        after_id: int | None = None,
    ) -> Page[ChatMessage]:
        """What a person (under any of the keys in `persons`) sees, oldest first: messages to everyone,
        and one-to-one messages they sent or received (no keys: messages to everyone only).
        `after_id` keeps only later messages."""
        query = self._visible(meeting_id, persons)
        if after_id is not None:
            query = query.where(ChatMessage.id > after_id)
        return await paginate(self.session, query.order_by(ChatMessage.id), offset, limit)

    async def involved(self, meeting_id: str, *persons: str) -> bool:
        """Whether the person (under any of the keys) sent or received a message in the meeting."""
        found = await self.session.scalar(
            select(ChatMessage.id)
            .where(
                ChatMessage.company_id == self.company_id,
                ChatMessage.meeting_id == meeting_id,
                or_(ChatMessage.sender_person.in_(persons), ChatMessage.recipient_person.in_(persons)),
            )
            .limit(1)
        )
        return found is not None
