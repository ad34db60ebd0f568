"""Tables of company add-ins and group links: add_ins, group_links (migration 0004_addins_group_links).

Imported at the end of `control.store.models` so that `Base.metadata` holds them. Only the SHA-256 of a
secret is stored (control.security.secrets), as for API keys.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from control.store.models import ID, Base, UTCDateTime, new_id, utcnow

URL = String(2000)


class AddIn(Base):
    """A company-level integration, registered by holders of Manage company settings.

    A registry entry only: Podium calls nothing at `url` (see docs/control-api.md, "Add-ins").
    """

    __tablename__ = "add_ins"
    __table_args__ = (UniqueConstraint("company_id", "name"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    company_id: Mapped[str] = mapped_column(ID, ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    """control.services.addins.Kind"""
    url: Mapped[str] = mapped_column(URL)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    secret_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The shared secret's digest; None: no secret."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


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
