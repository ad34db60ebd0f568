from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from control.store.models import Company


class Companies:
    """Companies themselves: the one repository that is not scoped to a company."""

    def __init__(self, session: AsyncSession):
        self.session = session

    async def get(self, company_id: str) -> Company | None:
        return await self.session.get(Company, company_id)

    async def by_slug(self, slug: str) -> Company | None:
        return await self.session.scalar(select(Company).where(Company.slug == slug))

    async def add(self, company: Company) -> Company:
        self.session.add(company)
        await self.session.flush()
        return company
