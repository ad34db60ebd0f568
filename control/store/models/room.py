"""Rooms and users' access rights in them."""

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from control.store.models.base import ID, Base, UTCDateTime, new_id, utcnow


class Room(Base):
    __tablename__ = "rooms"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    company_id: Mapped[str] = mapped_column(ID, ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[str | None] = mapped_column(ID, ForeignKey("departments.id"), nullable=True)
    name: Mapped[str] = mapped_column(String(200))
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    waiting_room: Mapped[bool] = mapped_column(Boolean, default=False)
    chat: Mapped[bool] = mapped_column(Boolean, default=True)
    screen_share: Mapped[bool] = mapped_column(Boolean, default=True)
    participants_may_start: Mapped[bool] = mapped_column(Boolean, default=False)
    """People without moderator rights enter while no moderator is present (else they wait for one)."""
    max_participants: Mapped[int] = mapped_column(Integer)
    participants_add_materials: Mapped[bool] = mapped_column(Boolean, default=False)
    """Participants (not only moderators) attach conference materials to the room."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RoomAccess(Base):
    """A user's access right in a room, with the default role there."""

    __tablename__ = "room_access"
    room_id: Mapped[str] = mapped_column(ID, ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ID, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20))
