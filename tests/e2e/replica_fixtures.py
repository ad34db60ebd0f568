"""Two control-plane replicas (`podium serve` twice, each with its own engine worker and data
directory) on one fresh database of the suite's PostgreSQL server (docs/deployment.md, "Replicas").

Test modules import the fixture: `from replica_fixtures import replicas  # noqa: F401`."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import loopback_only
from podium_client import PodiumServer

LEASE_TTL = 3.0
"""Seconds a replica's lease lasts unrenewed (--lease-ttl): a takeover comes within about that."""


@pytest.fixture
def replicas(postgres_server, tmp_path: Path, monkeypatch) -> Iterator[tuple[PodiumServer, PodiumServer]]:  # type: ignore[no-untyped-def]
    """Replicas a and b; a bootstrapped the company (podium_client's administrator)."""
    loopback_only(monkeypatch)
    name = "t_" + uuid.uuid4().hex[:16]
    postgres_server.psql(f"CREATE DATABASE {name}")
    database = postgres_server.url(name)
    options = ("--lease-ttl", str(LEASE_TTL))
    a = PodiumServer.start(tmp_path / "a", database_url=database, options=options)
    try:
        b = PodiumServer.start(tmp_path / "b", database_url=database, options=options, bootstrap=False)
    except BaseException:
        a.stop()
        raise
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()
