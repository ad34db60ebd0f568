"""Whiteboard operations of a meeting (migration 0008): append-only, in the server's order; deleting
the meeting deletes them."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from control.store.models.base import ID, PARTICIPANT, PERSON, Base, UTCDateTime, utcnow


class WhiteboardOpRow(Base):
    """One operation the server accepted (control.domain.whiteboard.Op)."""

    __tablename__ = "whiteboard_ops"
    meeting_id: Mapped[str] = mapped_column(ID, ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    """Its place in the board's order, from 1: (meeting, seq) is unique, so two processes never both
    append the same place."""
    company_id: Mapped[str] = mapped_column(ID, ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(16))
    author: Mapped[str] = mapped_column(PARTICIPANT)
    person: Mapped[str] = mapped_column(PERSON)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    """What the kind needs: the drawing, the erased targets, the undone operation."""
