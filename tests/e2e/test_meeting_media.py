"""Media moderation end to end: aiortc participants through `podium serve` and its engine worker."""

from __future__ import annotations

import httpx
import pytest
from media import NumberedVideoTrack, ToneAudioTrack
from meeting_fixtures import api, people, podium  # noqa: F401
from podium_client import Api, ApiError, Participant, PodiumServer, SignalingError

pytestmark = pytest.mark.timeout(60)


async def meeting(podium: PodiumServer, api: Api, people: list, *others: str, **features) -> tuple:
    """A room whose organizer (the admin) and `others` (users with access) joined."""
    room = await api.create_room("Room", **features)
    organizer = await Participant.join(podium, api.token, room["id"])
    people.append(organizer)
    joined = []
    for name in others:
        user_id, token = await api.create_user(name)
        await api.grant(room["id"], user_id)
        p = await Participant.join(podium, token, room["id"])
        people.append(p)
        joined.append(p)
    return room, organizer, *joined


async def test_revoked_microphone_stops_at_the_engine(podium, api, people) -> None:
    room, organizer, alice, bob = await meeting(podium, api, people, "alice", "bob")
    await alice.publish(microphone=ToneAudioTrack(440), camera=NumberedVideoTrack())
    assert await bob.frames_grow(alice.id, "microphone")
    assert await organizer.frames_grow(alice.id, "camera")

    reply = await organizer.moderate("revoke_permission", target=alice.id, capability="microphone")
    assert reply["version"] > 0
    await alice.wait_event("permission-changed", lambda f: f["capability"] == "microphone" and not f["held"])
    assert await bob.frames_stopped(alice.id, "microphone")
    assert await organizer.frames_stopped(alice.id, "microphone")
    assert await bob.frames_grow(alice.id, "camera")  # only the microphone was revoked

    # without the permission she cannot turn it on again, nor publish it anew
    with pytest.raises(SignalingError) as refused:
        await alice.request({"type": "set-source", "source": "microphone", "on": True})
    assert refused.value.code == "permission_missing"

    await organizer.moderate("grant_permission", target=alice.id, capability="microphone")
    assert await bob.frames_stopped(alice.id, "microphone", settle=0.2, window=0.8)  # granting turns nothing on
    await alice.request({"type": "set-source", "source": "microphone", "on": True})
    assert await bob.frames_grow(alice.id, "microphone")


async def test_mute_all_reaches_the_organizer_and_presenter_mode_needs_the_floor(podium, api, people) -> None:
    room, organizer, alice, bob = await meeting(podium, api, people, "alice", "bob")
    await organizer.publish(microphone=ToneAudioTrack(300))
    await alice.publish(microphone=ToneAudioTrack(440))
    assert await bob.frames_grow(organizer.id, "microphone")
    assert await bob.frames_grow(alice.id, "microphone")

    # a moderator appointed by the organizer mutes everyone, the organizer included
    await organizer.moderate("appoint_moderator", target=bob.id)
    await bob.moderate("mute_all_audio")
    await organizer.wait_event("source-changed", lambda f: f["participant_id"] == organizer.id and not f["on"])
    assert await alice.frames_stopped(organizer.id, "microphone")
    assert await bob.frames_stopped(alice.id, "microphone", settle=0, window=0.5)
    # but nobody else acts on an equal or higher role
    with pytest.raises(SignalingError) as refused:
        await bob.moderate("revoke_permission", target=organizer.id, capability="microphone")
    assert refused.value.code == "target_not_lower"
    with pytest.raises(SignalingError) as refused:
        await alice.moderate("turn_off_source", target=bob.id, source="microphone")
    assert refused.value.code == "role_too_low"

    # presenter mode: only floor holders unmute
    await organizer.moderate("start_presenter_mode")
    with pytest.raises(SignalingError) as refused:
        await alice.request({"type": "set-source", "source": "microphone", "on": True})
    assert refused.value.code == "floor_required"
    await organizer.moderate("give_floor", target=alice.id)
    await alice.request({"type": "set-source", "source": "microphone", "on": True})
    assert await bob.frames_grow(alice.id, "microphone")
    await organizer.moderate("take_floor", target=alice.id)
    assert await bob.frames_stopped(alice.id, "microphone")


async def test_moderators_never_turn_a_source_on_and_actions_are_audited(podium, api, people) -> None:
    room, organizer, alice = await meeting(podium, api, people, "alice")
    await alice.publish(camera=NumberedVideoTrack())
    assert await organizer.frames_grow(alice.id, "camera")
    reply = await organizer.moderate("turn_off_source", target=alice.id, source="camera")
    assert await organizer.frames_stopped(alice.id, "camera")
    with pytest.raises(SignalingError) as refused:
        await organizer.moderate("turn_on_source", target=alice.id, source="camera")
    assert refused.value.code == "not_self"
    # over REST too, answered once the engine acked
    rest = await api.call(
        "POST",
        f"/meetings/{organizer.joined['meeting_id']}/actions",
        {"action": "revoke_permission", "target": alice.id, "capability": "camera"},
    )
    assert rest["version"] is None or rest["version"] >= reply["version"]
    events = await api.call("GET", "/audit-events?limit=100")
    items = events["items"] if isinstance(events, dict) else events
    mine = [e for e in items if e["action"] == "meeting.turn_off_source" and e["target_id"] == alice.id]
    assert mine and mine[0]["after"]["engine_version"] == reply["version"]
    async with httpx.AsyncClient() as client:
        metrics = (await client.get(podium.url + "/metrics", headers=podium.metrics_headers)).text
    assert "podium_engine_apply_seconds_count" in metrics


async def test_malformed_frames_get_error_frames(podium, api, people) -> None:
    p = await Participant.connect(podium)
    people.append(p)
    await p.ws.send("not json")
    await p.ws.send('{"type": "publish", "sdp": 3, "ref": "x"}')
    await p.ws.send('{"type": "publish", "sdp": "v=0", "sources": {}, "ref": "y"}')
    await p.ws.send('{"type": "join", "token": "nope", "room_id": "r", "bogus": 1, "ref": "z"}')
    first = await p.wait_event("error", lambda f: f["code"] == "malformed")
    second = await p.wait_event("error", lambda f: f["ref"] == "x")
    third = await p.wait_event("error", lambda f: f["ref"] == "y")
    fourth = await p.wait_event("error", lambda f: f["ref"] == "z")
    assert first["ref"] is None and second["code"] == "invalid" and third["code"] == "not_joined"
    assert fourth["code"] == "invalid"
    await p.send({"type": "join", "token": "nope", "room_id": "r"})
    await p.wait_event("error", lambda f: f["code"] == "invalid_token")
    code, _ = await __import__("asyncio").wait_for(p.closed, 5)
    assert code == 4001


async def test_end_meeting_for_everyone(podium, api, people) -> None:
    room, organizer, alice = await meeting(podium, api, people, "alice")
    with pytest.raises(SignalingError) as refused:
        await alice.moderate("end_meeting")
    assert refused.value.code == "role_too_low"
    await organizer.moderate("end_meeting")
    ended = await alice.wait_event("meeting-ended")
    assert ended["reason"] == "meeting_ended"
    await alice.wait_event("disconnected")
    with pytest.raises(ApiError):
        await api.call("GET", f"/meetings/{organizer.joined['meeting_id']}")
