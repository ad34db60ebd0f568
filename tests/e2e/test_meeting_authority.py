"""Authority end to end (issue 11), real aiortc participants through `podium serve` and its engine
worker: roles come from rights in the room, never from arriving first; removal is scoped to the room;
quotas refuse the extra entry until someone leaves."""

from __future__ import annotations

import pytest
from media import ToneAudioTrack
from meeting_fixtures import api, people, podium  # noqa: F401
from podium_client import Api, ApiError, Participant, SignalingError

pytestmark = pytest.mark.timeout(90)


async def act_over_rest(api: Api, token: str, meeting_id: str, **body: str) -> ApiError:
    """`POST /meetings/{id}/actions` as the token's user; returns the refusal (it must be refused)."""
    with pytest.raises(ApiError) as refused:
        await api.call("POST", f"/meetings/{meeting_id}/actions", body, token=token)
    return refused.value


async def test_a_participant_opening_first_neither_organizes_nor_bans_the_owner(podium, api, people) -> None:
    """The issue's opening scenario: a user with only a participant right opens the room's meeting
    first. They wait for a moderator, cannot end the meeting over REST, and once the administrator
    who owns the room arrives (as organizer) they can neither ban nor end; the administrator's login
    keeps working throughout, and a ban of the participant keeps theirs working too."""
    room = await api.create_room("Owned by the administrator")
    admin_id = (await api.call("GET", "/me"))["id"]
    pat_id, pat_token = await api.create_user("pat")
    await api.grant(room["id"], pat_id, "participant")

    pat = await Participant.join(podium, pat_token, room["id"])
    people.append(pat)
    you = pat.joined["you"]
    assert (you["role"], you["waiting"], pat.joined["waiting_for"]) == ("participant", True, "moderator")
    meeting_id = pat.joined["meeting_id"]
    refused = await act_over_rest(api, pat_token, meeting_id, action="end_meeting")
    assert (refused.status, refused.code) == (403, "actor_waiting")

    admin = await Participant.join(podium, api.token, room["id"])
    people.append(admin)
    assert admin.joined["you"]["role"] == "organizer" and not admin.joined["you"]["waiting"]
    await pat.wait_event("admitted")  # let in as the moderator arrived
    await admin.publish(microphone=ToneAudioTrack(440))
    assert await pat.frames_grow(admin.id, "microphone"), "admitted: the engine forwards the meeting to pat"

    with pytest.raises(SignalingError) as refused_ban:
        await pat.moderate("ban", target=admin.id)
    assert refused_ban.value.code == "role_too_low"
    refused = await act_over_rest(api, pat_token, meeting_id, action="ban", target=admin.id)
    assert (refused.status, refused.code) == (403, "role_too_low")
    refused = await act_over_rest(api, pat_token, meeting_id, action="end_meeting")
    assert (refused.status, refused.code) == (403, "role_too_low")
    meeting = await api.call("GET", f"/meetings/{meeting_id}")
    assert {p["id"]: p["role"] for p in meeting["participants"]} == {admin.id: "organizer", pat.id: "participant"}
    assert (await api.call("GET", "/me"))["id"] == admin_id

    # the owner bans pat: pat leaves the room, keeps their login, and is refused the room again
    await admin.moderate("ban", target=pat.id)
    assert (await pat.wait_event("disconnected"))["reason"] == "banned"
    assert (await api.call("GET", "/me", token=pat_token))["id"] == pat_id
    with pytest.raises(SignalingError) as refused_again:
        await Participant.join(podium, pat_token, room["id"])
    assert refused_again.value.code == "banned"
    elsewhere = await api.create_room("Elsewhere")
    await api.grant(elsewhere["id"], pat_id, "moderator")
    pat_elsewhere = await Participant.join(podium, pat_token, elsewhere["id"])
    people.append(pat_elsewhere)
    assert pat_elsewhere.joined["you"]["role"] == "organizer"  # moderator rights, nobody else there


