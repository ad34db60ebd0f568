"""Fixtures of the control-plane tests: an app on a fresh database, an HTTP client, and `World` to
populate companies, users and API keys quickly."""

import asyncio
import itertools
import shutil
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from starlette.applications import Starlette

from control.app import create_app
from control.domain.permissions import Permission
from control.domain.quotas import Quotas
from control.security import passwords
from control.services import companies
from control.settings import Limits, Settings
from control.store import migrate
from control.store.db import SQLITE_FILE, create_engine
from control.store.models import User
from control.store.repositories.users import Users

PASSWORD = "correct horse battery"
TOKEN_KEY = "test-signing-key-of-32-bytes-or-more!"
METRICS_TOKEN = "metrics-token-for-tests"


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 with the smallest cost: the tests hash many passwords."""
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", cheap)
    monkeypatch.setattr(passwords, "_DUMMY_HASH", cheap.hash("not a password of anyone"))


def sqlite_url(directory: Path) -> str:
    return f"sqlite+aiosqlite:///{directory / SQLITE_FILE}"


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied by each test instead of migrating again."""
    directory = tmp_path_factory.mktemp("template")

    async def build() -> None:
        engine = create_engine(sqlite_url(directory))
        await migrate.upgrade(engine)
        async with engine.connect() as connection:
            await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        await engine.dispose()

    asyncio.run(build())
    return directory / SQLITE_FILE


@pytest.fixture
def database_url(tmp_path: Path, migrated_sqlite: Path) -> str:
    """SQLite, already migrated; tests that must also run on PostgreSQL use `any_database_url`."""
    shutil.copyfile(migrated_sqlite, tmp_path / SQLITE_FILE)
    return sqlite_url(tmp_path)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    return request.getfixturevalue("postgres_url")


def settings_for(url: str, tmp_path: Path) -> Settings:
    """No rate limits: the tests sign in many times from one address (tests/control/api/test_limits.py
    sets its own)."""
    return Settings(
        data_dir=tmp_path,
        database_url=url,
        token_key=TOKEN_KEY,
        metrics_token=METRICS_TOKEN,
        limits=Limits().without_rates(),
    )


@pytest.fixture
async def app(database_url: str, tmp_path: Path) -> AsyncIterator[Starlette]:
    application = create_app(settings_for(database_url, tmp_path))
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://podium") as c:
        yield c


@dataclass(frozen=True)
class Actor:
    """A user of a company and the headers that authenticate it."""

    id: str
    company_id: str
    company_slug: str
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class World:
    """Creates companies, users (logged in over HTTP) and API keys."""

    password = PASSWORD
    """Every user's password."""
    token_key = TOKEN_KEY
    """The app's signing key of access tokens."""

    def __init__(self, app: Starlette, client: httpx.AsyncClient):
        self.app = app
        self.client = client
        self._numbers = itertools.count(1)

    def context(self):  # type: ignore[no-untyped-def]
        return self.app.state.context()

    async def company(
        self, slug: str | None = None, *, max_rooms: int = 50, max_users: int = 50, max_participants: int = 100
    ) -> Actor:
        """A company and its administrator (holding every permission), logged in."""
        slug = slug or f"company-{next(self._numbers)}"
        email = f"admin@{slug}.example"
        async with self.context() as ctx:
            await companies.bootstrap(
                ctx,
                slug=slug,
                name=slug.title(),
                email=email,
                password=PASSWORD,
                admin_name="Admin",
                quotas=Quotas(max_rooms, max_users, max_participants),
            )
        return await self.login(slug, email)

    async def login(self, slug: str, email: str, password: str = PASSWORD) -> Actor:
        response = await self.client.post(
            "/api/v1/auth/login", json={"company": slug, "email": email, "password": password}
        )
        assert response.status_code == 200, response.text
        token = response.json()["access_token"]
        me = (await self.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})).json()
        async with self.context() as ctx:
            user = await Users(ctx.session, "").session.get(User, me["id"])
            assert user is not None
            company_id = user.company_id
        return Actor(id=me["id"], company_id=company_id, company_slug=slug, email=email, token=token)

    async def user(self, of: Actor, permissions: Iterable[Permission] = (), *, name: str | None = None) -> Actor:
        """A current user of `of`'s company holding `permissions` (stored directly), logged in."""
        number = next(self._numbers)
        email = f"user{number}@{of.company_slug}.example"
        async with self.context() as ctx:
            users = Users(ctx.session, of.company_id)
            user = await users.add(
                User(email=email, name=name or f"User {number}", password_hash=passwords.hash_password(PASSWORD))
            )
            await users.set_permissions(user.id, frozenset(permissions))
            await ctx.session.commit()
        return await self.login(of.company_slug, email)

    async def api_key(self, admin: Actor, profile: Actor) -> Actor:
        """An API key acting as `profile`, issued by `admin`."""
        response = await self.client.post(
            "/api/v1/api-keys", headers=admin.headers, json={"name": "integration", "user_id": profile.id}
        )
        assert response.status_code == 201, response.text
        return Actor(
            id=profile.id,
            company_id=profile.company_id,
            company_slug=profile.company_slug,
            email=profile.email,
            token=response.json()["secret"],
        )

    async def audit_count(self) -> int:
        from sqlalchemy import func, select

        from control.store.models import AuditEvent

        async with self.context() as ctx:
            return await ctx.session.scalar(select(func.count()).select_from(AuditEvent)) or 0


@pytest.fixture
def world(app: Starlette, client: httpx.AsyncClient) -> World:
    return World(app, client)
