"""The database restarts under a live meeting (PostgreSQL): media keeps flowing throughout; a change
asked while the database is down is refused (`store_unavailable`) and does not happen, in the engine
either; once the database is back the same change is carried out and enforced."""

from __future__ import annotations

import asyncio

import pytest
from harness import loopback_only
from media import NumberedVideoTrack, ToneAudioTrack
from podium_client import Api, Participant, PodiumServer, SignalingError

pytestmark = pytest.mark.timeout(120)


async def test_a_postgresql_restart_under_a_live_meeting(restartable_postgres, tmp_path, monkeypatch) -> None:
    loopback_only(monkeypatch)
    podium = PodiumServer.start(tmp_path / "podium", database_url=restartable_postgres.new_database())
    people: list[Participant] = []
    try:
        api = Api(podium.url)
        await api.login_admin()
        room = await api.create_room("Store faults")
        organizer = await Participant.join(podium, api.token, room["id"])
        people.append(organizer)
        bob_id, token = await api.create_user("bob")
        await api.grant(room["id"], bob_id)
        bob = await Participant.join(podium, token, room["id"])
        people.append(bob)
        await organizer.publish(camera=NumberedVideoTrack())
        await bob.publish(microphone=ToneAudioTrack(440), camera=NumberedVideoTrack())
        assert await organizer.frames_grow(bob.id, "microphone")

        restartable_postgres.stop()
        # the engine does not need the database: media flows on
        assert await organizer.frames_grow(bob.id, "camera") and await bob.frames_grow(organizer.id, "camera")
        with pytest.raises(SignalingError) as refused:
            await organizer.moderate("revoke_permission", target=bob.id, capability="microphone")
        assert refused.value.code == "store_unavailable"
        # nothing happened: the engine was put back, bob's microphone still reaches the organizer
        assert await organizer.frames_grow(bob.id, "microphone", timeout=5)

        restartable_postgres.start()
        for _ in range(50):  # the pool's first connection after the restart may still fail
            try:
                await organizer.moderate("revoke_permission", target=bob.id, capability="microphone")
                break
            except SignalingError as error:
                assert error.code == "store_unavailable"
                await asyncio.sleep(0.2)
        else:
            pytest.fail("the revoke never went through after the database came back")
        assert await organizer.frames_stopped(bob.id, "microphone")
        assert await organizer.frames_grow(bob.id, "camera")
        meeting = await api.call("GET", f"/meetings/{organizer.joined['meeting_id']}")
        held = {p["id"]: p["capabilities"] for p in meeting["participants"]}
        assert "microphone" not in held[bob.id]
    finally:
        for participant in people:
            await participant.close()
        podium.stop()
