"""Chat messages of a meeting (migration 0003): append-only; deleting the meeting deletes them."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from control.store.models.base import ID, PARTICIPANT, PERSON, Base, UTCDateTime, utcnow


class ChatMessage(Base):
    """One chat message: to everyone (no recipient) or to one person."""

    __tablename__ = "chat_messages"
    __table_args__ = (Index("ix_chat_messages_meeting_id", "meeting_id", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    """Increasing: the order of the conversation."""
    company_id: Mapped[str] = mapped_column(ID, ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    meeting_id: Mapped[str] = mapped_column(ID, ForeignKey("meetings.id", ondelete="CASCADE"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sender_person: Mapped[str] = mapped_column(PERSON)
    sender_participant: Mapped[str] = mapped_column(PARTICIPANT)
    sender_name: Mapped[str] = mapped_column(String(200))
    recipient_person: Mapped[str | None] = mapped_column(PERSON, nullable=True)
    """None: to everyone in the meeting."""
    recipient_participant: Mapped[str | None] = mapped_column(PARTICIPANT, nullable=True)
    recipient_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    """As sent (validated, never escaped: escaping is the client's job)."""
