"""User profiles and the permissions they hold."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from control.store.models.base import ID, Base, UTCDateTime, new_id, utcnow


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("company_id", "email"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    company_id: Mapped[str] = mapped_column(ID, ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    invitation_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    invitation_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def pending(self) -> bool:
        """Invited, and no password set yet."""
        return self.password_hash is None


class UserPermission(Base):
    """One held permission; a user's rows are closed downward (see control.domain.permissions)."""

    __tablename__ = "user_permissions"
    user_id: Mapped[str] = mapped_column(ID, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    permission: Mapped[str] = mapped_column(String(40), primary_key=True)
