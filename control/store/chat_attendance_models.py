"""Tables of chat and attendance: chat_messages, attendance_events (migration 0003_chat_attendance).

Imported at the end of `control.store.models` so that `Base.metadata` holds them. Both tables are
append-only and belong to a meeting: deleting the meeting (or its company) deletes them.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from control.store.models import ID, Base, UTCDateTime, utcnow

PERSON = String(64)
"""A person key: a user id, or a guest's invitee key."""
PARTICIPANT = String(64)
"""A participant (connection) id within a meeting."""


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


class AttendanceEvent(Base):
    """One attendance event of a connection (see control.domain.attendance.EventKind)."""

    __tablename__ = "attendance_events"
    __table_args__ = (Index("ix_attendance_events_meeting_id", "meeting_id", "id"),
                      Index("ix_attendance_events_person", "company_id", "person"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    """Increasing: breaks ties between events at the same instant."""
    company_id: Mapped[str] = mapped_column(ID, ForeignKey("companies.id", ondelete="CASCADE"))
    meeting_id: Mapped[str] = mapped_column(ID, ForeignKey("meetings.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    person: Mapped[str] = mapped_column(PERSON)
    participant: Mapped[str] = mapped_column(PARTICIPANT, default="")
    name: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(String(16), nullable=True)
    """The source of source_on/source_off, the role of role; None otherwise."""
