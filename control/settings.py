"""Configuration of one control-plane process."""

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from control.store.db import sqlite_url


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("data")
    database_url: str | None = None
    """None: SQLite in `data_dir`."""
    token_key: str | None = None
    """Signing key of access tokens; None: generated once and kept in the database."""
    access_token_ttl: timedelta = timedelta(minutes=15)
    refresh_token_ttl: timedelta = timedelta(days=30)
    invitation_ttl: timedelta = timedelta(days=14)

    def resolved_database_url(self) -> str:
        return self.database_url or sqlite_url(self.data_dir)
