"""Departments and rooms: the tree, room features, access rights, visibility."""

from dataclasses import dataclass
from typing import Any

from control.domain import rooms as policy
from control.domain.permissions import Permission
from control.domain.quotas import room_allowed, room_size_allowed
from control.domain.roles import Role, may_hold
from control.errors import Conflict, Forbidden, NotFound
from control.services import snapshots
from control.services.companies import quotas
from control.services.context import Context, record, require
from control.store.models import Company, Department, Room, User
from control.store.repositories import Page
from control.store.repositories.companies import Companies
from control.store.repositories.rooms import Departments, Rooms
from control.store.repositories.users import Users
from control.types import Principal


@dataclass(frozen=True)
class RoomView:
    room: Room
    role: Role | None
    """The caller's role in the room, if it has an access right there."""


# Departments


async def list_departments(ctx: Context, principal: Principal) -> list[Department]:
    """The department structure, for every member of the company."""
    return await Departments(ctx.session, principal.company_id).all()


async def _department(departments: Departments, department_id: str) -> Department:
    department = await departments.get(department_id)
    if department is None:
        raise NotFound(f"department {department_id} not found")
    return department


async def _parent(departments: Departments, parent_id: str | None) -> None:
    if parent_id is not None and await departments.get(parent_id) is None:
        raise NotFound(f"parent department {parent_id} not found")


async def create_department(ctx: Context, principal: Principal, *, name: str, parent_id: str | None) -> Department:
    require(principal, Permission.ADMINISTRATE_ROOMS)
    departments = Departments(ctx.session, principal.company_id)
    await _parent(departments, parent_id)
    department = await departments.add(Department(name=name, parent_id=parent_id))
    await record(
        ctx, principal, "department.created", "department", department.id, after=snapshots.department(department)
    )
    await ctx.session.commit()
    return department


async def update_department(
    ctx: Context, principal: Principal, department_id: str, changes: dict[str, Any]
) -> Department:
    """Rename or move a department; `changes` holds only the fields given (parent_id may be None: the root)."""
    require(principal, Permission.ADMINISTRATE_ROOMS)
    departments = Departments(ctx.session, principal.company_id)
    department = await _department(departments, department_id)
    before = snapshots.department(department)
    if "parent_id" in changes:
        parent_id = changes["parent_id"]
        await _parent(departments, parent_id)
        parents = {d.id: d.parent_id for d in await departments.all()}
        ancestor = parent_id
        while ancestor is not None:
            if ancestor == department.id:
                raise Conflict("a department cannot move inside itself", code="department_cycle")
            ancestor = parents.get(ancestor)
        department.parent_id = parent_id
    if changes.get("name") is not None:
        department.name = changes["name"]
    after = snapshots.department(department)
    if after != before:
        await record(ctx, principal, "department.updated", "department", department.id, before=before, after=after)
    await ctx.session.commit()
    return department


async def delete_department(ctx: Context, principal: Principal, department_id: str) -> None:
    require(principal, Permission.ADMINISTRATE_ROOMS)
    departments = Departments(ctx.session, principal.company_id)
    department = await _department(departments, department_id)
    if not await departments.is_empty(department.id):
        raise Conflict("the department still holds departments or rooms", code="department_not_empty")
    await record(
        ctx, principal, "department.deleted", "department", department.id, before=snapshots.department(department)
    )
    await departments.delete(department)
    await ctx.session.commit()


# Rooms


async def list_rooms(
    ctx: Context, principal: Principal, *, offset: int, limit: int, search: str | None, department_id: str | None
) -> Page[RoomView]:
    """The rooms the caller sees (control.domain.rooms.room_visible), optionally searched by name."""
    rooms = Rooms(ctx.session, principal.company_id)
    roles = await rooms.roles_of(principal.user_id)
    visible = [
        RoomView(r, roles.get(r.id))
        for r in await rooms.all(search=search, department_id=department_id)
        if policy.room_visible(principal.permissions, roles.get(r.id), hidden=r.hidden)
    ]
    return Page(visible[offset : offset + limit], len(visible))


async def _visible_room(ctx: Context, principal: Principal, room_id: str) -> tuple[Rooms, RoomView]:
    """A room the caller sees; any other room, hidden ones included, is not found."""
    rooms = Rooms(ctx.session, principal.company_id)
    room = await rooms.get(room_id)
    role = await rooms.role(room_id, principal.user_id) if room else None
    if room is None or not policy.room_visible(principal.permissions, role, hidden=room.hidden):
        raise NotFound(f"room {room_id} not found")
    return rooms, RoomView(room, role)


async def _administered_room(ctx: Context, principal: Principal, room_id: str) -> tuple[Rooms, RoomView]:
    rooms, view = await _visible_room(ctx, principal, room_id)
    if not policy.may_administrate_room(principal.permissions, view.role):
        raise Forbidden(
            "this requires the permission 'Administrate rooms' or organizing the room",
            code="room_administration_required",
        )
    return rooms, view


