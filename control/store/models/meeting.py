"""Meetings: live and past sessions of a room (migration 0002)."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from control.store.models.base import ID, Base, UTCDateTime, new_id, utcnow


class Meeting(Base):
    """A live (or past) session of a room."""

    __tablename__ = "meetings"
    __table_args__ = (Index("ix_meetings_room_ended", "room_id", "ended_at"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    company_id: Mapped[str] = mapped_column(ID, ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[str] = mapped_column(ID, ForeignKey("rooms.id", ondelete="CASCADE"))
    opened_by: Mapped[str] = mapped_column(ID)
    """The user who opened it (its first organizer)."""
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    worker_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
