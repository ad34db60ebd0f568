"""Tables of meetings: meetings, guest invitations, guest sessions, room removals and bans.

Imported at the end of `control.store.models` so that `Base.metadata` holds them (migration 0002).
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from control.store.models import ID, Base, UTCDateTime, new_id, utcnow


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


class GuestInvitation(Base):
    """A personalized, single-use, browser-bound invitation link to a room."""

    __tablename__ = "guest_invitations"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    company_id: Mapped[str] = mapped_column(ID, ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[str] = mapped_column(ID, ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    issuer_user_id: Mapped[str] = mapped_column(ID)
    invitee_name: Mapped[str] = mapped_column(String(200))
    invitee_key: Mapped[str] = mapped_column(String(64))
    """The guest's person key (removals and bans apply to it)."""
    rights: Mapped[list[Any]] = mapped_column(JSON)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    not_after: Mapped[datetime] = mapped_column(UTCDateTime)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    browser_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GuestSession(Base):
    """One guest token (its jti): revocable at once."""

    __tablename__ = "guest_sessions"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    invitation_id: Mapped[str] = mapped_column(ID, ForeignKey("guest_invitations.id", ondelete="CASCADE"),
                                               index=True)
    room_id: Mapped[str] = mapped_column(ID, index=True)
    person: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


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
