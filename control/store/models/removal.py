"""People kept out of a room: removals, bans and exclusions (migration 0002)."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from control.store.models.base import ID, Base, UTCDateTime, new_id, utcnow


class RoomRemoval(Base):
    """A person kept out of a room: removed until a moment, banned until unbanned, or excluded from
    one meeting."""

    __tablename__ = "room_removals"
    __table_args__ = (Index("ix_room_removals_room_person", "room_id", "person"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    company_id: Mapped[str] = mapped_column(ID, ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[str] = mapped_column(ID, ForeignKey("rooms.id", ondelete="CASCADE"))
    person: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    """"removal", "ban" or "exclusion"."""
    meeting_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    """For an exclusion: the meeting."""
    until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """For a removal: its end."""
    actor: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """For a ban: when it was lifted."""
