from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from control.store.models import ApiKey
from control.store.repositories import Page, TenantRepository, paginate


class ApiKeys(TenantRepository):
    async def get(self, key_id: str) -> ApiKey | None:
        return await self.session.scalar(
            select(ApiKey).where(ApiKey.company_id == self.company_id, ApiKey.id == key_id)
        )

    async def list(self, *, offset: int, limit: int, user_id: str | None = None) -> Page[ApiKey]:
        query = select(ApiKey).where(ApiKey.company_id == self.company_id).order_by(ApiKey.created_at, ApiKey.id)
        if user_id is not None:
            query = query.where(ApiKey.user_id == user_id)
        return await paginate(self.session, query, offset, limit)

    async def add(self, key: ApiKey) -> ApiKey:
        key.company_id = self.company_id
        self.session.add(key)
        await self.session.flush()
        return key


async def find_by_secret_hash(session: AsyncSession, secret_hash: str) -> ApiKey | None:
    """The key presented by a caller (a key names its company by itself)."""
    return await session.scalar(select(ApiKey).where(ApiKey.secret_hash == secret_hash))


async def record_use(session: AsyncSession, key_id: str, at: datetime, **options: Any) -> None:
    """Write the key's last use (`options`: execution options of the write)."""
    await session.execute(
        update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=at).execution_options(**options)
    )
