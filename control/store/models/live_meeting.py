"""Running meetings as their control plane holds them, so that a restart resumes them (migration 0005)."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from control.store.models.base import ID, Base, UTCDateTime, utcnow


class LiveMeetingRow(Base):
    """One running meeting's state: roles, permissions and revocations, the waiting room, the floor,
    the chat switch, exclusions, visits, who is who, and its worker. Written by every change the
    engine acknowledged (control.meetings.commit), deleted when the meeting ends."""

    __tablename__ = "live_meetings"
    meeting_id: Mapped[str] = mapped_column(ID, ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    """control.meetings.durable.documents.MeetingDocument, encoded."""
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LivePeerRow(Base):
    """One participant's engine objects in a running meeting (transports, producers, consumers and
    their SSRCs): what lets a restarted control plane keep the transports a worker still holds. A
    row per participant, so that a change rewrites only the participants it touched."""

    __tablename__ = "live_peers"
    meeting_id: Mapped[str] = mapped_column(
        ID, ForeignKey("live_meetings.meeting_id", ondelete="CASCADE"), primary_key=True
    )
    participant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    """A control.meetings.media_records.Peer, encoded."""
