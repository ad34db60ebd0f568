"""Add-ins and group links, scoped to one company."""

from sqlalchemy import func, select

from control.store.models import AddIn, GroupLink
from control.store.repositories import Page, TenantRepository, paginate


class AddIns(TenantRepository):
    async def get(self, add_in_id: str) -> AddIn | None:
        return await self.session.scalar(
            select(AddIn).where(AddIn.company_id == self.company_id, AddIn.id == add_in_id)
        )

    async def by_name(self, name: str) -> AddIn | None:
        return await self.session.scalar(select(AddIn).where(AddIn.company_id == self.company_id, AddIn.name == name))

    async def list(
        self, *, offset: int, limit: int, kind: str | None = None, enabled: bool | None = None
    ) -> Page[AddIn]:
        query = select(AddIn).where(AddIn.company_id == self.company_id).order_by(AddIn.name, AddIn.id)
        if kind is not None:
            query = query.where(AddIn.kind == kind)
        if enabled is not None:
            query = query.where(AddIn.enabled.is_(enabled))
        return await paginate(self.session, query, offset, limit)

    async def count(self) -> int:
        return (
            await self.session.scalar(
                select(func.count()).select_from(AddIn).where(AddIn.company_id == self.company_id)
            )
            or 0
        )

    async def add(self, add_in: AddIn) -> AddIn:
        add_in.company_id = self.company_id
        self.session.add(add_in)
        await self.session.flush()
        return add_in

    async def delete(self, add_in: AddIn) -> None:
        await self.session.delete(add_in)
        await self.session.flush()


class GroupLinks(TenantRepository):
    async def get(self, room_id: str, link_id: str) -> GroupLink | None:
        return await self.session.scalar(
            select(GroupLink).where(
                GroupLink.company_id == self.company_id, GroupLink.room_id == room_id, GroupLink.id == link_id
            )
        )

    async def by_secret_hash(self, secret_hash: str) -> GroupLink | None:
        """The link presented by a member of this company; another company's link is not found."""
        return await self.session.scalar(
            select(GroupLink).where(GroupLink.company_id == self.company_id, GroupLink.secret_hash == secret_hash)
        )

    async def list(self, room_id: str, *, offset: int, limit: int) -> Page[GroupLink]:
        """The room's links, newest first, revoked and expired ones included."""
        query = (
            select(GroupLink)
            .where(GroupLink.company_id == self.company_id, GroupLink.room_id == room_id)
            .order_by(GroupLink.created_at.desc(), GroupLink.id)
        )
        return await paginate(self.session, query, offset, limit)

    async def count_unrevoked(self, room_id: str) -> int:
        return (
            await self.session.scalar(
                select(func.count())
                .select_from(GroupLink)
                .where(
                    GroupLink.company_id == self.company_id,
                    GroupLink.room_id == room_id,
                    GroupLink.revoked_at.is_(None),
                )
            )
            or 0
        )

    async def add(self, link: GroupLink) -> GroupLink:
        link.company_id = self.company_id
        self.session.add(link)
        await self.session.flush()
        return link
