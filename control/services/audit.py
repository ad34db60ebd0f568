"""The audit log: querying with filters, CSV export."""

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from control.domain.permissions import Permission
from control.services.context import Context, require
from control.store.models import AddIn, ApiKey, AuditEvent, Company, Department, GroupLink, GuestInvitation, Room, User
from control.store.repositories import Page
from control.store.repositories.audit import AuditFilter, AuditLog
from control.types import Principal

CSV_COLUMNS = ("id", "at", "actor_user_id", "actor_api_key_id", "action", "target_type", "target_id", "before", "after")


async def query(ctx: Context, principal: Principal, f: AuditFilter, *, offset: int, limit: int) -> Page[AuditEvent]:
    require(principal, Permission.MANAGE_COMPANY_SETTINGS)
    return await AuditLog(ctx.session, principal.company_id).query(f, offset=offset, limit=limit)


_NAMED: dict[str, tuple[Any, Any]] = {
    "user": (User, User.name),
    "room": (Room, Room.name),
    "api_key": (ApiKey, ApiKey.name),
    "department": (Department, Department.name),
    "group_link": (GroupLink, GroupLink.name),
    "invitation": (GuestInvitation, GuestInvitation.invitee_name),
    "add_in": (AddIn, AddIn.name),
    "company": (Company, Company.name),
}
"""Target types whose rows have a name, and the column that holds it."""


async def names(ctx: Context, company_id: str, events: Iterable[AuditEvent]) -> dict[tuple[str, str], str]:
    """(type, id) → the name of every actor (users and API keys) and target of `events` that still exists in
    the company; one query per type. A deleted target is named from the state the event kept, if any."""
    wanted: dict[str, set[str]] = {}
    kept: dict[tuple[str, str], str] = {}
    for e in events:
        if e.actor_user_id:
            wanted.setdefault("user", set()).add(e.actor_user_id)
        if e.actor_api_key_id:
            wanted.setdefault("api_key", set()).add(e.actor_api_key_id)
        if e.target_id and e.target_type in _NAMED:
            wanted.setdefault(e.target_type, set()).add(e.target_id)
            for state in (e.after, e.before):
                if isinstance(state, dict) and isinstance(state.get("name"), str) and state["name"]:
                    kept.setdefault((e.target_type, e.target_id), state["name"])
    found: dict[tuple[str, str], str] = {}
    for kind, ids in wanted.items():
        model, column = _NAMED[kind]
        scope = model.id == company_id if model is Company else model.company_id == company_id
        for row_id, name in await ctx.session.execute(select(model.id, column).where(model.id.in_(ids), scope)):
            found[(kind, row_id)] = name
    return {**kept, **found}


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    text = str(value)
    # A leading =, +, - or @ would be a formula to a spreadsheet.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def csv_row(event: AuditEvent) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_cell(getattr(event, c) if c != "at" else event.at.isoformat()) for c in CSV_COLUMNS])
    return out.getvalue()


async def export_csv(ctx: Context, principal: Principal, f: AuditFilter) -> str:
    """The header, then one line per matching event, newest first."""
    require(principal, Permission.MANAGE_COMPANY_SETTINGS)
    out = io.StringIO()
    csv.writer(out).writerow(CSV_COLUMNS)
    async for event in AuditLog(ctx.session, principal.company_id).stream(f):
        out.write(csv_row(event))
    return out.getvalue()
