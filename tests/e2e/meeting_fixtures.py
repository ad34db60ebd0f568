"""Fixtures of the meeting end-to-end tests: one `podium serve` per test module (import them)."""

from __future__ import annotations

import contextlib

import pytest
from harness import loopback_only
from podium_client import Api, Participant, PodiumServer


@pytest.fixture(scope="module")
def podium(tmp_path_factory: pytest.TempPathFactory):
    server = PodiumServer.start(tmp_path_factory.mktemp("podium"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def api(podium: PodiumServer, monkeypatch: pytest.MonkeyPatch) -> Api:
    loopback_only(monkeypatch)
    client = Api(podium.url)
    await client.login_admin()
    return client


@pytest.fixture
async def people():
    """Participants made in a test, closed at its end: `people.append(p)`."""
    made: list[Participant] = []
    yield made
    for participant in made:
        with contextlib.suppress(Exception):
            await participant.close()
