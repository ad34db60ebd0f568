from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from control.domain.permissions import Permission, closure
from control.store.models import User, UserPermission
from control.store.repositories import Page, TenantRepository, paginate


class Users(TenantRepository):
    async def get(self, user_id: str) -> User | None:
        return await self.session.scalar(select(User).where(User.company_id == self.company_id, User.id == user_id))

    async def by_email(self, email: str) -> User | None:
        return await self.session.scalar(
            select(User).where(User.company_id == self.company_id, User.email == email.lower())
        )

    async def names(self, user_ids: set[str]) -> dict[str, str]:
        """The name of each of the users that belongs to the company."""
        rows = await self.session.execute(
            select(User.id, User.name).where(User.company_id == self.company_id, User.id.in_(user_ids))
        )
        return {user_id: name for user_id, name in rows}

    async def count(self) -> int:
        return (
            await self.session.scalar(select(func.count()).select_from(User).where(User.company_id == self.company_id))
            or 0
        )

    async def list(
        self, *, offset: int, limit: int, pending: bool | None = None, search: str | None = None
    ) -> Page[User]:
        query = select(User).where(User.company_id == self.company_id).order_by(User.email, User.id)
        if pending is not None:
            query = query.where(User.password_hash.is_(None) if pending else User.password_hash.is_not(None))
        if search:
            pattern = f"%{search.lower()}%"
            query = query.where(or_(func.lower(User.name).like(pattern), User.email.like(pattern)))
        return await paginate(self.session, query, offset, limit)

    async def add(self, user: User) -> User:
        user.company_id = self.company_id
        user.email = user.email.lower()
        self.session.add(user)
        await self.session.flush()
        return user

    async def delete(self, user: User) -> None:
        await self.session.delete(user)
        await self.session.flush()

    async def permissions(self, user_id: str) -> frozenset[Permission]:
        rows = await self.session.scalars(
            select(UserPermission.permission)
            .join(User, User.id == UserPermission.user_id)
            .where(User.company_id == self.company_id, UserPermission.user_id == user_id)
        )
        return frozenset(Permission(p) for p in rows if p in Permission._value2member_map_)

    async def set_permissions(self, user_id: str, permissions: frozenset[Permission]) -> None:
        """Store `permissions`, closed downward."""
        await self.session.execute(delete(UserPermission).where(UserPermission.user_id == user_id))
        self.session.add_all(UserPermission(user_id=user_id, permission=p.value) for p in sorted(closure(permissions)))
        await self.session.flush()


async def find_by_invitation(session: AsyncSession, invitation_hash: str) -> User | None:
    """The pending user an invitation was sent to (an invitation names its company by itself)."""
    return await session.scalar(select(User).where(User.invitation_hash == invitation_hash))
