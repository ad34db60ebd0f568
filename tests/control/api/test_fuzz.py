"""Schemathesis against the OpenAPI description, in-process, as an administrator: no request gets a 5xx,
and every response conforms to the description (status codes, content types, schemas)."""

import asyncio
import os
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from control.app import create_app
from control.domain.quotas import Quotas
from control.services import api_keys, companies
from control.services.context import Context
from control.settings import Settings
from control.store import migrate
from control.store.db import create_engine, create_sessionmaker
from control.store.repositories.users import Users
from control.types import Principal

MAX_EXAMPLES = 10
DATABASE_URL = os.environ.get("PODIUM_FUZZ_DATABASE_URL")
"""An empty PostgreSQL database to fuzz instead of SQLite, e.g. postgresql://postgres@127.0.0.1:5432/fuzz."""


async def _prepare(settings_: Settings) -> str:
    """Migrate, bootstrap a company, and issue an API key acting as its administrator."""
    engine = create_engine(settings_.resolved_database_url())
    await migrate.upgrade(engine)
    async with create_sessionmaker(engine)() as session:
        ctx = Context(session=session, settings=settings_, token_key=settings_.token_key or "")
        company, admin = await companies.bootstrap(
            ctx,
            slug="fuzz",
            name="Fuzz",
            email="admin@fuzz.example",
            password="fuzzing password",
            admin_name="Admin",
            quotas=Quotas(1000, 1000, 1000),
        )
        principal = Principal(
            company_id=company.id, user_id=admin.id, permissions=await Users(session, company.id).permissions(admin.id)
        )
        key = await api_keys.create(ctx, principal, name="fuzzer", user_id=admin.id)
    await engine.dispose()
    return key.secret


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, str]:
    directory: Path = tmp_path_factory.mktemp("fuzz")
    url = DATABASE_URL or f"sqlite+aiosqlite:///{directory / 'podium.db'}"
    settings_ = Settings(data_dir=directory, database_url=url, token_key="fuzz-signing-key-fuzz-signing-key-fuzz")
    secret = asyncio.run(_prepare(settings_))
    return create_app(settings_), secret


@pytest.fixture(scope="module")
def api_schema(fuzz_target):
    app, _ = fuzz_target
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)


@pytest.fixture
def admin_headers(fuzz_target) -> dict[str, str]:
    return {"Authorization": f"Bearer {fuzz_target[1]}"}


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.timeout(600)  # every operation of the API in one test: it grows with the API
@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_server_error_and_responses_conform(case, admin_headers):
    case.call_and_validate(headers=admin_headers)
