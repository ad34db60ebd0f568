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
    engine_secret: str | None = None
    """Shared secret of the engine channel (engine workers prove they know it); None: no worker
    may connect. `podium serve` generates one for its local worker unless given."""
    engine_grace: float = 15.0
    """Seconds an engine worker may stay away before it is lost and its meetings move to another
    worker (`podium serve --engine-grace`, PODIUM_ENGINE_GRACE)."""

    metrics_token: str | None = None
    """Bearer token GET /metrics requires (`podium serve --metrics-token`, PODIUM_METRICS_TOKEN, or
    one kept in <data dir>/metrics-token); None: /metrics answers 404."""
    metrics_address: str | None = None
    """HOST:PORT of a listener of its own serving GET /metrics without a token (`podium serve
    --metrics-address`, PODIUM_METRICS_ADDRESS): bind it to loopback or a private network."""

    def resolved_database_url(self) -> str:
        return self.database_url or sqlite_url(self.data_dir)
