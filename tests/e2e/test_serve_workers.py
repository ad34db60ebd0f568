"""`podium serve --workers 2`: two supervised engine workers, each with its own UDP port; new meetings
are placed by measured load, so two meetings land on different workers; `kill -9` of one worker is
restarted by the supervisor while the other keeps its meeting's media flowing."""

from __future__ import annotations

import contextlib
import os
import signal

import pytest
from harness import loopback_only
from media import ToneAudioTrack
from podium_client import Api, Participant, PodiumServer, free_port

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def podium(tmp_path):
    base = free_port()  # a free TCP port number: the UDP ports base and base+1 are most likely free too
    server = PodiumServer.start(tmp_path, local_workers=2, engine_grace=60, options=("--media-port", str(base)))
    try:
        yield server, base
    finally:
        server.stop()


async def _meeting(podium: PodiumServer, api: Api, name: str, tone: int) -> tuple[Participant, Participant, str]:
    """The admin and a user in a new room, the user publishing a microphone the admin receives."""
    room = await api.create_room(name)
    organizer = await Participant.join(podium, api.token, room["id"])
    user_id, token = await api.create_user(f"user-{tone}")
    await api.grant(room["id"], user_id)
    speaker = await Participant.join(podium, token, room["id"])
    await speaker.publish(microphone=ToneAudioTrack(tone))
    assert await organizer.frames_grow(speaker.id, "microphone")
    return organizer, speaker, organizer.joined["meeting_id"]


async def test_two_workers_take_a_meeting_each_and_a_killed_one_is_restarted(podium, monkeypatch) -> None:
    podium, media_port = podium
    loopback_only(monkeypatch)
    assert podium.worker_states() == {"local": "connected", "local-2": "connected"}
    log = podium.log.read_text()
    ports = {int(line.rsplit(" ", 1)[1]) for line in log.splitlines() if ") listening on 127.0.0.1 " in line}
    assert ports == {media_port, media_port + 1}  # each its own port
    api = Api(podium.url)
    await api.login_admin()
    people: list[Participant] = []
    try:
        first = await _meeting(podium, api, "First", 300)
        people += first[:2]
        second = await _meeting(podium, api, "Second", 500)
        people += second[:2]
        placed = {(await api.call("GET", f"/meetings/{m[2]}"))["worker_id"] for m in (first, second)}
        assert placed == {"local", "local-2"}

        assert len(podium.local_worker_pids()) == 2
        first_worker = (await api.call("GET", f"/meetings/{first[2]}"))["worker_id"]
        victim = _pid_of(podium, first_worker)
        os.kill(victim, signal.SIGKILL)
        await podium.wait_worker_state(first_worker, "connected")  # restarted
        await first[0].wait_reconnected(timeout=20)
        assert await first[0].frames_grow(first[1].id, "microphone", timeout=20)
        assert await second[0].frames_grow(second[1].id, "microphone")  # the other meeting never stopped
        assert victim not in podium.local_worker_pids() and len(podium.local_worker_pids()) == 2
        assert f"engine worker {first_worker} (pid {victim}) exited with status -9: restarting it" in (
            podium.log.read_text()
        )
    finally:
        for p in people:
            with contextlib.suppress(Exception):
                await p.close()


def _pid_of(podium: PodiumServer, worker_id: str) -> int:
    """The pid the log last gave that local worker."""
    marker = f"engine worker {worker_id} (pid "
    lines = [line for line in podium.log.read_text().splitlines() if marker in line and "listening on" in line]
    return int(lines[-1].split(marker)[1].split(")")[0])
