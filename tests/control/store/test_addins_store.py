"""Add-ins and group links in the store, on SQLite and PostgreSQL: tenant scoping, uniqueness, JSON lists,
aware times, and cascades."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from control.store import migrate
from control.store.db import create_engine, create_sessionmaker
from control.store.models import AddIn, Company, GroupLink, Room, User
from control.store.repositories.addins import AddIns, GroupLinks
from control.store.repositories.companies import Companies
from control.store.repositories.rooms import Rooms
from control.store.repositories.users import Users


@pytest.fixture
async def session(any_database_url) -> AsyncIterator[AsyncSession]:
    engine = create_engine(any_database_url)
    await migrate.upgrade(engine)
    async with create_sessionmaker(engine)() as s:
        yield s
    await engine.dispose()


async def company(session: AsyncSession, slug: str) -> Company:
    return await Companies(session).add(Company(slug=slug, name=slug, max_rooms=5, max_users=5, max_participants=9))


def hook(name: str, **fields) -> AddIn:
    return AddIn(name=name, kind=fields.pop("kind", "webhook"), url="https://x.example/" + name, **fields)


async def test_add_ins_are_scoped_filtered_and_paged(session):
    a, b = await company(session, "a"), await company(session, "b")
    repo = AddIns(session, a.id)
    first = await repo.add(hook("Zeta"))
    await repo.add(hook("Alpha", kind="link", enabled=False))
    await AddIns(session, b.id).add(hook("Zeta"))  # the same name in another company
    await session.commit()
    assert [x.name for x in (await repo.list(offset=0, limit=10)).items] == ["Alpha", "Zeta"]
    page = await repo.list(offset=1, limit=1)
    assert [x.name for x in page.items] == ["Zeta"] and page.total == 2
    assert [x.name for x in (await repo.list(offset=0, limit=10, kind="link")).items] == ["Alpha"]
    assert [x.name for x in (await repo.list(offset=0, limit=10, enabled=True)).items] == ["Zeta"]
    assert await repo.count() == 2 and await AddIns(session, b.id).count() == 1
    assert await AddIns(session, b.id).get(first.id) is None
    assert (await repo.by_name("Zeta")).id == first.id
    stored = await repo.get(first.id)
    assert stored.created_at.tzinfo is not None and stored.enabled is True and stored.secret_hash is None
    await repo.delete(first)
    await session.commit()
    assert await repo.get(first.id) is None and await AddIns(session, b.id).count() == 1


async def test_add_in_names_are_unique_within_a_company(session):
    a = await company(session, "a")
    await AddIns(session, a.id).add(hook("Same"))
    await session.commit()
    with pytest.raises(IntegrityError):
        await AddIns(session, a.id).add(hook("Same"))
    await session.rollback()


async def test_group_links_are_scoped_and_go_with_their_room(session):
    a, b = await company(session, "a"), await company(session, "b")
    room = await Rooms(session, a.id).add(Room(name="R", max_participants=5))
    user = await Users(session, a.id).add(User(email="u@a.example", name="U"))
    links = GroupLinks(session, a.id)
    east = datetime(2030, 1, 1, 12, tzinfo=timezone(timedelta(hours=3)))
    old = await links.add(
        GroupLink(
            room_id=room.id,
            role="participant",
            user_ids=None,
            secret_hash="1" * 64,
            created_by=user.id,
            created_at=datetime(2020, 1, 1, tzinfo=UTC),
        )
    )
    new = await links.add(
        GroupLink(
            room_id=room.id,
            role="moderator",
            user_ids=[user.id],
            secret_hash="2" * 64,
            created_by=user.id,
            created_at=datetime(2021, 1, 1, tzinfo=UTC),
            expires_at=east,
        )
    )
    await session.commit()
    room_id, user_id, old_id, new_id, a_id, b_id = room.id, user.id, old.id, new.id, a.id, b.id
    session.expire_all()
    assert [x.id for x in (await links.list(room_id, offset=0, limit=10)).items] == [new_id, old_id]
    got = await links.get(room_id, new_id)
    assert got.user_ids == [user_id] and got.expires_at == east and got.expires_at.tzinfo is not None
    assert (await links.get(room_id, old_id)).user_ids is None
    assert (await links.by_secret_hash("2" * 64)).id == new_id
    assert await GroupLinks(session, b_id).by_secret_hash("2" * 64) is None
    assert await GroupLinks(session, b_id).get(room_id, new_id) is None
    assert await links.count_unrevoked(room_id) == 2
    (await links.get(room_id, old_id)).revoked_at = datetime.now(UTC)
    await session.commit()
    assert await links.count_unrevoked(room_id) == 1
    with pytest.raises(IntegrityError):  # secrets' digests are unique
        await links.add(GroupLink(room_id=room_id, role="participant", secret_hash="2" * 64, created_by=user_id))
    await session.rollback()

    rooms = Rooms(session, a_id)
    await rooms.delete(await rooms.get(room_id))
    await session.commit()
    assert (await session.scalars(select(GroupLink))).all() == []
