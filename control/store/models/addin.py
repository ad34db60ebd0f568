"""Company add-ins (migrations 0004, 0008). The SHA-256 of a secret is stored (control.security.secrets),
as for API keys; a webhook's signing secret also sealed (control.security.sealing), as signing needs it."""

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from control.store.models.base import ID, Base, UTCDateTime, new_id, utcnow

URL = String(2000)


class AddIn(Base):
    """A company-level integration, registered by holders of Manage company settings.

    Enabled webhooks with a signing secret receive signed deliveries at `url` (docs/control-api.md,
    "Webhooks"); links are only stored.
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
    signing_secret: Mapped[str | None] = mapped_column(String(300), nullable=True)
    """A webhook's Standard Webhooks secret (whsec_<base64>), which signing needs (a digest cannot key an
    HMAC), sealed (control.security.sealing); never returned after it is issued. None: nothing is sent."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
