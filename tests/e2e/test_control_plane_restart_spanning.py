"""The control plane restarts under a meeting spanning two workers (`podium engine` "a" and "b",
--worker-capacity 2): the workers and the pipe between them forward on while it is away; the
restored meeting (each participant's worker and the workers holding it come from its stored
documents) is reconciled with both workers, everyone resumes with media kept, and a revoke after
the restart stops the source on both workers."""

from __future__ import annotations

import contextlib
import secrets

import pytest
from harness import loopback_only
from media import NumberedVideoTrack, ToneAudioTrack
from podium_client import Api, Participant, PodiumServer
from test_control_plane_restart import stop_control_plane
from test_meeting_spanning import stopped

pytestmark = pytest.mark.timeout(180)


async def test_a_spanning_meeting_survives_a_control_plane_restart(tmp_path, monkeypatch) -> None:
    loopback_only(monkeypatch)
    secret, data = secrets.token_urlsafe(24), tmp_path / "podium"
    options = ("--no-engine", "--worker-capacity", "2")
    podium = PodiumServer.start(data, engine_secret=secret, options=options, workers=0)
    podium.start_worker("a")
    podium.start_worker("b")
    people: list[Participant] = []
    tokens: list[str] = []
    try:
        api = Api(podium.url)
        await api.login_admin()
        room = await api.create_room("Spanning restart")
        people.append(await Participant.join(podium, api.token, room["id"]))
        tokens.append(api.token)
        for n in (1, 2):
            user_id, token = await api.create_user(f"restart-{n}")
            await api.grant(room["id"], user_id)
            people.append(await Participant.join(podium, token, room["id"]))
            tokens.append(token)
        for n, p in enumerate(people):
            await p.publish(microphone=ToneAudioTrack(300 + 200 * n), camera=NumberedVideoTrack())
        meeting_id = people[0].joined["meeting_id"]
        assert sorted((await api.call("GET", f"/meetings/{meeting_id}"))["workers"]) == ["a", "b"]
        for receiver in people:
            for sender in people:
                if sender is not receiver:
                    assert await receiver.frames_grow(sender.id, "camera", timeout=20)

        stop_control_plane(podium)
        for receiver in people:  # nobody tells the workers anything now; they and the pipe forward on
            for sender in people:
                if sender is not receiver:
                    assert await receiver.frames_grow(sender.id, "camera", timeout=10)

        again = PodiumServer.start(
            data, engine_secret=secret, options=options, workers=2, port=podium.port, bootstrap=False
        )
        again.workers, podium = podium.workers, again
        for participant, token in zip(people, tokens, strict=True):
            reply = await participant.resume(token, room["id"], keep_media=True)
            assert reply["resumed"] and reply["media"] == "kept", reply
        api = Api(podium.url)
        await api.login_admin()
        assert sorted((await api.call("GET", f"/meetings/{meeting_id}"))["workers"]) == ["a", "b"]
        for receiver in people:
            for sender in people:
                if sender is not receiver:
                    assert await receiver.frames_grow(sender.id, "microphone", timeout=10)
        spilled = people[2]
        await people[0].moderate("revoke_permission", target=spilled.id, capability="microphone")
        for receiver in people[:2]:
            assert await stopped(receiver, spilled.id, "microphone")
        assert await people[1].frames_grow(people[0].id, "microphone")
    finally:
        for p in people:
            with contextlib.suppress(Exception):
                await p.close()
        podium.stop()
