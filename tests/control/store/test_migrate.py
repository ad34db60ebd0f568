"""Migrations, on SQLite and on a real PostgreSQL server."""

from sqlalchemy import inspect, text

from control.store import migrate
from control.store.db import create_engine, normalize_url, sqlite_url
from control.store.models import Base


def _head() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()


async def test_upgrade_creates_every_table_and_is_idempotent(any_database_url):
    engine = create_engine(any_database_url)
    try:
        await migrate.upgrade(engine)
        await migrate.upgrade(engine)
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
            version = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()
    finally:
        await engine.dispose()
    assert set(Base.metadata.tables) | {"alembic_version"} == tables
    assert version == _head()


async def test_migrated_schema_matches_the_models(any_database_url):
    """Autogenerate finds nothing to add: the shipped migration and the models agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = create_engine(any_database_url)
    try:
        await migrate.upgrade(engine)
        async with engine.connect() as connection:
            diff = await connection.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata))
    finally:
        await engine.dispose()
    assert diff == []


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path):
    engine = create_engine(sqlite_url(tmp_path))
    try:
        async with engine.connect() as connection:
            assert (await connection.execute(text("PRAGMA journal_mode"))).scalar_one() == "wal"
            assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1
    finally:
        await engine.dispose()
    assert (tmp_path / "podium.db").exists()


def test_plain_urls_get_async_drivers():
    assert normalize_url("postgresql://u@h/db") == "postgresql+asyncpg://u@h/db"
    assert normalize_url("postgres://u@h/db") == "postgresql+asyncpg://u@h/db"
    assert normalize_url("sqlite:///x.db") == "sqlite+aiosqlite:///x.db"
    assert normalize_url("postgresql+asyncpg://u@h/db") == "postgresql+asyncpg://u@h/db"
