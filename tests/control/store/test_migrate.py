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


async def test_0006_gives_existing_rooms_participants_may_start_false_and_downgrades(any_database_url):
    """A room made under 0005 keeps the safe behaviour (participants wait for a moderator); the
    column goes again on downgrade."""
    from alembic import command

    engine = create_engine(any_database_url)

    def to(revision: str, down: bool = False):
        def run(connection):
            config = migrate.alembic_config(connection)
            (command.downgrade if down else command.upgrade)(config, revision)

        return run

    def columns(connection):
        return {c["name"] for c in inspect(connection).get_columns("rooms")}

    try:
        async with engine.begin() as connection:
            await connection.run_sync(to("0005_live_meetings"))
            await connection.execute(
                text(
                    "INSERT INTO companies (id, slug, name, privacy_notice, max_rooms, max_users, max_participants, "
                    "created_at) VALUES ('c1', 'acme', 'Acme', '', 5, 5, 5, CURRENT_TIMESTAMP)"
                )
            )
            await connection.execute(
                text(
                    "INSERT INTO rooms (id, company_id, name, hidden, waiting_room, chat, screen_share, "
                    "max_participants, created_at) VALUES ('r1', 'c1', 'Old', false, false, true, true, 5, "
                    "CURRENT_TIMESTAMP)"
                )
            )
        async with engine.begin() as connection:
            await connection.run_sync(to("0006_participants_may_start"))
            value = (await connection.execute(text("SELECT participants_may_start FROM rooms"))).scalar_one()
        assert value in (False, 0)
        async with engine.begin() as connection:
            await connection.run_sync(to("0005_live_meetings", down=True))
            assert "participants_may_start" not in await connection.run_sync(columns)
            assert (await connection.execute(text("SELECT name FROM rooms"))).scalar_one() == "Old"
    finally:
        await engine.dispose()
