"""The audit log: querying with filters, CSV export."""

import csv
import io
import json

from control.domain.permissions import Permission
from control.services.context import Context, require
from control.store.models import AuditEvent
from control.store.repositories import Page
from control.store.repositories.audit import AuditFilter, AuditLog
from control.types import Principal

CSV_COLUMNS = ("id", "at", "actor_user_id", "actor_api_key_id", "action", "target_type", "target_id", "before", "after")


async def query(ctx: Context, principal: Principal, f: AuditFilter, *, offset: int, limit: int) -> Page[AuditEvent]:
    require(principal, Permission.MANAGE_COMPANY_SETTINGS)
    return await AuditLog(ctx.session, principal.company_id).query(f, offset=offset, limit=limit)


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
