"""A control-plane restart during a recording: the stopping process finalises the files, which decode
(listed `interrupted`); the restored meeting resumes unrecorded, the worker (the same process, which
forwarded on) no longer sends to the old recorder, and a new recording starts and stops cleanly."""

from __future__ import annotations

import asyncio
import io
import itertools
import secrets

import av
import httpx
import pytest
from harness import loopback_only
from media import NumberedVideoTrack, ToneAudioTrack, read_number
from podium_client import Api, Participant, PodiumServer
from test_control_plane_restart import stop_control_plane

pytestmark = pytest.mark.timeout(150)


async def _download(podium: PodiumServer, api: Api, recording_id: str, name: str) -> bytes:
    async with httpx.AsyncClient(base_url=podium.url, timeout=15) as client:
        response = await client.get(
            f"/api/v1/recordings/{recording_id}/files/{name}", headers={"Authorization": f"Bearer {api.token}"}
        )
    assert response.status_code == 200
    return response.content


async def test_a_restart_finalises_the_recording_and_the_meeting_resumes_unrecorded(tmp_path, monkeypatch) -> None:
    loopback_only(monkeypatch)
    secret, data = secrets.token_urlsafe(24), tmp_path / "podium"
    podium = PodiumServer.start(data, engine_secret=secret, options=("--no-engine",), workers=0)
    podium.start_worker("a")
    people: list[Participant] = []
    try:
        api = Api(podium.url)
        await api.login_admin()
        room = await api.create_room("Recorded restart")
        organizer = await Participant.join(podium, api.token, room["id"])
        people.append(organizer)
        await organizer.publish(microphone=ToneAudioTrack(440), camera=NumberedVideoTrack())
        await organizer.moderate("start_recording")
        first = (await organizer.wait_event("recording-changed", lambda f: f["recording"]))["recording_id"]
        await asyncio.sleep(3)

        stop_control_plane(podium)
        again = PodiumServer.start(
            data, engine_secret=secret, options=("--no-engine",), workers=1, port=podium.port, bootstrap=False
        )
        again.workers, podium = podium.workers, again
        reply = await organizer.resume(api.token, room["id"], keep_media=True)
        assert reply["resumed"] and reply["recording"] is False

        api = Api(podium.url)
        await api.login_admin()
        [interrupted] = (await api.call("GET", "/recordings"))["items"]
        assert interrupted["id"] == first and interrupted["state"] == "interrupted"
        files = {f["source"]: f["name"] for f in interrupted["files"]}
        assert set(files) == {"camera", "microphone", "mixed"}
        with av.open(io.BytesIO(await _download(podium, api, first, files["camera"]))) as container:
            frames = list(container.decode(video=0))
        numbers = [read_number(f) for f in frames]
        assert all(b > a for a, b in itertools.pairwise(numbers)) and frames[-1].time - frames[0].time > 1.5

        # a new recording after the restart: a new feed (the old one was closed when the meeting was restored)
        await organizer.moderate("start_recording")
        second = (
            await organizer.wait_event("recording-changed", lambda f: f["recording"] and f["recording_id"] != first)
        )["recording_id"]
        await asyncio.sleep(2)
        await organizer.moderate("stop_recording")
        recordings = {r["id"]: r for r in (await api.call("GET", "/recordings"))["items"]}
        assert recordings[second]["state"] == "stopped"
        assert {f["source"] for f in recordings[second]["files"]} == {"camera", "microphone", "mixed"}
    finally:
        for participant in people:
            await participant.close()
        podium.stop()