async def get_room(ctx: Context, principal: Principal, room_id: str) -> RoomView:
    return (await _visible_room(ctx, principal, room_id))[1]


async def _company(ctx: Context, principal: Principal, *, for_update: bool = False) -> Company:
    company = await Companies(ctx.session).get(principal.company_id, for_update=for_update)
    assert company is not None
    return company


def _check_size(company: Company, max_participants: int) -> None:
    if not room_size_allowed(quotas(company), max_participants):
        raise Conflict(
            f"max_participants exceeds the company's quota of {company.max_participants} participants",
            code="room_size_exceeds_quota",
        )


async def create_room(ctx: Context, principal: Principal, fields: dict[str, Any]) -> RoomView:
    """A new room within the company's quota; the creator becomes its organizer."""
    if not policy.may_create_room(principal.permissions, registered=True):
        raise Forbidden("this requires the permission 'Create a room'", code="permission_required")
    company = await _company(ctx, principal, for_update=True)
    rooms = Rooms(ctx.session, principal.company_id)
    if fields.get("department_id") is not None:
        await _department(Departments(ctx.session, principal.company_id), fields["department_id"])
    max_participants = fields.get("max_participants") or company.max_participants
    _check_size(company, max_participants)
    if not room_allowed(quotas(company), await rooms.count()):
        raise Conflict(f"the company's quota of {company.max_rooms} rooms is reached", code="quota_exceeded")
    room = await rooms.add(Room(**{**fields, "max_participants": max_participants}, created_at=ctx.now()))
    await rooms.set_access(room.id, principal.user_id, Role.ORGANIZER)
    await record(ctx, principal, "room.created", "room", room.id, after=snapshots.room(room))
    await ctx.session.commit()
    return RoomView(room, Role.ORGANIZER)


async def update_room(ctx: Context, principal: Principal, room_id: str, changes: dict[str, Any]) -> RoomView:
    """Change a room's name, department, visibility or features; `changes` holds only the fields given."""
    _, view = await _administered_room(ctx, principal, room_id)
    room = view.room
    if changes.get("department_id") is not None:
        await _department(Departments(ctx.session, principal.company_id), changes["department_id"])
    if changes.get("max_participants") is not None:
        _check_size(await _company(ctx, principal), changes["max_participants"])
    before = snapshots.room(room)
    for field, value in changes.items():
        if value is not None or field == "department_id":
            setattr(room, field, value)
    after = snapshots.room(room)
    if after != before:
        await record(ctx, principal, "room.updated", "room", room.id, before=before, after=after)
    await ctx.session.commit()
    return view


async def may_delete_room(ctx: Context, principal: Principal, room_id: str) -> None:
    """Raises what delete_room would for this principal and room (404, 403): checked before the
    room's running meeting is ended for its deletion."""
    await _administered_room(ctx, principal, room_id)


async def delete_room(ctx: Context, principal: Principal, room_id: str) -> None:
    rooms, view = await _administered_room(ctx, principal, room_id)
    await record(ctx, principal, "room.deleted", "room", view.room.id, before=snapshots.room(view.room))
    await rooms.delete(view.room)
    await ctx.session.commit()


# Access rights


async def list_access(
    ctx: Context, principal: Principal, room_id: str, *, offset: int, limit: int
) -> Page[tuple[User, Role]]:
    rooms, view = await _administered_room(ctx, principal, room_id)
    return await rooms.access(view.room.id, offset=offset, limit=limit)


async def set_access(ctx: Context, principal: Principal, room_id: str, user_id: str, role: Role) -> None:
    rooms, _ = await _administered_room(ctx, principal, room_id)
    if await Users(ctx.session, principal.company_id).get(user_id) is None:
        raise NotFound(f"user {user_id} not found")
    if not may_hold(role, registered=True):
        raise Forbidden("only registered users may organize meetings", code="organizer_must_be_registered")
    before = await rooms.role(room_id, user_id)
    if before is not role:
        await rooms.set_access(room_id, user_id, role)
        await record(
            ctx,
            principal,
            "room.access_set",
            "room",
            room_id,
            before={"user_id": user_id, "role": before.value if before else None},
            after={"user_id": user_id, "role": role.value},
        )
    await ctx.session.commit()


async def remove_access(ctx: Context, principal: Principal, room_id: str, user_id: str) -> None:
    rooms, _ = await _administered_room(ctx, principal, room_id)
    before = await rooms.role(room_id, user_id)
    if before is None:
        raise NotFound(f"user {user_id} has no access right in room {room_id}")
    await rooms.remove_access(room_id, user_id)
    await record(
        ctx,
        principal,
        "room.access_removed",
        "room",
        room_id,
        before={"user_id": user_id, "role": before.value},
        after=None,
    )
    await ctx.session.commit()
