"""Entry end to end: invitation links, the waiting room and visits, removals and bans."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta

import pytest
from media import NumberedVideoTrack, ToneAudioTrack
from meeting_fixtures import api, people, podium  # noqa: F401
from podium_client import ApiError, Participant, SignalingError

pytestmark = pytest.mark.timeout(60)


def browser() -> str:
    return secrets.token_hex(16)


def iso(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat()


async def test_invitations_are_personal_windowed_single_browser_and_revocable(podium, api) -> None:
    room = await api.create_room("Invitations")
    early = await api.invite_guest(
        room["id"], "Early", not_before=iso(timedelta(hours=1)), not_after=iso(timedelta(hours=2))
    )
    with pytest.raises(ApiError) as refused:  # a window that has ended already is not issued
        await api.invite_guest(
            room["id"], "Late", not_before=iso(-timedelta(hours=2)), not_after=iso(-timedelta(hours=1))
        )
    assert refused.value.status == 409 and refused.value.code == "expiry_in_past"
    late = await api.invite_guest(
        room["id"], "Late", not_before=iso(-timedelta(hours=1)), not_after=iso(timedelta(seconds=1))
    )
    with pytest.raises(ApiError) as refused:
        await api.redeem(early["invitation"], browser())
    assert refused.value.code == "not_yet_valid"
    await asyncio.sleep(1.5)  # until the window of `late` has ended
    with pytest.raises(ApiError) as refused:
        await api.redeem(late["invitation"], browser())
    assert refused.value.code == "expired"
    with pytest.raises(ApiError) as refused:
        await api.invite_guest(room["id"], "   ")
    assert refused.value.status == 422

    good = await api.invite_guest(room["id"], "Gina")
    mine = browser()
    await api.redeem(good["invitation"], mine)
    await api.redeem(good["invitation"], mine)  # the same browser may open it again
    with pytest.raises(ApiError) as refused:
        await api.redeem(good["invitation"], browser())  # reused from a second browser
    assert refused.value.code == "already_used_elsewhere"

    revoked = await api.invite_guest(room["id"], "Rita")
    token = (await api.redeem(revoked["invitation"], mine))["guest_token"]
    await api.call("DELETE", f"/invitations/{revoked['id']}")
    with pytest.raises(ApiError) as refused:
        await api.redeem(revoked["invitation"], mine)
    assert refused.value.code == "revoked"
    organizer = await Participant.join(podium, api.token, room["id"])
    try:
        with pytest.raises(SignalingError) as refused_join:
            await Participant.join(podium, token, room["id"])
        assert refused_join.value.code == "invalid_token"
    finally:
        await organizer.close()


async def test_waiting_room_isolates_until_admitted_except_a_visit(podium, api, people) -> None:
    room = await api.create_room("Lobby", waiting_room=True)
    organizer = await Participant.join(podium, api.token, room["id"])
    people.append(organizer)
    mod_id, mod_token = await api.create_user("mo")
    await api.grant(room["id"], mod_id, "moderator")
    mo = await Participant.join(podium, mod_token, room["id"])
    people.append(mo)
    assert not mo.joined["you"]["waiting"] and mo.joined["you"]["role"] == "moderator"
    invitation = await api.invite_guest(room["id"], "Guest")
    token = (await api.redeem(invitation["invitation"], browser()))["guest_token"]
    guest = await Participant.join(podium, token, room["id"])
    people.append(guest)
    assert guest.joined["you"]["waiting"] and guest.joined["participants"] == []
    await organizer.wait_event("waiting-room", lambda f: [p["id"] for p in f["waiting"]] == [guest.id])

    await organizer.publish(microphone=ToneAudioTrack(300))
    await mo.publish(microphone=ToneAudioTrack(600))
    await guest.publish(microphone=ToneAudioTrack(900), camera=NumberedVideoTrack())
    assert await mo.frames_grow(organizer.id, "microphone")
    # the waiting guest sends nothing and receives nothing
    await asyncio.sleep(1.0)
    assert guest.count(organizer.id, "microphone") == 0 and guest.count(mo.id, "microphone") == 0
    assert organizer.count(guest.id, "microphone") == 0 and mo.count(guest.id, "camera") == 0
    with pytest.raises(SignalingError) as refused:
        await guest.request({"type": "chat", "text": "let me in"})
    assert refused.value.code == "actor_waiting"

    # a visit: two-way audio and video between the organizer and the guest only
    await organizer.moderate("visit", target=guest.id)
    assert await organizer.frames_grow(guest.id, "microphone")
    assert await organizer.frames_grow(guest.id, "camera")
    assert await guest.frames_grow(organizer.id, "microphone")
    assert guest.count(mo.id, "microphone") == 0 and mo.count(guest.id, "microphone") == 0
    assert await mo.frames_stopped(organizer.id, "microphone", settle=0.3, window=1.0)  # private both ways
    await organizer.moderate("end_visit")
    assert await organizer.frames_stopped(guest.id, "microphone")

    await organizer.moderate("admit", target=guest.id)
    admitted = await guest.wait_event("admitted")
    assert {p["id"] for p in admitted["participants"]} == {organizer.id, mo.id, guest.id}
    assert await guest.frames_grow(mo.id, "microphone")
    await guest.request({"type": "set-source", "source": "microphone", "on": True})  # admission turned it off
    assert await mo.frames_grow(guest.id, "microphone")
    await organizer.moderate("send_back", target=guest.id)
    await guest.wait_event("sent-back")
    assert await mo.frames_stopped(guest.id, "microphone")
    assert await guest.frames_stopped(mo.id, "microphone", settle=0, window=0.5)


async def test_removed_person_is_refused_by_every_path(podium, api, people) -> None:
    room = await api.create_room("Strict")
    organizer = await Participant.join(podium, api.token, room["id"])
    people.append(organizer)
    alice_id, alice_token = await api.create_user("alice")
    await api.grant(room["id"], alice_id)
    alice = await Participant.join(podium, alice_token, room["id"])
    people.append(alice)
    invitation = await api.invite_guest(room["id"], "Gus")
    gus_browser = browser()
    gus_token = (await api.redeem(invitation["invitation"], gus_browser))["guest_token"]
    gus = await Participant.join(podium, gus_token, room["id"])
    people.append(gus)
    await alice.publish(microphone=ToneAudioTrack(440))
    assert await gus.frames_grow(alice.id, "microphone")

    await organizer.moderate("remove_for_period", target=alice.id)
    gone = await alice.wait_event("disconnected")
    assert gone["reason"] == "removed" and gone["until"]
    assert await gus.frames_stopped(alice.id, "microphone", settle=0.3, window=0.8)
    await gus.wait_event("participant-left", lambda f: f["participant_id"] == alice.id)
    # the removal is scoped to the room: her login stays valid elsewhere, and the room refuses it
    with pytest.raises(SignalingError) as refused:
        await Participant.join(podium, alice_token, room["id"])
    assert refused.value.code == "removed"
    assert (await api.call("GET", "/me", token=alice_token))["id"] == alice_id
    email_token = None
    with pytest.raises(SignalingError) as refused:
        users = await api.call("GET", "/users?limit=100")
        email = next(u["email"] for u in users["items"] if u["id"] == alice_id)
        email_token = await api.login(email, "user-password-1")
        await Participant.join(podium, email_token, room["id"])
    assert refused.value.code == "removed"

    await organizer.moderate("ban", target=gus.id)
    await gus.wait_event("disconnected", lambda f: f["reason"] == "banned")
    with pytest.raises(SignalingError) as refused:
        await Participant.join(podium, gus_token, room["id"])
    assert refused.value.code == "invalid_token"
    with pytest.raises(ApiError) as refused_link:
        await api.redeem(invitation["invitation"], gus_browser)
    assert refused_link.value.code == "banned"  # told the ban, not the revocation it implies
    await organizer.moderate("unban", person=invitation["invitee"])
