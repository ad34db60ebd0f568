"""The lease rows on a real PostgreSQL server (control.replicas.store): the claim is atomic (of
replicas claiming one room at once exactly one wins), a lease holds until it expires on the
database's clock, renewals extend only a replica's own, and ending or stopping gives them up. And the
principal notifications the triggers of migration 0008 send."""

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from control.replicas.invalidation import CHANNEL, Notifications, asyncpg_dsn
from control.replicas.store import Leases
from control.security.principals import PrincipalCache
from control.store import migrate
from control.store.db import create_engine, create_sessionmaker
from control.store.models import ApiKey, Company, Room, User

pytestmark = pytest.mark.postgres


@pytest.fixture
async def sessions(postgres_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(postgres_url)
    await migrate.upgrade(engine)
    yield create_sessionmaker(engine)
    await engine.dispose()


async def rooms(sessions: async_sessionmaker[AsyncSession], n: int) -> list[str]:
    async with sessions() as session:
        company = Company(slug="c", name="c", max_rooms=50, max_users=5, max_participants=9)
        session.add(company)
        await session.flush()
        made = [Room(company_id=company.id, name=f"r{i}", max_participants=9) for i in range(n)]
        session.add_all(made)
        await session.commit()
        return [room.id for room in made]


async def act(sessions, replica: str, ttl: float, what):  # type: ignore[no-untyped-def]
    async with sessions() as session:
        result = await what(Leases(session, replica, f"https://{replica}.example", ttl))
        await session.commit()
        return result


async def test_of_replicas_claiming_one_room_at_once_exactly_one_wins(sessions) -> None:
    for room in await rooms(sessions, 10):
        replicas = [f"r{i}" for i in range(6)]
        won = await asyncio.gather(*(act(sessions, r, 30, lambda s, room=room: s.claim(room)) for r in replicas))
        assert sum(won) == 1, f"room {room}: {won}"
        winner = replicas[won.index(True)]
        lease = await act(sessions, "any", 30, lambda s, room=room: s.get(room))
        assert lease.owner == winner and lease.owner_url == f"https://{winner}.example"


async def test_a_lease_holds_until_it_expires_then_another_replica_takes_it(sessions) -> None:
    (room,) = await rooms(sessions, 1)
    assert await act(sessions, "a", 0.5, lambda s: s.claim(room))
    assert not await act(sessions, "b", 0.5, lambda s: s.claim(room))
    assert await act(sessions, "a", 0.5, lambda s: s.claim(room)), "the owner extends its own lease"
    await asyncio.sleep(0.6)
    assert await act(sessions, "b", 30, lambda s: s.claim(room))
    assert await act(sessions, "a", 30, lambda s: s.renew([room])) == set(), "a lost it: its renewal says so"
    assert await act(sessions, "b", 30, lambda s: s.renew([room])) == {room}


async def test_release_and_hand_back(sessions) -> None:
    one, two = await rooms(sessions, 2)
    assert await act(sessions, "a", 30, lambda s: s.claim(one))
    assert await act(sessions, "a", 30, lambda s: s.claim(two))
    await act(sessions, "b", 30, lambda s: s.release(one))  # not b's: stays
    assert (await act(sessions, "x", 30, lambda s: s.get(one))).owner == "a"
    await act(sessions, "a", 30, lambda s: s.release(one))
    assert await act(sessions, "x", 30, lambda s: s.get(one)) is None
    await act(sessions, "a", 30, lambda s: s.hand_back())
    assert await act(sessions, "b", 30, lambda s: s.claim(two)), "a stopping gives its leases up at once"


async def test_principal_tables_notify_and_an_api_keys_last_use_does_not(sessions, postgres_url) -> None:
    heard: list[str] = []
    connection = await asyncpg.connect(asyncpg_dsn(postgres_url))
    await connection.add_listener(CHANNEL, lambda *args: heard.append(args[-1]))
    cache = PrincipalCache()
    notifications = Notifications(postgres_url, cache)
    await notifications.start()
    try:
        assert cache.ttl == float("inf"), "listening: entries are kept until a change is notified"
        async with sessions() as session:
            company = Company(slug="n", name="n", max_rooms=5, max_users=5, max_participants=9)
            session.add(company)
            await session.flush()
            user = User(company_id=company.id, email="u@x", name="u", password_hash="x")
            session.add(user)
            await session.flush()
            key = ApiKey(company_id=company.id, user_id=user.id, name="k", secret_hash="h" * 64)
            session.add(key)
            await session.commit()
            await asyncio.sleep(0.2)
            assert {"companies", "users", "api_keys"} <= set(heard)
            assert notifications.notifications >= 1
            heard.clear()
            await session.execute(update(ApiKey).where(ApiKey.id == key.id).values(last_used_at=company.created_at))
            await session.commit()
            await asyncio.sleep(0.2)
            assert heard == []
            await session.execute(update(ApiKey).where(ApiKey.id == key.id).values(revoked_at=company.created_at))
            await session.commit()
            await asyncio.sleep(0.2)
            assert heard == ["api_keys"]
    finally:
        await notifications.close()
        await connection.close()
