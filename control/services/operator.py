"""The instance operator's companies: create, change quotas, suspend, delete.

The operator is not a user of any company: `control.operator` authenticates them with the
instance's operator token, apart from company users. `podium bootstrap` stays for the first company
(it needs no running server). Changes are audited in the company's own log, with no user as actor
(`operator.company_*`); a deleted company's log goes with it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from control.domain.quotas import Quotas
from control.errors import NotFound
from control.services import companies
from control.services.context import Context, record
from control.store.models import Company
from control.store.repositories.companies import Companies
from control.store.repositories.rooms import Rooms
from control.store.repositories.users import Users


@dataclass(frozen=True)
class CompanyStatus:
    company: Company
    rooms: int
    users: int
    """Current and pending."""
    online: int
    """People in its running meetings now, waiting or admitted."""


def _quotas(c: Company) -> dict[str, Any]:
    return {
        "max_rooms": c.max_rooms,
        "max_users": c.max_users,
        "max_participants": c.max_participants,
        "max_storage_bytes": c.max_storage_bytes,
    }


def _state(c: Company) -> dict[str, Any]:
    return {"name": c.name, **_quotas(c), "suspended": c.suspended_at is not None}


async def status(ctx: Context, company: Company, online: Callable[[str], int]) -> CompanyStatus:
    return CompanyStatus(
        company,
        rooms=await Rooms(ctx.session, company.id).count(),
        users=await Users(ctx.session, company.id).count(),
        online=online(company.id),
    )


async def list_companies(ctx: Context, online: Callable[[str], int]) -> list[CompanyStatus]:
    return [await status(ctx, c, online) for c in await Companies(ctx.session).all()]


async def get_company(ctx: Context, company_id: str) -> Company:
    company = await Companies(ctx.session).get(company_id)
    if company is None:
        raise NotFound(f"company {company_id} not found")
    return company


async def create_company(
    ctx: Context, *, slug: str, name: str, admin_email: str, admin_name: str, admin_password: str, quotas: Quotas
) -> Company:
    """A company and its first administrator (every permission), as `podium bootstrap` makes one."""
    company, _ = await companies.bootstrap(
        ctx, slug=slug, name=name, email=admin_email, password=admin_password, admin_name=admin_name, quotas=quotas
    )
    return company


async def update_company(ctx: Context, company_id: str, changes: dict[str, Any]) -> Company:
    """Rename, set quotas (`max_rooms`, `max_users`, `max_participants`, `max_storage_bytes`) or suspend (`suspended`).

    Quotas bound what is added from now on: lowering one below the current usage removes nothing.
    Suspension is the caller's to carry out in running meetings (`control.meetings.closing`)."""
    company = await get_company(ctx, company_id)
    before = _state(company)
    for field in ("name", "max_rooms", "max_users", "max_participants", "max_storage_bytes"):
        if changes.get(field) is not None:
            setattr(company, field, changes[field])
    if changes.get("suspended") is not None:
        suspend = bool(changes["suspended"])
        if suspend and company.suspended_at is None:
            company.suspended_at = ctx.now()
        elif not suspend:
            company.suspended_at = None
    after = _state(company)
    if after != before:
        action = "operator.company_updated"
        if after["suspended"] != before["suspended"]:
            action = "operator.company_suspended" if after["suspended"] else "operator.company_resumed"
        await record(ctx, None, action, "company", company.id, company_id=company.id, before=before, after=after)
    await ctx.session.commit()
    return company


async def delete_company(ctx: Context, company_id: str) -> None:
    """Delete the company and everything it owns (its rows cascade)."""
    company = await get_company(ctx, company_id)
    await Companies(ctx.session).delete(company)
    await ctx.session.commit()
