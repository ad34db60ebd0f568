"""The control plane restarts under a live meeting (docs/signaling.md, "Resuming").

With its engine worker started separately (`podium engine`), the worker forwards on while the
control plane is away, and once it is back the participants resume with their media kept: the
restored meeting is reconciled with the worker without touching its transports. With `podium serve`
running everything, the worker restarts too: the participants resume and publish again. In both,
roles and revocations are as they were: a revoked microphone stays revoked."""

from __future__ import annotations

import secrets
import signal
import time

import pytest
from harness import loopback_only
from media import NumberedVideoTrack, ToneAudioTrack
from podium_client import Api, Participant, PodiumServer, SignalingError

pytestmark = pytest.mark.timeout(150)


def stop_control_plane(server: PodiumServer) -> float:
    """SIGTERM to `podium serve`; the seconds it took to exit."""
    started = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    server.process.wait(30)
    return time.monotonic() - started


async def _a_meeting(podium: PodiumServer) -> tuple[Api, dict, Participant, Participant, str]:
    api = Api(podium.url)
    await api.login_admin()
    room = await api.create_room("Restart")
    organizer = await Participant.join(podium, api.token, room["id"])
    bob_id, bob_token = await api.create_user("bob")
    await api.grant(room["id"], bob_id)
    bob = await Participant.join(podium, bob_token, room["id"])
    await organizer.publish(microphone=ToneAudioTrack(300), camera=NumberedVideoTrack())
    await bob.publish(microphone=ToneAudioTrack(440), camera=NumberedVideoTrack())
    assert await organizer.frames_grow(bob.id, "microphone") and await bob.frames_grow(organizer.id, "camera")
    await organizer.moderate("revoke_permission", target=bob.id, capability="microphone")
    assert await organizer.frames_stopped(bob.id, "microphone")
    return api, room, organizer, bob, bob_token


async def _as_before(podium: PodiumServer, room: dict, organizer: Participant, bob: Participant, ids) -> None:
    """Same people, same roles, the revoked microphone still revoked, and media both ways."""
    api = Api(podium.url)
    await api.login_admin()
    assert (organizer.id, bob.id) == ids
    meeting = await api.call("GET", f"/meetings/{organizer.joined['meeting_id']}")
    who = {p["id"]: p for p in meeting["participants"]}
    assert who[organizer.id]["role"] == "organizer" and who[bob.id]["role"] == "participant"
    assert "microphone" not in who[bob.id]["capabilities"]
    with pytest.raises(SignalingError) as refused:
        await bob.request({"type": "set-source", "source": "microphone", "on": True})
    assert refused.value.code == "permission_missing"
    assert await bob.frames_grow(organizer.id, "camera", timeout=10)
    assert await bob.frames_grow(organizer.id, "microphone", timeout=10)
    assert await organizer.frames_grow(bob.id, "camera", timeout=10)
    assert await organizer.frames_stopped(bob.id, "microphone", settle=0.2, window=1.5)


async def test_separate_workers_forward_through_a_control_plane_restart(tmp_path, monkeypatch) -> None:
    loopback_only(monkeypatch)
    secret, data = secrets.token_urlsafe(24), tmp_path / "podium"
    podium = PodiumServer.start(data, engine_secret=secret, options=("--no-engine",), workers=0)
    podium.start_worker("a")
    people: list[Participant] = []
    try:
        api, room, organizer, bob, bob_token = await _a_meeting(podium)
        people += [organizer, bob]
        ids = (organizer.id, bob.id)

        stopped = stop_control_plane(podium)
        # nobody tells the worker anything now, and it forwards on
        assert await bob.frames_grow(organizer.id, "camera", timeout=5)
        assert await organizer.frames_grow(bob.id, "camera", timeout=5)

        again = PodiumServer.start(
            data, engine_secret=secret, options=("--no-engine",), workers=1, port=podium.port, bootstrap=False
        )
        again.workers, podium = podium.workers, again
        for participant, token in ((organizer, api.token), (bob, bob_token)):
            reply = await participant.resume(token, room["id"], keep_media=True)
            assert reply["resumed"] and reply["media"] == "kept"
        await _as_before(podium, room, organizer, bob, ids)
        print(f"control plane stopped in {stopped:.2f} s")
    finally:
        for participant in people:
            await participant.close()
        podium.stop()


async def test_podium_serve_restarted_under_a_live_meeting(tmp_path, monkeypatch) -> None:
    loopback_only(monkeypatch)
    data = tmp_path / "podium"
    podium = PodiumServer.start(data)
    people: list[Participant] = []
    try:
        api, room, organizer, bob, bob_token = await _a_meeting(podium)
        people += [organizer, bob]
        ids = (organizer.id, bob.id)

        stopped = stop_control_plane(podium)
        podium = PodiumServer.start(data, port=podium.port, bootstrap=False)
        for participant, token in ((organizer, api.token), (bob, bob_token)):
            reply = await participant.resume(token, room["id"], keep_media=True)
            # its worker is a new process: the transports are gone, the clients publish again
            assert reply["resumed"] and reply["media"] == "renew"
        await _as_before(podium, room, organizer, bob, ids)
        print(f"podium serve stopped in {stopped:.2f} s")
    finally:
        for participant in people:
            await participant.close()
        podium.stop()
