"""Hand-over and succession end to end: the organizer leaves naming a moderator and the meeting goes
on; when the organizer drops, the holder of moderator rights present takes the seat and moderates
(never someone without the rights: tests/e2e/test_meeting_authority.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from media import NumberedVideoTrack, ToneAudioTrack
from meeting_fixtures import api, people, serve  # noqa: F401
from podium_client import Api, ApiError, Participant, PodiumServer, SignalingError

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def podium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PodiumServer]:
    """A dropped socket leaves once the resume grace (1 s here) is over: succession follows."""
    yield from serve(tmp_path_factory, "--resume-grace", "1")


async def join_users(
    podium: PodiumServer, api: Api, room: dict, people: list, *names: str, roles: dict[str, str] | None = None
) -> list[Participant]:
    """Users joining in order, each with a participant access right unless `roles` names another."""
    joined = []
    for name in names:
        user_id, token = await api.create_user(name)
        await api.grant(room["id"], user_id, (roles or {}).get(name, "participant"))
        p = await Participant.join(podium, token, room["id"])
        people.append(p)
        joined.append(p)
    return joined


async def test_hand_over_names_the_new_organizer_and_media_goes_on(podium, api, people) -> None:
    room = await api.create_room("Hand-over")
    organizer = await Participant.join(podium, api.token, room["id"])
    people.append(organizer)
    alice, bob = await join_users(podium, api, room, people, "alice", "bob", roles={"alice": "moderator"})
    assert alice.joined["you"]["role"] == "moderator"
    await alice.publish(microphone=ToneAudioTrack(440))
    await bob.publish(camera=NumberedVideoTrack())
    assert await bob.frames_grow(alice.id, "microphone")
    assert await alice.frames_grow(bob.id, "camera")

    with pytest.raises(SignalingError) as refused:  # only the organizer hands over
        await alice.moderate("hand_over", target=bob.id)
    assert refused.value.code == "role_too_low"
    await organizer.send({"type": "moderate", "action": "hand_over", "target": alice.id})
    gone = await organizer.wait_event("disconnected")
    assert gone["reason"] == "handed_over"
    code, _ = await asyncio.wait_for(organizer.closed, 5)
    assert code == 1000
    for p in (alice, bob):
        await p.wait_event("role-changed", lambda f: f["participant_id"] == alice.id and f["role"] == "organizer")
        left = await p.wait_event("participant-left", lambda f: f["participant_id"] == organizer.id)
        assert left["reason"] == "handed_over"

    # the meeting continues: media between those who remain, and the new organizer moderates
    assert await bob.frames_grow(alice.id, "microphone")
    assert await alice.frames_grow(bob.id, "camera")
    meeting = await api.call("GET", f"/meetings/{alice.joined['meeting_id']}")
    roles = {p["id"]: p["role"] for p in meeting["participants"]}
    assert roles == {alice.id: "organizer", bob.id: "participant"}
    await alice.moderate("turn_off_source", target=bob.id, source="camera")
    assert await alice.frames_stopped(bob.id, "camera")
    assert await bob.frames_grow(alice.id, "microphone")


async def test_last_moderator_drops_and_the_successor_moderates_then_ends(podium, api, people) -> None:
    room = await api.create_room("Succession")
    organizer = await Participant.join(podium, api.token, room["id"])
    people.append(organizer)
    bob, carol = await join_users(podium, api, room, people, "bob", "carol", roles={"bob": "moderator"})
    await carol.publish(microphone=ToneAudioTrack(660))
    assert await bob.frames_grow(carol.id, "microphone")
    meeting_id = organizer.joined["meeting_id"]

    await organizer.drop()  # the socket is cut: no leave, no close frame
    for p in (bob, carol):
        await p.wait_event(
            "role-changed", lambda f: f["participant_id"] == bob.id and f["role"] == "organizer", timeout=15
        )
        await p.wait_event("participant-left", lambda f: f["participant_id"] == organizer.id)
    notice = await bob.wait_event("notice")
    assert notice["code"] == "successor"
    assert not any(f.get("type") == "notice" for f in carol.events)

    # the successor moderates, enforced in the engine
    reply = await bob.moderate("revoke_permission", target=carol.id, capability="microphone")
    assert reply["version"] > 0
    assert await bob.frames_stopped(carol.id, "microphone")
    with pytest.raises(SignalingError) as refused:
        await carol.moderate("end_meeting")
    assert refused.value.code == "role_too_low"

    # and ends the meeting for everyone
    await bob.moderate("end_meeting")
    ended = await carol.wait_event("meeting-ended")
    assert ended["reason"] == "meeting_ended"
    assert (await carol.wait_event("disconnected"))["reason"] == "meeting_ended"
    code, _ = await asyncio.wait_for(carol.closed, 5)
    assert code == 1000
    with pytest.raises(ApiError) as missing:
        await api.call("GET", f"/meetings/{meeting_id}")
    assert missing.value.status == 404
    async with asyncio.timeout(5):  # the end time is written once the departures are recorded
        while (report := await api.call("GET", f"/meetings/{meeting_id}/attendance"))["ended_at"] is None:
            await asyncio.sleep(0.1)
    assert report["present"] == [] and {p["role"] for p in report["people"]} == {"organizer", "participant"}
