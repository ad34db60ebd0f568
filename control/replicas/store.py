"""The lease rows (control.store.models.MeetingLease) on PostgreSQL, every time on the database's
clock. `claim` is the one atomic decision: an upsert that writes only where
`control.replicas.leases.claimable` holds, so two replicas claiming one room cannot both win."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from control.replicas.leases import Lease
from control.store.models import MeetingLease


def _lease(row: MeetingLease) -> Lease:
    return Lease(row.room_id, row.owner, row.owner_url, row.expires_at.timestamp())


class Leases:
    """One replica's view of the lease rows; the caller commits."""

    def __init__(self, session: AsyncSession, replica: str, url: str, ttl: float) -> None:
        self.session = session
        self.replica = replica
        self.url = url
        self.ttl = timedelta(seconds=ttl)

    async def now(self) -> float:
        """The database's clock, in seconds."""
        now = await self.session.scalar(select(func.now()))
        assert isinstance(now, datetime)
        return now.timestamp()

    async def get(self, room_id: str) -> Lease | None:
        row = await self.session.get(MeetingLease, room_id, populate_existing=True)
        return _lease(row) if row is not None else None

    async def all(self) -> list[Lease]:
        return [_lease(row) for row in await self.session.scalars(select(MeetingLease))]

    async def claim(self, room_id: str) -> bool:
        """Take the room for this replica (or extend its own lease) unless another replica's lease
        still holds: True when this replica holds it now."""
        expires = func.now() + self.ttl
        values = insert(MeetingLease).values(
            room_id=room_id, owner=self.replica, owner_url=self.url, expires_at=expires
        )
        statement = values.on_conflict_do_update(
            index_elements=[MeetingLease.room_id],
            set_={"owner": self.replica, "owner_url": self.url, "expires_at": expires},
            where=(MeetingLease.owner == self.replica) | (MeetingLease.expires_at <= func.now()),
        ).returning(MeetingLease.owner)
        owner: str | None = await self.session.scalar(statement)
        return owner == self.replica

    async def renew(self, room_ids: Iterable[str]) -> set[str]:
        """Extend this replica's leases of those rooms; the rooms whose lease it still held."""
        rooms = list(room_ids)
        if not rooms:
            return set()
        result = await self.session.scalars(
            update(MeetingLease)
            .where(MeetingLease.owner == self.replica, MeetingLease.room_id.in_(rooms))
            .values(expires_at=func.now() + self.ttl)
            .returning(MeetingLease.room_id)
        )
        return set(result)

    async def release(self, room_id: str) -> None:
        """The room's meeting ended here: its lease goes (if still this replica's)."""
        await self.session.execute(
            delete(MeetingLease).where(MeetingLease.room_id == room_id, MeetingLease.owner == self.replica)
        )

    async def hand_back(self) -> None:
        """This replica stops: its leases expire now, so that the others take its meetings at once."""
        await self.session.execute(
            update(MeetingLease).where(MeetingLease.owner == self.replica).values(expires_at=func.now())
        )
