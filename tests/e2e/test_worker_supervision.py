"""Engine worker faults under `podium serve`, end to end with aiortc participants:

- `kill -9` of the local worker: `podium serve` notices, restarts it, and the meeting moves onto the
  restarted worker at once (the grace period here is a minute: nothing waits for it);
- the same with a second worker (`podium engine`) live: the meeting moves to it;
- a worker restarted under the same `--worker-id` within the grace period (a new process, a new DTLS
  certificate): its participants are told to reconnect, and media resumes.

After each, media flows again in both directions and /metrics shows every worker's state."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal

import pytest
from harness import loopback_only
from media import NumberedVideoTrack, ToneAudioTrack
from podium_client import Api, Participant, PodiumServer

pytestmark = pytest.mark.timeout(120)

GRACE = 60.0
"""Longer than any wait below: a move seen here did not wait for the grace period."""
RECOVERY = 20.0
"""Seconds the tests give a participant to be told, reconnect and receive media again (generous:
the benchmark bench/worker_restart.py measures how long it takes)."""


@pytest.fixture
def podium(tmp_path_factory: pytest.TempPathFactory):
    server = PodiumServer.start(
        tmp_path_factory.mktemp("podium"), engine_secret=secrets.token_urlsafe(24), engine_grace=GRACE
    )
    try:
        yield server
    finally:
        server.stop()


async def _meeting(podium: PodiumServer, api: Api, name: str) -> tuple[Participant, Participant, str]:
    """An organizer and Alice, each publishing a microphone and a camera, receiving each other."""
    room = await api.create_room(name)
    organizer = await Participant.join(podium, api.token, room["id"])
    try:
        alice_id, token = await api.create_user("alice")
        await api.grant(room["id"], alice_id)
        alice = await Participant.join(podium, token, room["id"])
    except BaseException:
        await organizer.close()
        raise
    await organizer.publish(microphone=ToneAudioTrack(300), camera=NumberedVideoTrack())
    await alice.publish(microphone=ToneAudioTrack(440), camera=NumberedVideoTrack())
    for receiver, sender in ((alice, organizer), (organizer, alice)):
        for source in ("microphone", "camera"):
            assert await receiver.frames_grow(sender.id, source, timeout=15)
    return organizer, alice, organizer.joined["meeting_id"]


async def _media_is_back(organizer: Participant, alice: Participant) -> None:
    for p in (organizer, alice):
        await p.wait_reconnected(timeout=RECOVERY)
    for receiver, sender in ((alice, organizer), (organizer, alice)):
        for source in ("microphone", "camera"):
            assert await receiver.frames_grow(sender.id, source, timeout=RECOVERY), (receiver.id, source)


async def _close(*people: Participant) -> None:
    for p in people:
        with contextlib.suppress(Exception):
            await p.close()


async def test_a_killed_worker_is_restarted_and_media_flows_again(podium, monkeypatch) -> None:
    loopback_only(monkeypatch)
    api = Api(podium.url)
    await api.login_admin()
    organizer, alice, meeting_id = await _meeting(podium, api, "Crash")
    try:
        assert (await api.call("GET", f"/meetings/{meeting_id}"))["worker_id"] == "local"
        killed = podium.local_worker_pid()
        os.kill(killed, signal.SIGKILL)
        await _media_is_back(organizer, alice)
        assert podium.local_worker_pid() != killed
        assert (await api.call("GET", f"/meetings/{meeting_id}"))["worker_id"] == "local"
        assert podium.worker_states() == {"local": "connected"}
        assert "exited with status -9: restarting it" in podium.log.read_text()

        # the restarted worker enforces moderation, and takes new meetings
        reply = await organizer.moderate("turn_off_source", target=alice.id, source="camera")
        assert reply["version"] > 0
        assert await organizer.frames_stopped(alice.id, "camera")
        other = await Participant.join(podium, api.token, (await api.create_room("After the crash"))["id"])
        await other.close()
    finally:
        await _close(organizer, alice)


async def test_a_killed_worker_meeting_moves_to_a_second_worker(podium, monkeypatch) -> None:
    loopback_only(monkeypatch)
    api = Api(podium.url)
    await api.login_admin()
    organizer, alice, meeting_id = await _meeting(podium, api, "Two workers")
    try:
        assert (await api.call("GET", f"/meetings/{meeting_id}"))["worker_id"] == "local"
        podium.start_worker("a")
        os.kill(podium.local_worker_pid(), signal.SIGKILL)
        await _media_is_back(organizer, alice)
        assert (await api.call("GET", f"/meetings/{meeting_id}"))["worker_id"] == "a"
        await podium.wait_worker_state("local", "connected")  # restarted all the same
        assert podium.worker_states() == {"a": "connected", "local": "connected"}
    finally:
        await _close(organizer, alice)


async def test_a_worker_restarted_under_the_same_id_has_its_clients_reconnect(podium, monkeypatch) -> None:
    loopback_only(monkeypatch)
    worker_a = podium.start_worker("a")  # placement: fewest transports, then by id: "a" before "local"
    api = Api(podium.url)
    await api.login_admin()
    organizer, alice, meeting_id = await _meeting(podium, api, "Same id")
    try:
        assert (await api.call("GET", f"/meetings/{meeting_id}"))["worker_id"] == "a"
        worker_a.send_signal(signal.SIGKILL)
        worker_a.wait(5)
        await podium.wait_worker_state("a", "disconnected")  # within the grace period
        podium.start_worker("a")  # the documented restart path: the same --worker-id
        await _media_is_back(organizer, alice)
        assert (await api.call("GET", f"/meetings/{meeting_id}"))["worker_id"] in ("a", "local")
        assert podium.worker_states() == {"a": "connected", "local": "connected"}
        assert "came back as a new process" in podium.log.read_text()
    finally:
        await _close(organizer, alice)
        await asyncio.sleep(0)
