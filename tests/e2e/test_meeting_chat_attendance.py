"""Chat and attendance end to end: aiortc participants through `podium serve`, the REST history and
reports."""

from __future__ import annotations

import asyncio
import csv
import io

import httpx
import pytest
from media import ToneAudioTrack
from meeting_fixtures import api, people, podium  # noqa: F401
from podium_client import Api, ApiError, Participant, PodiumServer, SignalingError

pytestmark = pytest.mark.timeout(60)


async def user(podium: PodiumServer, api: Api, room: dict, name: str, people: list) -> tuple[str, str, Participant]:
    user_id, token = await api.create_user(name)
    await api.grant(room["id"], user_id)
    p = await Participant.join(podium, token, room["id"])
    people.append(p)
    return user_id, token, p


async def eventually(call, done, timeout: float = 5.0):  # type: ignore[no-untyped-def]
    """The first result of `call()` for which `done` holds, retrying (also on ApiError) until `timeout`."""
    async with asyncio.timeout(timeout):
        while True:
            try:
                result = await call()
                if done(result):
                    return result
            except ApiError:
                pass
            await asyncio.sleep(0.1)


async def refused(p: Participant, frame: dict) -> str:
    with pytest.raises(SignalingError) as error:
        await p.request(frame)
    return str(error.value.code)


async def test_chat_to_everyone_one_to_one_moderated_and_persisted(podium, api, people) -> None:
    room = await api.create_room("Chat")
    organizer = await Participant.join(podium, api.token, room["id"])
    people.append(organizer)
    _, alice_token, alice = await user(podium, api, room, "alice", people)
    _, _, bob = await user(podium, api, room, "bob", people)
    meeting_id = organizer.joined["meeting_id"]

    await alice.request({"type": "chat", "text": "hello all"})
    for p in (organizer, bob, alice):
        got = await p.wait_event("chat", lambda f: f["text"] == "hello all")
        assert got["from"] == alice.id and got["to"] is None
        # Show all usernames: the organizer (an administrator) and alice herself see the name, bob a label
        assert got["from_name"] == ("alice" if p is not bob else "Participant 2")
    await bob.request({"type": "chat", "text": "psst alice", "to": alice.id})
    for p in (alice, bob):
        got = await p.wait_event("chat", lambda f: f["text"] == "psst alice")
        assert got["from"] == bob.id and got["to"] == alice.id

    # text that cannot be stored is refused before anyone sees it
    assert await refused(alice, {"type": "chat", "text": "bad\x00text"}) == "invalid_chat_text"
    assert await refused(alice, {"type": "chat", "text": "   "}) == "invalid_chat_text"
    assert await refused(alice, {"type": "chat", "text": "x", "to": "p-nobody"}) == "unknown_participant"

    # a moderator disables chat for one participant, then for the room (moderators still write)
    await organizer.moderate("disable_chat_participant", target=bob.id)
    await bob.wait_event("permission-changed", lambda f: f["capability"] == "chat" and not f["held"])
    assert await refused(bob, {"type": "chat", "text": "still here?"}) == "permission_missing"
    await organizer.moderate("disable_chat_room")
    await alice.wait_event("room-changed", lambda f: f["chat_enabled"] is False)
    assert await refused(alice, {"type": "chat", "text": "can I?"}) == "chat_disabled"
    await organizer.request({"type": "chat", "text": "moderators only"})
    await alice.wait_event("chat", lambda f: f["text"] == "moderators only")
    await organizer.moderate("enable_chat_room")
    await alice.request({"type": "chat", "text": "back again"})
    await bob.wait_event("chat", lambda f: f["text"] == "back again")
    assert await refused(bob, {"type": "chat", "text": "me too?"}) == "permission_missing"
    await asyncio.sleep(0.3)
    texts = [f["text"] for f in organizer.events if f.get("type") == "chat"]
    assert texts == ["hello all", "moderators only", "back again"]  # nothing refused got through, nor the DM

    # persisted: each reader sees the messages to everyone and their own one-to-one messages
    mine = await api.call("GET", f"/meetings/{meeting_id}/chat", token=alice_token)
    assert [m["text"] for m in mine["items"]] == ["hello all", "psst alice", "moderators only", "back again"]
    dm = mine["items"][1]
    # alice lacks Show all usernames: bob is the label the live meeting gave him
    assert dm["sender"]["participant"] == bob.id and dm["sender"]["name"] == "Participant 3"
    assert dm["recipient"]["participant"] == alice.id and dm["sender"]["person"].startswith("u:")
    admin_view = await api.call("GET", f"/meetings/{meeting_id}/chat")
    assert [m["text"] for m in admin_view["items"]] == ["hello all", "moderators only", "back again"]
    later = await api.call("GET", f"/meetings/{meeting_id}/chat?after_id={mine['items'][1]['id']}", token=alice_token)
    assert [m["text"] for m in later["items"]] == ["moderators only", "back again"]


