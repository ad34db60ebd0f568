"""Companies: the tenants. Every tenant-owned row carries `company_id`."""

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from control.store.models.base import ID, Base, UTCDateTime, new_id, utcnow

DEFAULT_STORAGE_QUOTA = 1 << 30
"""A company's storage quota unless the operator sets another: 1 GiB."""


class Company(Base):
    __tablename__ = "companies"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    privacy_notice: Mapped[str] = mapped_column(Text, default="")
    max_rooms: Mapped[int] = mapped_column(Integer)
    max_users: Mapped[int] = mapped_column(Integer)
    max_participants: Mapped[int] = mapped_column(Integer)
    max_storage_bytes: Mapped[int] = mapped_column(BigInteger, default=DEFAULT_STORAGE_QUOTA)
    """Bytes the company's shared files and conference materials may hold together."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, default=None)
    """Set by the instance operator: its users cannot sign in or use their tokens, and nobody enters its
    meetings, until it is lifted."""
