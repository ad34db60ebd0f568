from sqlalchemy import delete, func, select

from control.domain.roles import Role
from control.store.models import Department, Room, RoomAccess, User
from control.store.repositories import Page, TenantRepository


class Departments(TenantRepository):
    async def get(self, department_id: str) -> Department | None:
        return await self.session.scalar(
            select(Department).where(Department.company_id == self.company_id, Department.id == department_id)
        )

    async def all(self) -> list[Department]:
        rows = await self.session.scalars(
            select(Department).where(Department.company_id == self.company_id).order_by(Department.name, Department.id)
        )
        return list(rows)

    async def add(self, department: Department) -> Department:
        department.company_id = self.company_id
        self.session.add(department)
        await self.session.flush()
        return department

    async def delete(self, department: Department) -> None:
        await self.session.delete(department)
        await self.session.flush()

    async def is_empty(self, department_id: str) -> bool:
        """No sub-department and no room inside."""
        children = await self.session.scalar(
            select(func.count())
            .select_from(Department)
            .where(Department.company_id == self.company_id, Department.parent_id == department_id)
        )
        rooms = await self.session.scalar(
            select(func.count())
            .select_from(Room)
            .where(Room.company_id == self.company_id, Room.department_id == department_id)
        )
        return not children and not rooms


class Rooms(TenantRepository):
    async def get(self, room_id: str) -> Room | None:
        return await self.session.scalar(select(Room).where(Room.company_id == self.company_id, Room.id == room_id))

    async def all(self, *, search: str | None = None, department_id: str | None = None) -> list[Room]:
        query = select(Room).where(Room.company_id == self.company_id).order_by(Room.name, Room.id)
        if search:
            query = query.where(func.lower(Room.name).like(f"%{search.lower()}%"))
        if department_id is not None:
            query = query.where(Room.department_id == department_id)
        return list(await self.session.scalars(query))

    async def count(self) -> int:
        return (
            await self.session.scalar(select(func.count()).select_from(Room).where(Room.company_id == self.company_id))
            or 0
        )

    async def add(self, room: Room) -> Room:
        room.company_id = self.company_id
        self.session.add(room)
        await self.session.flush()
        return room

    async def delete(self, room: Room) -> None:
        await self.session.execute(delete(RoomAccess).where(RoomAccess.room_id == room.id))
        await self.session.delete(room)
        await self.session.flush()

    async def roles_of(self, user_id: str) -> dict[str, Role]:
        """The user's role in each room of the company it has an access right in."""
        rows = await self.session.execute(
            select(RoomAccess.room_id, RoomAccess.role)
            .join(Room, Room.id == RoomAccess.room_id)
            .where(Room.company_id == self.company_id, RoomAccess.user_id == user_id)
        )
        return {room_id: Role(role) for room_id, role in rows}

    async def role(self, room_id: str, user_id: str) -> Role | None:
        value = await self.session.scalar(
            select(RoomAccess.role)
            .join(Room, Room.id == RoomAccess.room_id)
            .where(Room.company_id == self.company_id, RoomAccess.room_id == room_id, RoomAccess.user_id == user_id)
        )
        return Role(value) if value is not None else None

    async def access(self, room_id: str, *, offset: int, limit: int) -> Page[tuple[User, Role]]:
        """The users with an access right in the room, by email, with their role there."""
        query = (
            select(User, RoomAccess.role)
            .join(RoomAccess, User.id == RoomAccess.user_id)
            .where(RoomAccess.room_id == room_id, User.company_id == self.company_id)
            .order_by(User.email, User.id)
        )
        total = await self.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
        rows = await self.session.execute(query.offset(offset).limit(limit))
        return Page([(user, Role(role)) for user, role in rows], total or 0)

    async def set_access(self, room_id: str, user_id: str, role: Role) -> None:
        row = await self.session.get(RoomAccess, (room_id, user_id))
        if row is None:
            self.session.add(RoomAccess(room_id=room_id, user_id=user_id, role=role.value))
        else:
            row.role = role.value
        await self.session.flush()

    async def remove_access(self, room_id: str, user_id: str) -> bool:
        row = await self.session.get(RoomAccess, (room_id, user_id))
        if row is None:
            return False
        await self.session.delete(row)
        await self.session.flush()
        return True
