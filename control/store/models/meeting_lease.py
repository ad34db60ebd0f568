"""Which control-plane replica runs a room's live meeting (migration 0008; docs/deployment.md,
"Replicas"). Used on PostgreSQL only: a single SQLite process owns every meeting."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from control.store.models.base import ID, Base, UTCDateTime


class MeetingLease(Base):
    """One room's lease: the replica that runs its meeting until `expires_at` (on the database's
    clock), renewed by that replica while it lives. Claimed atomically (control.replicas.store);
    deleted when the meeting ends."""

    __tablename__ = "meeting_leases"
    room_id: Mapped[str] = mapped_column(ID, ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64))
    """The owning replica's id (a new one per `podium serve` process)."""
    owner_url: Mapped[str] = mapped_column(String(2000))
    """The owner's public base URL, where participants redirected to it connect."""
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
