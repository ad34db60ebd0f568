"""Revoking a guest's invitation during the meeting disconnects the guest, who is told why."""

from __future__ import annotations

import asyncio
import secrets

import pytest
from meeting_fixtures import api, people, podium  # noqa: F401
from podium_client import ApiError, Participant

pytestmark = pytest.mark.timeout(60)


async def test_a_revoked_guest_is_disconnected_with_reason_revoked(podium, api, people) -> None:
    room = await api.create_room("Revocation")
    organizer = await Participant.join(podium, api.token, room["id"])
    people.append(organizer)
    invitation = await api.invite_guest(room["id"], "Gil")
    browser = secrets.token_hex(16)
    token = (await api.redeem(invitation["invitation"], browser))["guest_token"]
    guest = await Participant.join(podium, token, room["id"])
    people.append(guest)
    await organizer.wait_event("participant-joined", lambda f: f["participant"]["id"] == guest.id)

    await api.call("DELETE", f"/invitations/{invitation['id']}")
    gone = await guest.wait_event("disconnected")
    assert gone["reason"] == "revoked"
    code, _ = await asyncio.wait_for(guest.closed, 5)
    assert code == 1000
    left = await organizer.wait_event("participant-left", lambda f: f["participant_id"] == guest.id)
    assert left["reason"] == "revoked"
    with pytest.raises(ApiError) as refused:
        await api.redeem(invitation["invitation"], browser)
    assert refused.value.code == "revoked"
