"""Guest invitation links and the guest sessions redeemed from them (migration 0002)."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from control.store.models.base import ID, Base, UTCDateTime, new_id, utcnow


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
    invitation_id: Mapped[str] = mapped_column(ID, ForeignKey("guest_invitations.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[str] = mapped_column(ID, index=True)
    person: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
