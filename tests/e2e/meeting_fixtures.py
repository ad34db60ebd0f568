"""Fixtures of the meeting end-to-end tests: one `podium serve` per test module (import them)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from harness import loopback_only
from podium_client import Api, Participant, PodiumServer


def serve(tmp_path_factory: pytest.TempPathFactory, *options: str) -> Iterator[PodiumServer]:
    """`podium serve` for one test module, with more of its options (e.g. `--resume-grace 1`)."""
    server = PodiumServer.start(tmp_path_factory.mktemp("podium"), options=options)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def podium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PodiumServer]:
    yield from serve(tmp_path_factory)


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
