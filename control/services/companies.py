"""Companies: bootstrap of a company with its first administrator, settings, quotas view."""

from dataclasses import dataclass

from control.domain.permissions import ALL, Permission
from control.domain.quotas import Quotas
from control.errors import Conflict, NotFound
from control.security.passwords import hash_password
from control.services import snapshots
from control.services.context import Context, record, require
from control.store.models import Company, User
from control.store.repositories.companies import Companies
from control.store.repositories.rooms import Rooms
from control.store.repositories.users import Users
from control.types import Principal


@dataclass(frozen=True)
class Usage:
    rooms: int
    users: int


@dataclass(frozen=True)
class CompanyView:
    company: Company
    usage: Usage | None
    """Present for holders of Manage company settings only."""


def quotas(company: Company) -> Quotas:
    return Quotas(max_rooms=company.max_rooms, max_users=company.max_users, max_participants=company.max_participants)


async def bootstrap(
    ctx: Context, *, slug: str, name: str, email: str, password: str, admin_name: str, quotas: Quotas
) -> tuple[Company, User]:
    """Create a company and its first administrator, who holds every permission."""
    companies = Companies(ctx.session)
    if await companies.by_slug(slug) is not None:
        raise Conflict(f"a company with the slug '{slug}' exists already", code="company_exists")
    company = await companies.add(
        Company(
            slug=slug,
            name=name,
            privacy_notice="",
            created_at=ctx.now(),
            max_rooms=quotas.max_rooms,
            max_users=quotas.max_users,
            max_participants=quotas.max_participants,
        )
    )
    users = Users(ctx.session, company.id)
    admin = await users.add(
        User(email=email, name=admin_name, password_hash=hash_password(password), created_at=ctx.now())
    )
    await users.set_permissions(admin.id, ALL)
    await record(
        ctx, None, "company.created", "company", company.id, company_id=company.id, after=snapshots.company(company)
    )
    await record(ctx, None, "user.created", "user", admin.id, company_id=company.id, after=snapshots.user(admin, ALL))
    await ctx.session.commit()
    return company, admin


async def _company(ctx: Context, principal: Principal) -> Company:
    company = await Companies(ctx.session).get(principal.company_id)
    if company is None:
        raise NotFound("company not found")
    return company


async def privacy_notice(ctx: Context, company_id: str) -> str:
    """The company's data-protection notice, shown to users and guests before they enter a meeting."""
    company = await Companies(ctx.session).get(company_id)
    return company.privacy_notice if company is not None else ""


async def view(ctx: Context, principal: Principal) -> CompanyView:
    """Name and data-protection notice for every member; quotas and usage for settings managers."""
    company = await _company(ctx, principal)
    usage = None
    if principal.holds(Permission.MANAGE_COMPANY_SETTINGS):
        usage = Usage(
            rooms=await Rooms(ctx.session, company.id).count(), users=await Users(ctx.session, company.id).count()
        )
    return CompanyView(company=company, usage=usage)


async def update(ctx: Context, principal: Principal, *, name: str | None, privacy_notice: str | None) -> CompanyView:
    require(principal, Permission.MANAGE_COMPANY_SETTINGS)
    company = await _company(ctx, principal)
    before = snapshots.company(company)
    if name is not None:
        company.name = name
    if privacy_notice is not None:
        company.privacy_notice = privacy_notice
    after = snapshots.company(company)
    if after != before:
        await record(ctx, principal, "company.updated", "company", company.id, before=before, after=after)
    await ctx.session.commit()
    return await view(ctx, principal)
