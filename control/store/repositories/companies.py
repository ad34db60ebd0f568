from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from control.store.models import Company


class Companies:
    """Companies themselves: the one repository that is not scoped to a company."""

    def __init__(self, session: AsyncSession):
        self.session = session

    async def get(self, company_id: str, *, for_update: bool = False) -> Company | None:
        """The company; `for_update` locks its row until commit (PostgreSQL), serialising quota checks."""
        query = select(Company).where(Company.id == company_id)
        return await self.session.scalar(query.with_for_update() if for_update else query)

    async def by_slug(self, slug: str) -> Company | None:
        return await self.session.scalar(select(Company).where(Company.slug == slug))

    async def named(self, name: str) -> list[Company]:
        """The companies whose display name is `name`, ignoring case (SQLite folds ASCII letters only)."""
        query = select(Company).where(func.lower(Company.name) == func.lower(name.strip())).order_by(Company.slug)
        return list(await self.session.scalars(query))

    async def add(self, company: Company) -> Company:
        self.session.add(company)
        await self.session.flush()
        return company

    async def all(self) -> list[Company]:
        """Every company of the instance, by slug (the operator's view)."""
        return list(await self.session.scalars(select(Company).order_by(Company.slug)))

    async def delete(self, company: Company) -> None:
        """The company and, by the database's cascades, everything it owns."""
        await self.session.execute(delete(Company).where(Company.id == company.id))
