"""Room links for registered users of the room's company (migration 0004). Only the SHA-256 of
the secret is stored."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from control.store.models.base import ID, Base, UTCDateTime, new_id, utcnow


class GroupLink(Base):
    """A room link for registered users of the room's company: redeeming it gives an access right."""

    __tablename__ = "group_links"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    company_id: Mapped[str] = mapped_column(ID, ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[str] = mapped_column(ID, ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    """The default role it gives: participant or moderator (never organizer)."""
    user_ids: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    """The only users who may redeem it (sorted user ids); None: every registered user of the company."""
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(ID)
    """The user who created it (no foreign key: the link outlives its creator's account)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
