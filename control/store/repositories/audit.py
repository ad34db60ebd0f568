from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from control.store.models import AuditEvent
from control.store.repositories import Page, TenantRepository, paginate


@dataclass(frozen=True)
class AuditFilter:
    action: str | None = None
    actor_user_id: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class AuditLog(TenantRepository):
    def __init__(self, session: AsyncSession, company_id: str):
        super().__init__(session, company_id)

    async def add(self, event: AuditEvent) -> None:
        event.company_id = self.company_id
        self.session.add(event)
        await self.session.flush()

    def _query(self, f: AuditFilter) -> Select[tuple[AuditEvent]]:
        query = select(AuditEvent).where(AuditEvent.company_id == self.company_id)
        for column, value in (
            (AuditEvent.action, f.action),
            (AuditEvent.actor_user_id, f.actor_user_id),
            (AuditEvent.target_type, f.target_type),
            (AuditEvent.target_id, f.target_id),
        ):
            if value is not None:
                query = query.where(column == value)
        if f.since is not None:
            query = query.where(AuditEvent.at >= f.since)
        if f.until is not None:
            query = query.where(AuditEvent.at < f.until)
        return query.order_by(AuditEvent.id.desc())

    async def query(self, f: AuditFilter, *, offset: int, limit: int) -> Page[AuditEvent]:
        return await paginate(self.session, self._query(f), offset, limit)

    async def stream(self, f: AuditFilter, batch: int = 500) -> AsyncIterator[AuditEvent]:
        """Every matching event, newest first, fetched in batches."""
        offset = 0
        while True:
            rows = list(await self.session.scalars(self._query(f).offset(offset).limit(batch)))
            for row in rows:
                yield row
            if len(rows) < batch:
                return
            offset += batch
