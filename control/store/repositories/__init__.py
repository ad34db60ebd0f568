"""Repositories: the only code that builds queries. Tenant repositories take a `company_id` at
construction and scope every query to it, so nothing crosses companies by accident."""

from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int


async def paginate(session: AsyncSession, query: Select[tuple[T]], offset: int, limit: int) -> Page[T]:
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = list((await session.scalars(query.offset(offset).limit(limit))).all())
    return Page(items=items, total=total or 0)


class TenantRepository:
    def __init__(self, session: AsyncSession, company_id: str):
        self.session = session
        self.company_id = company_id