async def test_participants_may_start_and_rights_take_the_seat_as_they_arrive(podium, api, people) -> None:
    room = await api.create_room("Open start", participants_may_start=True)
    pat_id, pat_token = await api.create_user("pam")
    mo_id, mo_token = await api.create_user("mo")
    await api.grant(room["id"], pat_id, "participant")
    await api.grant(room["id"], mo_id, "moderator")

    pat = await Participant.join(podium, pat_token, room["id"])
    people.append(pat)
    assert (pat.joined["you"]["role"], pat.joined["you"]["waiting"]) == ("participant", False)
    with pytest.raises(SignalingError) as refused:
        await pat.moderate("end_meeting")
    assert refused.value.code == "role_too_low"

    mo = await Participant.join(podium, mo_token, room["id"])
    people.append(mo)
    assert mo.joined["you"]["role"] == "organizer"  # the first holder of moderator rights
    admin = await Participant.join(podium, api.token, room["id"])
    people.append(admin)
    assert admin.joined["you"]["role"] == "organizer"  # organizer rights take the seat
    await mo.wait_event("role-changed", lambda f: f["participant_id"] == mo.id and f["role"] == "moderator")

    # any moderator ends the meeting for everyone, the organizer included
    await mo.moderate("end_meeting")
    assert (await admin.wait_event("meeting-ended"))["reason"] == "meeting_ended"
    assert (await pat.wait_event("disconnected"))["reason"] == "meeting_ended"


async def test_the_room_quota_refuses_the_extra_entry_until_someone_leaves(podium, api, people) -> None:
    room = await api.create_room("Two seats", max_participants=2)
    admin = await Participant.join(podium, api.token, room["id"])
    people.append(admin)
    users = []
    for name in ("ann", "ben"):
        user_id, token = await api.create_user(name)
        await api.grant(room["id"], user_id)
        users.append(token)
    ann = await Participant.join(podium, users[0], room["id"])
    with pytest.raises(SignalingError) as refused:
        await Participant.join(podium, users[1], room["id"])
    assert refused.value.code == "room_full" and "2" in refused.value.frame["message"]
    await ann.send({"type": "leave"})  # leaving frees the place (a dropped socket would wait its resume grace)
    await admin.wait_event("participant-left", lambda f: f["participant_id"] == ann.id)
    await ann.close()
    ben = await Participant.join(podium, users[1], room["id"])
    people.append(ben)
    assert not ben.joined["you"]["waiting"]


async def test_a_hidden_interpreter_is_heard_but_not_listed(podium, api, people) -> None:
    room = await api.create_room("Interpreted")
    ivy_id, ivy_token = await api.create_user("ivy")
    pat_id, pat_token = await api.create_user("pia")
    for user_id in (ivy_id, pat_id):
        await api.grant(room["id"], user_id)
    admin = await Participant.join(podium, api.token, room["id"])
    people.append(admin)
    ivy = await Participant.join(podium, ivy_token, room["id"])
    people.append(ivy)
    await admin.moderate("hide", target=ivy.id)
    assert (await ivy.wait_event("participant-hidden"))["hidden"] is True
    pat = await Participant.join(podium, pat_token, room["id"])
    people.append(pat)
    assert ivy.id not in {p["id"] for p in pat.joined["participants"]}
    meeting = await api.call("GET", f"/meetings/{pat.joined['meeting_id']}")
    assert {p["id"]: p["hidden"] for p in meeting["participants"]}[ivy.id] is True  # the administrator sees
    rooms = await api.call("GET", "/rooms?limit=100", token=pat_token)
    assert next(r for r in rooms["items"] if r["id"] == room["id"])["online"] == 2  # Ivy is not counted

    await ivy.publish(microphone=ToneAudioTrack(520))
    assert await pat.frames_grow(ivy.id, "microphone"), "the engine forwards a hidden interpreter's voice"
