"""Repositories on SQLite and PostgreSQL: tenant scoping, permissions, rooms, audit filters, time zones."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from control.domain.permissions import Permission as P
from control.domain.roles import Role
from control.store import migrate
from control.store.db import create_engine, create_sessionmaker
from control.store.models import ApiKey, AuditEvent, Company, Department, Room, User
from control.store.repositories.api_keys import ApiKeys, find_by_secret_hash
from control.store.repositories.audit import AuditFilter, AuditLog
from control.store.repositories.companies import Companies
from control.store.repositories.instance import get_or_create
from control.store.repositories.rooms import Departments, Rooms
from control.store.repositories.users import Users, find_by_invitation


@pytest.fixture
async def session(any_database_url) -> AsyncIterator[AsyncSession]:
    engine = create_engine(any_database_url)
    await migrate.upgrade(engine)
    async with create_sessionmaker(engine)() as s:
        yield s
    await engine.dispose()


async def company(session: AsyncSession, slug: str) -> Company:
    return await Companies(session).add(Company(slug=slug, name=slug, max_rooms=5, max_users=5, max_participants=9))


async def test_users_are_scoped_to_their_company(session):
    a, b = await company(session, "a"), await company(session, "b")
    alice = await Users(session, a.id).add(User(email="Alice@Example.com", name="Alice"))
    await Users(session, b.id).add(User(email="alice@example.com", name="Other Alice"))
    await session.commit()
    assert alice.email == "alice@example.com"
    assert (await Users(session, a.id).get(alice.id)).name == "Alice"
    assert await Users(session, b.id).get(alice.id) is None
    assert (await Users(session, b.id).by_email("ALICE@example.com")).name == "Other Alice"
    assert (await Users(session, a.id).list(offset=0, limit=10)).total == 1
    assert await Users(session, a.id).count() == 1


async def test_user_list_filters_and_pages(session):
    a = await company(session, "a")
    users = Users(session, a.id)
    for n in range(5):
        await users.add(User(email=f"u{n}@x.io", name=f"User {n}", password_hash=None if n % 2 else "h"))
    await session.commit()
    page = await users.list(offset=1, limit=2)
    assert [u.email for u in page.items] == ["u1@x.io", "u2@x.io"] and page.total == 5
    assert (await users.list(offset=0, limit=10, pending=True)).total == 2
    assert (await users.list(offset=0, limit=10, pending=False)).total == 3
    assert [u.email for u in (await users.list(offset=0, limit=10, search="USER 3")).items] == ["u3@x.io"]


async def test_permissions_are_stored_closed_and_scoped(session):
    a, b = await company(session, "a"), await company(session, "b")
    user = await Users(session, a.id).add(User(email="u@x.io", name="U"))
    await Users(session, a.id).set_permissions(user.id, frozenset({P.ADMINISTRATE_ROOMS}))
    await session.commit()
    assert await Users(session, a.id).permissions(user.id) == {P.ADMINISTRATE_ROOMS, P.LIST_ALL_ROOMS, P.CREATE_ROOM}
    assert await Users(session, b.id).permissions(user.id) == frozenset()
    await Users(session, a.id).set_permissions(user.id, frozenset({P.CREATE_ROOM}))
    assert await Users(session, a.id).permissions(user.id) == {P.CREATE_ROOM}


async def test_invitations_and_keys_are_found_by_digest(session):
    a = await company(session, "a")
    user = await Users(session, a.id).add(User(email="u@x.io", name="U", invitation_hash="f" * 64))
    key = await ApiKeys(session, a.id).add(ApiKey(name="k", user_id=user.id, secret_hash="e" * 64))
    await session.commit()
    assert (await find_by_invitation(session, "f" * 64)).id == user.id
    assert (await find_by_secret_hash(session, "e" * 64)).id == key.id
    assert await find_by_secret_hash(session, "d" * 64) is None


async def test_rooms_departments_and_access(session):
    a, b = await company(session, "a"), await company(session, "b")
    user = await Users(session, a.id).add(User(email="u@x.io", name="U"))
    dept = await Departments(session, a.id).add(Department(name="Sales"))
    rooms = Rooms(session, a.id)
    room = await rooms.add(Room(name="Board", department_id=dept.id, max_participants=5))
    await rooms.add(Room(name="Lobby", max_participants=5))
    await rooms.set_access(room.id, user.id, Role.MODERATOR)
    await rooms.set_access(room.id, user.id, Role.ORGANIZER)
    await session.commit()
    assert await rooms.role(room.id, user.id) is Role.ORGANIZER
    access = await rooms.access(room.id, offset=0, limit=10)
    assert access.total == 1 and [(u.id, r) for u, r in access.items] == [(user.id, Role.ORGANIZER)]
    assert (await Rooms(session, b.id).access(room.id, offset=0, limit=10)).total == 0
    assert await rooms.roles_of(user.id) == {room.id: Role.ORGANIZER}
    assert await Rooms(session, b.id).roles_of(user.id) == {}
    assert [r.name for r in await rooms.all(search="boa")] == ["Board"]
    assert [r.name for r in await rooms.all(department_id=dept.id)] == ["Board"]
    assert await Rooms(session, b.id).get(room.id) is None
    assert not await Departments(session, a.id).is_empty(dept.id)
    await rooms.delete(room)
    assert await Departments(session, a.id).is_empty(dept.id)
    assert await rooms.count() == 1


async def test_audit_filters_and_aware_times(session):
    a, b = await company(session, "a"), await company(session, "b")
    t0 = datetime(2030, 1, 1, 12, tzinfo=UTC)
    log = AuditLog(session, a.id)
    for n, action in enumerate(["user.invited", "room.created", "user.invited"]):
        await log.add(
            AuditEvent(
                at=t0 + timedelta(minutes=n),
                action=action,
                target_type=action.split(".")[0],
                target_id=str(n),
                before=None,
                after={"n": n, "name": "é"},
            )
        )
    await AuditLog(session, b.id).add(AuditEvent(at=t0, action="user.invited", target_type="user"))
    await session.commit()
    everything = await log.query(AuditFilter(), offset=0, limit=10)
    assert everything.total == 3 and [e.target_id for e in everything.items] == ["2", "1", "0"]
    assert everything.items[0].at == t0 + timedelta(minutes=2) and everything.items[0].at.tzinfo is not None
    assert everything.items[0].after == {"n": 2, "name": "é"}
    assert (await log.query(AuditFilter(action="user.invited"), offset=0, limit=10)).total == 2
    window = AuditFilter(since=t0 + timedelta(minutes=1), until=t0 + timedelta(minutes=2))
    assert [e.target_id for e in (await log.query(window, offset=0, limit=10)).items] == ["1"]
    assert [e.target_id async for e in log.stream(AuditFilter(), batch=2)] == ["2", "1", "0"]


async def test_instance_settings_are_created_once(session):
    first = await get_or_create(session, "k", lambda: "one")
    second = await get_or_create(session, "k", lambda: "two")
    await session.commit()
    assert first == second == "one"


async def test_deleting_a_company_takes_everything_it_owns_and_nothing_else(session):
    """The operator's delete (control.services.operator) relies on the database's cascades, departments
    nested and rooms inside them included, on both backends."""
    gone, kept = await company(session, "gone"), await company(session, "kept")
    for c in (gone, kept):
        parent = await Departments(session, c.id).add(Department(name="Parent"))
        child = await Departments(session, c.id).add(Department(name="Child", parent_id=parent.id))
        room = await Rooms(session, c.id).add(Room(name="R", department_id=child.id, max_participants=5))
        user = await Users(session, c.id).add(User(email=f"u@{c.slug}.example", name="U"))
        await Rooms(session, c.id).set_access(room.id, user.id, Role.ORGANIZER)
    await session.commit()
    await Companies(session).delete(gone)
    await session.commit()
    session.expunge_all()
    assert [c.slug for c in await Companies(session).all()] == ["kept"]
    assert await Rooms(session, gone.id).count() == 0 and await Users(session, gone.id).count() == 0
    assert await Rooms(session, kept.id).count() == 1 and await Users(session, kept.id).count() == 1
    assert len(await Departments(session, kept.id).all()) == 2
