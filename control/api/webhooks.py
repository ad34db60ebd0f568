"""The delivery log of a webhook add-in: /add-ins/{id}/deliveries (Manage company settings)."""

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from control.api.endpoint import Call, EndpointGroup
from control.api.schemas import Id, Input, Page, PageQuery
from control.services import webhooks
from control.store.models import WebhookDelivery

endpoints = EndpointGroup(tag="add-ins")


class AddInPath(Input):
    add_in_id: Id


class DeliveryQuery(PageQuery):
    status: Literal["pending", "delivered", "failed"] | None = None


class DeliveryOut(BaseModel):
    id: str = Field(description="the webhook-id header: the same on every attempt")
    event_type: str
    payload: dict[str, Any] = Field(description="the body as signed and sent")
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    created_at: datetime
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None = Field(description="when it is tried again (pending only)")
    last_status: int | None = Field(description="the receiver's HTTP status on the last attempt")
    last_error: str | None
    delivered_at: datetime | None


def out(d: WebhookDelivery) -> DeliveryOut:
    return DeliveryOut(
        id=d.id,
        event_type=d.event_type,
        payload=json.loads(d.payload),
        status=d.status,  # type: ignore[arg-type]
        attempts=d.attempts,
        created_at=d.created_at,
        last_attempt_at=d.last_attempt_at,
        next_attempt_at=d.next_attempt_at if d.status == "pending" else None,
        last_status=d.last_status,
        last_error=d.last_error,
        delivered_at=d.delivered_at,
    )


@endpoints.get(
    "/add-ins/{add_in_id}/deliveries",
    path_model=AddInPath,
    query=DeliveryQuery,
    response=Page[DeliveryOut],
    errors=(403, 404),
)
async def list_webhook_deliveries(call: Call) -> Page[DeliveryOut]:
    """A webhook's delivery log

    The events owed to the add-in, newest first, with their status (`pending`, `delivered`, `failed` after every
    attempt), attempts and the receiver's last answer (Manage company settings, else 403 `permission_required`).
    Deliveries follow the Standard Webhooks specification: see "Webhooks" in `docs/control-api.md`."""
    q: DeliveryQuery = call.query
    page = await webhooks.deliveries(
        call.ctx, call.principal, call.path.add_in_id, offset=q.offset, limit=q.limit, status=q.status
    )
    return Page[DeliveryOut](items=[out(d) for d in page.items], total=page.total, offset=q.offset, limit=q.limit)
