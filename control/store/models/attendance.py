"""Attendance events of a meeting (migration 0003): append-only, so that every report can be
rebuilt; deleting the meeting deletes them."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from control.store.models.base import ID, PARTICIPANT, PERSON, Base, UTCDateTime


class AttendanceEvent(Base):
    """One attendance event of a connection (see control.domain.attendance.EventKind)."""

    __tablename__ = "attendance_events"
    __table_args__ = (
        Index("ix_attendance_events_meeting_id", "meeting_id", "id"),
        Index("ix_attendance_events_person", "company_id", "person"),
    )
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
