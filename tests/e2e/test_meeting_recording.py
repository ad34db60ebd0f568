"""Recording end to end: aiortc participants through `podium serve` (its engine worker feeding the
recorder over a plain transport on loopback), the files fetched over REST and decoded with PyAV.

Alice publishes a camera whose frames show their number and a 440 Hz microphone, Bob a 1000 Hz
microphone. Bob (a participant) may not record; the organizer starts, everyone is told, a late
joiner sees the indicator, Bob's microphone is revoked half-way, the organizer stops. Then: the
camera's file holds increasing frame numbers over about the recorded time, each microphone's file
its tone (Bob's until the revoke), the mix both; the recording is listed, downloaded and deleted
over the API."""

from __future__ import annotations

import asyncio
import io
import itertools

import av
import httpx
import numpy as np
import pytest
from media import NumberedVideoTrack, ToneAudioTrack, dominant_frequency, read_number
from meeting_fixtures import api, people, serve  # noqa: F401
from podium_client import Api, Participant, PodiumServer, SignalingError

pytestmark = pytest.mark.timeout(120)

RECORD_SECONDS = 4.0


@pytest.fixture(scope="module")
def podium(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    recordings = tmp_path_factory.mktemp("recordings")
    for server in serve(tmp_path_factory, "--recordings-dir", str(recordings)):
        server.recordings = recordings  # type: ignore[attr-defined]
        yield server


def decode(data: bytes, kind: str) -> list:
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0] if kind == "video" else container.streams.audio[0]
        return list(container.decode(stream))


def peak_ratio(frames: list, frequency: float) -> float:
    """How far the spectrum's peak near `frequency` stands above its median."""
    samples = np.concatenate(
        [
            f.to_ndarray().reshape(-1, len(f.layout.channels))[:, 0] if f.format.is_packed else f.to_ndarray()[0]
            for f in frames
        ]
    ).astype(np.float64)
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    freqs = np.fft.rfftfreq(len(samples), 1 / frames[0].sample_rate)
    band = spectrum[(freqs > frequency - 15) & (freqs < frequency + 15)]
    return float(band.max() / np.median(spectrum))


async def test_a_recorded_meeting_decodes_back(podium: PodiumServer, api: Api, people: list) -> None:
    room = await api.create_room("Recorded")
    organizer = await Participant.join(podium, api.token, room["id"])
    people.append(organizer)
    joined = []
    for name in ("alice", "bob"):
        user_id, token = await api.create_user(name)
        await api.grant(room["id"], user_id)
        p = await Participant.join(podium, token, room["id"])
        people.append(p)
        joined.append(p)
    alice, bob = joined
    assert organizer.joined["recording"] is False
    await alice.publish(microphone=ToneAudioTrack(440), camera=NumberedVideoTrack())
    await bob.publish(microphone=ToneAudioTrack(1000))
    assert await organizer.frames_grow(alice.id, "camera")
    assert await organizer.frames_grow(bob.id, "microphone")

    with pytest.raises(SignalingError) as refused:
        await bob.moderate("start_recording")
    assert refused.value.code == "role_too_low"

    await organizer.moderate("start_recording")
    started = asyncio.get_running_loop().time()
    for p in (organizer, alice, bob):
        changed = await p.wait_event("recording-changed", lambda f: f["recording"])
        assert changed["by"] == organizer.id
    recording_id = changed["recording_id"]
    with pytest.raises(SignalingError) as refused:
        await bob.moderate("stop_recording")
    assert refused.value.code == "role_too_low"

    await asyncio.sleep(RECORD_SECONDS / 2)
    carol_id, carol_token = await api.create_user("carol")
    await api.grant(room["id"], carol_id)
    carol = await Participant.join(podium, carol_token, room["id"])
    people.append(carol)
    assert carol.joined["recording"] is True
    # Bob's microphone revoked half-way: it stops contributing to its file and to the mix
    await organizer.moderate("revoke_permission", target=bob.id, capability="microphone")
    revoked = asyncio.get_running_loop().time() - started
    await asyncio.sleep(RECORD_SECONDS / 2)

    await organizer.moderate("stop_recording")
    recorded = asyncio.get_running_loop().time() - started
    for p in (alice, bob, carol):
        await p.wait_event("recording-changed", lambda f: not f["recording"])

    listed = await api.call("GET", f"/recordings?room_id={room['id']}")
    assert [r["id"] for r in listed["items"]] == [recording_id]
    description = listed["items"][0]
    assert description["state"] == "stopped"
    files = {(f.get("participant_id"), f["source"]): f for f in description["files"]}
    assert set(files) == {(alice.id, "camera"), (alice.id, "microphone"), (bob.id, "microphone"), (None, "mixed")}
    assert (podium.recordings / organizer.joined["you"]["id"]).exists() is False  # type: ignore[attr-defined]

    async def download(name: str) -> bytes:
        async with httpx.AsyncClient(base_url=podium.url, timeout=15) as client:
            response = await client.get(
                f"/api/v1/recordings/{recording_id}/files/{name}", headers={"Authorization": f"Bearer {api.token}"}
            )
        assert response.status_code == 200
        return response.content

    camera = decode(await download(files[(alice.id, "camera")]["name"]), "video")
    numbers = [read_number(f) for f in camera]
    assert all(b > a for a, b in itertools.pairwise(numbers)), numbers
    span = camera[-1].time - camera[0].time
    assert recorded - 2.0 < span < recorded + 0.5, (span, recorded, description["files"], description.get("counters"))
    assert len(camera) > 0.5 * 30 * span  # a loaded machine's aiortc sends fewer than 30 per second

    for pid, frequency, until in ((alice.id, 440, recorded), (bob.id, 1000, revoked)):
        audio = decode(await download(files[(pid, "microphone")]["name"]), "audio")
        assert abs(dominant_frequency(audio) - frequency) < 10
        seconds = sum(f.samples for f in audio) / audio[0].sample_rate
        assert until - 2.0 < seconds < until + 0.5, (pid, seconds, until, recorded)

    mixed = decode(await download("mixed.webm"), "audio")
    assert peak_ratio(mixed, 440) > 30 and peak_ratio(mixed, 1000) > 30
    seconds = sum(f.samples for f in mixed) / mixed[0].sample_rate
    assert recorded - 2.0 < seconds < recorded + 1.0, (seconds, recorded)
    assert any(podium.recordings.rglob("mixed.webm"))  # type: ignore[attr-defined]  # --recordings-dir

    await api.call("DELETE", f"/recordings/{recording_id}", expect=204)
    assert (await api.call("GET", "/recordings"))["items"] == []
