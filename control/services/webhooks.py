"""The webhook delivery log (Manage company settings): what was owed to an add-in, and what became of it."""

from sqlalchemy import select

from control.domain.permissions import Permission
from control.services import addins
from control.services.context import Context, require
from control.store.models import WebhookDelivery
from control.store.repositories import Page, paginate
from control.types import Principal
from control.webhooks.queue import DELIVERED, FAILED, PENDING

STATUSES = (PENDING, DELIVERED, FAILED)


async def deliveries(
    ctx: Context, principal: Principal, add_in_id: str, *, offset: int, limit: int, status: str | None
) -> Page[WebhookDelivery]:
    """An add-in's deliveries, newest first; `status` filters."""
    require(principal, Permission.MANAGE_COMPANY_SETTINGS)
    add_in = await addins.get(ctx, principal, add_in_id)
    query = select(WebhookDelivery).where(
        WebhookDelivery.company_id == principal.company_id, WebhookDelivery.add_in_id == add_in.id
    )
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    query = query.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id)
    return await paginate(ctx.session, query, offset, limit)
