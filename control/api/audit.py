"""The audit log: /audit-events, /audit-events.csv"""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from starlette.responses import Response

from control.api.endpoint import Call, EndpointGroup
from control.api.schemas import Id, Input, Instant, Page, PageQuery
from control.services import audit
from control.store.models import AuditEvent
from control.store.repositories.audit import AuditFilter

endpoints = EndpointGroup(tag="audit")

Action = Field(None, max_length=64, pattern=r"^[a-z_.]+$", description="e.g. user.invited")


class AuditFilterQuery(Input):
    action: str | None = Action
    actor_user_id: Id | None = Field(None, description="the user who acted (or whose API key did)")
    target_type: str | None = Field(None, max_length=32, pattern=r"^[a-z_]+$", description="e.g. user, room")
    target_id: Id | None = None
    since: Instant | None = Field(None, description="inclusive, ISO 8601 with a time zone")
    until: Instant | None = Field(None, description="exclusive, ISO 8601 with a time zone")

    def to_filter(self) -> AuditFilter:
        return AuditFilter(
            action=self.action,
            actor_user_id=self.actor_user_id,
            target_type=self.target_type,
            target_id=self.target_id,
            since=self.since,
            until=self.until,
        )


class AuditQuery(AuditFilterQuery, PageQuery):
    pass


class AuditEventOut(BaseModel):
    id: int
    at: datetime
    actor_user_id: str | None
    actor_api_key_id: str | None
    action: str
    target_type: str
    target_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    actor_name: str | None = Field(None, description="the acting user's name (or the API key's), when it still exists")
    target_name: str | None = Field(
        None, description="the target's name (a user, room, key, department, link, invitee, add-in or the company)"
    )


def out(e: AuditEvent, named: dict[tuple[str, str], str] | None = None) -> AuditEventOut:
    named = named or {}
    actor = named.get(("user", e.actor_user_id or "")) if e.actor_user_id else None
    if e.actor_api_key_id:
        key = named.get(("api_key", e.actor_api_key_id))
        actor = f"{actor or 'a user'} (API key {key})" if key else actor
    return AuditEventOut(
        actor_name=actor,
        target_name=named.get((e.target_type, e.target_id or "")),
        id=e.id,
        at=e.at,
        actor_user_id=e.actor_user_id,
        actor_api_key_id=e.actor_api_key_id,
        action=e.action,
        target_type=e.target_type,
        target_id=e.target_id,
        before=e.before,
        after=e.after,
    )


@endpoints.get("/audit-events", query=AuditQuery, response=Page[AuditEventOut], errors=(403,))
async def list_audit_events(call: Call) -> Page[AuditEventOut]:
    """List audit events

    Administrative changes, newest first: who (`actor_user_id`, and `actor_api_key_id` when a key acted), what
    (`action`, e.g. `user.invited`, on `target_type`/`target_id`), their names as they are now (`actor_name`,
    `target_name`; a deleted target's from the state the event kept), the state before and after, and when (Manage
    company settings). Filters: `action`, `actor_user_id`, `target_type`, `target_id`, `since` (inclusive) and
    `until` (exclusive), as ISO 8601 with a time zone. Secrets never appear."""
    q: AuditQuery = call.query
    page = await audit.query(call.ctx, call.principal, q.to_filter(), offset=q.offset, limit=q.limit)
    named = await audit.names(call.ctx, call.principal.company_id, page.items)
    items = [out(e, named) for e in page.items]
    return Page[AuditEventOut](items=items, total=page.total, offset=q.offset, limit=q.limit)


@endpoints.get("/audit-events.csv", query=AuditFilterQuery, errors=(403,), media_type="text/csv")
async def export_audit_events(call: Call) -> Response:
    """Export audit events as CSV

    The events matching the same filters as `GET /audit-events`, all of them, newest first, as a `text/csv` download
    (Manage company settings)."""
    text = await audit.export_csv(call.ctx, call.principal, call.query.to_filter())
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit-events.csv"'},
    )
