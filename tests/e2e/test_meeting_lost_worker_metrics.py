"""GET /metrics while a worker is lost: `podium serve` (worker "local") and a second worker process
(`podium engine`, worker "a") hosting a meeting; "a" is killed. Its series stay, marked disconnected
and then lost, with the counters of its last report, instead of vanishing while the meeting names it."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal
import time

import pytest
from harness import loopback_only
from media import ToneAudioTrack
from podium_client import Api, Participant, PodiumServer
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.timeout(90)

GRACE = 3.0


def series(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def state(metrics: dict, worker: str) -> str:
    [current] = [
        dict(labels)["state"]
        for (name, labels), value in metrics.items()
        if name == "podium_engine_worker_state" and dict(labels)["worker"] == worker and value == 1
    ]
    return current


async def scrape_until(podium: PodiumServer, done, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    metrics = series(await asyncio.to_thread(podium.metrics))
    while not done(metrics) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        metrics = series(await asyncio.to_thread(podium.metrics))
    return metrics


@pytest.fixture
def podium(tmp_path_factory: pytest.TempPathFactory):
    server = PodiumServer.start(
        tmp_path_factory.mktemp("podium"), engine_secret=secrets.token_urlsafe(24), engine_grace=GRACE
    )
    try:
        yield server
    finally:
        server.stop()


async def test_a_lost_worker_keeps_its_series(podium, monkeypatch) -> None:
    loopback_only(monkeypatch)
    worker_a = podium.start_worker("a")  # placement: fewest transports, then by id: "a" before "local"
    api = Api(podium.url)
    await api.login_admin()
    room = await api.create_room("Lost")
    organizer = await Participant.join(podium, api.token, room["id"])
    try:
        assert (await api.call("GET", f"/meetings/{organizer.joined['meeting_id']}"))["worker_id"] == "a"
        await organizer.publish(microphone=ToneAudioTrack(300))
        received = ("podium_engine_packets_received_total", (("kind", "rtp"), ("worker", "a")))
        before = await scrape_until(podium, lambda m: m.get(received, 0) > 0)
        assert state(before, "a") == "connected" and state(before, "local") == "connected"
        assert before[("podium_meetings", (("worker", "a"),))] == 1

        worker_a.send_signal(signal.SIGKILL)
        worker_a.wait(5)
        gone = await scrape_until(podium, lambda m: state(m, "a") != "connected")
        assert state(gone, "a") == "disconnected"  # within its grace period
        assert gone[("podium_engine_workers", (("state", "disconnected"),))] == 1
        assert gone[("podium_meetings", (("worker", "a"),))] == 1  # the meeting names it
        assert gone[received] >= before[received]

        lost = await scrape_until(podium, lambda m: state(m, "a") == "lost")
        assert state(lost, "a") == "lost" and state(lost, "local") == "connected"
        assert lost[("podium_engine_workers", (("state", "lost"),))] == 1
        assert lost[("podium_engine_workers", (("state", "connected"),))] == 1
        frozen = {key: v for key, v in lost.items() if ("worker", "a") in key[1] and key[0].endswith("_total")}
        assert frozen[received] == gone[received]  # its last report, kept
        assert frozen[("podium_engine_datagrams_received_total", (("worker", "a"),))] > 0
    finally:
        with contextlib.suppress(Exception):
            await organizer.close()
