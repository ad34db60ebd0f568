"""Writing deliveries into the persistent queue: one row per (event, webhook add-in), in the caller's
transaction, so an event is owed exactly when what it reports is committed."""

import json
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from control.domain.webhooks import EventType, payload
from control.store.models import AddIn, WebhookDelivery

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"

WEBHOOK_KIND = "webhook"
"""control.services.addins.Kind.WEBHOOK (not imported: services import this module)."""


def new_message_id() -> str:
    """A Standard Webhooks message id: unique, the same on every attempt of one delivery."""
    return "msg_" + secrets.token_hex(16)


async def enqueue(
    session: AsyncSession, company_id: str, event: EventType, data: dict[str, Any], now: datetime
) -> list[str]:
    """Owe `event` to each enabled webhook add-in of the company that holds a signing secret; the
    message ids (flushed with the caller's transaction, not committed)."""
    add_ins = await session.scalars(
        select(AddIn.id).where(
            AddIn.company_id == company_id,
            AddIn.kind == WEBHOOK_KIND,
            AddIn.enabled.is_(True),
            AddIn.signing_secret.is_not(None),
        )
    )
    body = json.dumps(payload(event, now, data), separators=(",", ":"), sort_keys=True)
    ids = []
    for add_in_id in add_ins:
        delivery = WebhookDelivery(
            id=new_message_id(),
            company_id=company_id,
            add_in_id=add_in_id,
            event_type=event.value,
            payload=body,
            created_at=now,
            status=PENDING,
            attempts=0,
            next_attempt_at=now,
        )
        session.add(delivery)
        ids.append(delivery.id)
    if ids:
        await session.flush()
    return ids