async def test_attendance_live_list_and_report(podium, api, people) -> None:
    room = await api.create_room("Attendance", waiting_room=True)
    organizer = await Participant.join(podium, api.token, room["id"])
    people.append(organizer)
    alice_id, alice_token, alice = await user(podium, api, room, "alice", people)
    bob_id, bob_token, bob = await user(podium, api, room, "bob", people)
    meeting_id = organizer.joined["meeting_id"]
    assert alice.joined["you"]["waiting"] and bob.joined["you"]["waiting"]
    path = f"/meetings/{meeting_id}/attendance"

    await asyncio.sleep(1.0)  # waiting is not meeting time
    await organizer.moderate("admit", target=alice.id)
    await organizer.moderate("admit", target=bob.id)
    await alice.wait_event("admitted")
    await alice.publish(microphone=ToneAudioTrack(440))
    await alice.wait_event("source-changed", lambda f: f["participant_id"] == alice.id and f["on"])

    # only organizers and moderators of the meeting (or Administrate rooms) read the report
    with pytest.raises(ApiError) as error:
        await api.call("GET", path, token=bob_token)
    assert error.value.status == 403
    await organizer.moderate("appoint_moderator", target=bob.id)
    await bob.wait_event("role-changed", lambda f: f["participant_id"] == bob.id and f["role"] == "moderator")
    # the role reaches the attendance record just after the reply
    live = await eventually(lambda: api.call("GET", path, token=bob_token), lambda r: True)
    present = {p["person"]: p for p in live["present"]}
    assert {f"u:{alice_id}", f"u:{bob_id}"} <= set(present) and len(present) == 3
    assert present[f"u:{alice_id}"]["media"] == ["microphone"] and not present[f"u:{alice_id}"]["waiting"]
    assert live["ended_at"] is None

    await asyncio.sleep(1.5)
    await alice.request({"type": "set-source", "source": "microphone", "on": False})
    await asyncio.sleep(0.5)
    await alice.send({"type": "leave"})
    assert (await alice.wait_event("disconnected"))["reason"] == "left"
    await organizer.wait_event("participant-left", lambda f: f["participant_id"] == alice.id)

    report = await eventually(
        lambda: api.call("GET", path),
        lambda r: not any(p["person"] == f"u:{alice_id}" and p["present"] for p in r["people"]),
    )
    people_by_key = {p["person"]: p for p in report["people"]}
    a = people_by_key[f"u:{alice_id}"]
    assert a["name"] == "alice" and a["role"] == "participant" and not a["present"]
    assert len(a["sessions"]) == 1 and a["sessions"][0]["left_at"] is not None
    assert a["waiting_seconds"] >= 0.9
    assert 1.5 <= a["microphone_seconds"] <= a["total_seconds"] - 0.3
    assert 2.0 <= a["total_seconds"] <= 8
    assert people_by_key[f"u:{bob_id}"]["role"] == "moderator"  # the highest role held
    assert a["camera_seconds"] == 0 and a["screen_share_seconds"] == 0

    async with httpx.AsyncClient(base_url=podium.url) as client:
        response = await client.get(f"/api/v1{path}?format=csv", headers={"Authorization": f"Bearer {api.token}"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = {r["person"]: r for r in csv.DictReader(io.StringIO(response.text))}
    assert rows[f"u:{alice_id}"]["joins"] == "1" and rows[f"u:{alice_id}"]["present"] == "false"
    assert float(rows[f"u:{alice_id}"]["microphone_seconds"]) == a["microphone_seconds"]

    await organizer.moderate("end_meeting")
    await bob.wait_event("meeting-ended")
    ended = await eventually(lambda: api.call("GET", path), lambda r: r["ended_at"] is not None)
    assert ended["present"] == []
    assert all(not p["present"] and p["sessions"][-1]["left_at"] for p in ended["people"])
    # a participant of the meeting still reads its chat afterwards, others of the company do not
    await api.call("GET", f"/meetings/{meeting_id}/chat", token=alice_token)
    _, stranger_token = await api.create_user("stranger")
    with pytest.raises(ApiError) as error:
        await api.call("GET", f"/meetings/{meeting_id}/chat", token=stranger_token)
    assert error.value.status == 403
