"""The webhook delivery queue and its log (migration 0008): one row per (event, add-in).

A row is written in the transaction of what it reports (or, for meeting events, by an observer after
the meeting's commit), so a restarted control plane finds every delivery still owed. Its `id` is the
Standard Webhooks `webhook-id`, the same on every attempt.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from control.store.models.base import ID, Base, UTCDateTime, utcnow


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_add_in", "add_in_id", "created_at"),
    )
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    """msg_<32 hex>: the webhook-id header."""
    company_id: Mapped[str] = mapped_column(ID, ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    add_in_id: Mapped[str] = mapped_column(ID, ForeignKey("add_ins.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(40))
    """control.domain.webhooks.EventType"""
    payload: Mapped[str] = mapped_column(Text)
    """The JSON body, exactly as signed and sent on every attempt."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(16))
    """pending, delivered, or failed (every attempt used up)."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """When the dispatcher may try it (again); while one attempt runs, the end of its lease."""
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The receiver's HTTP status on the last attempt; None: no answer."""
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
