"""A lost engine worker end to end: `podium serve` (worker "local") and a second worker process
(`podium engine`, worker "a"); the meeting runs on "a", which is killed. After the grace period the
participants are told to `reconnect`, publish again onto "local", and media flows again."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal

import pytest
from harness import loopback_only
from media import NumberedVideoTrack, ToneAudioTrack
from podium_client import Api, Participant, PodiumServer

pytestmark = pytest.mark.timeout(90)

GRACE = 1.5


@pytest.fixture
def podium(tmp_path_factory: pytest.TempPathFactory):
    server = PodiumServer.start(
        tmp_path_factory.mktemp("podium"), engine_secret=secrets.token_urlsafe(24), engine_grace=GRACE
    )
    try:
        yield server
    finally:
        server.stop()


async def test_participants_move_to_a_live_worker(podium, monkeypatch) -> None:
    loopback_only(monkeypatch)
    worker_a = podium.start_worker("a")  # placement: fewest transports, then by id: "a" before "local"
    api = Api(podium.url)
    await api.login_admin()
    room = await api.create_room("Fail-over")
    people: list[Participant] = []
    try:
        organizer = await Participant.join(podium, api.token, room["id"])
        people.append(organizer)
        alice_id, token = await api.create_user("alice")
        await api.grant(room["id"], alice_id)
        alice = await Participant.join(podium, token, room["id"])
        people.append(alice)
        meeting_id = organizer.joined["meeting_id"]
        assert (await api.call("GET", f"/meetings/{meeting_id}"))["worker_id"] == "a"

        await organizer.publish(microphone=ToneAudioTrack(300), camera=NumberedVideoTrack())
        await alice.publish(microphone=ToneAudioTrack(440), muted=("microphone",))
        await alice.publish(camera=NumberedVideoTrack())
        assert await alice.frames_grow(organizer.id, "camera")
        assert await organizer.frames_grow(alice.id, "camera")

        worker_a.send_signal(signal.SIGKILL)
        worker_a.wait(5)
        for p in (organizer, alice):
            await p.wait_reconnected(timeout=GRACE + 10)
        assert (await api.call("GET", f"/meetings/{meeting_id}"))["worker_id"] == "local"

        # media flows again, in both directions, through the new worker
        assert await alice.frames_grow(organizer.id, "camera", timeout=10)
        assert await alice.frames_grow(organizer.id, "microphone", timeout=10)
        assert await organizer.frames_grow(alice.id, "camera", timeout=10)
        # switches are as they were: alice's muted microphone was not turned on by publishing again
        meeting = await api.call("GET", f"/meetings/{meeting_id}")
        sources = {p["id"]: p["sources_on"] for p in meeting["participants"]}
        assert sources[alice.id] == ["camera"] and sources[organizer.id] == ["camera", "microphone"]
        assert await organizer.frames_stopped(alice.id, "microphone", settle=0, window=1)

        # moderation is enforced by the new worker
        reply = await organizer.moderate("turn_off_source", target=alice.id, source="camera")
        assert reply["version"] > 0
        assert await organizer.frames_stopped(alice.id, "camera")
        assert 'podium_engine_workers{state="connected"} 1' in podium.metrics()
        assert "podium_moderation_seconds_count" in podium.metrics()
    finally:
        for p in people:
            with contextlib.suppress(Exception):
                await p.close()
        await asyncio.sleep(0)
