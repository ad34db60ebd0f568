"""A room's bans over REST: listed and lifted without a running meeting, by the room's organizers and
moderators and holders of Administrate rooms only; audited; invisible to other companies."""

import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from control.domain.meeting_state import MeetingState
from control.domain.permissions import Permission
from control.meetings.live import LiveMeeting
from control.meetings.media import Media
from control.store.models import AuditEvent, GuestInvitation, RoomRemoval

V1 = "/api/v1"


async def banned_room(world, client):  # type: ignore[no-untyped-def]
    admin = await world.company()
    bob = await world.user(admin, name="Bob")
    room = (await client.post(f"{V1}/rooms", headers=admin.headers, json={"name": "Banned"})).json()
    guest_key = "g:" + secrets.token_hex(16)
    now = datetime.now(UTC)
    async with world.context() as ctx:
        ctx.session.add(
            GuestInvitation(
                id=guest_key[2:],
                company_id=admin.company_id,
                room_id=room["id"],
                issuer_user_id=admin.id,
                invitee_name="Gus",
                invitee_key=guest_key,
                rights=[],
                not_before=now,
                not_after=now + timedelta(hours=1),
                secret_hash=secrets.token_hex(32),
                created_at=now,
            )
        )
        for person, minutes in ((f"u:{bob.id}", 2), (guest_key, 1)):
            ctx.session.add(
                RoomRemoval(
                    company_id=admin.company_id,
                    room_id=room["id"],
                    person=person,
                    kind="ban",
                    actor="p1",
                    created_at=now - timedelta(minutes=minutes),
                )
            )
        ctx.session.add(
            RoomRemoval(
                company_id=admin.company_id,
                room_id=room["id"],
                person="u:" + "0" * 32,
                kind="removal",
                until=now + timedelta(hours=1),
                actor="p1",
                created_at=now,
            )
        )
        await ctx.session.commit()
    return admin, bob, room, guest_key


async def test_listing_and_lifting_bans_without_a_meeting(world, client) -> None:
    admin, bob, room, guest_key = await banned_room(world, client)
    path = f"{V1}/rooms/{room['id']}/bans"
    listed = await client.get(path, headers=admin.headers)
    assert listed.status_code == 200, listed.text
    assert [(b["person"], b["name"]) for b in listed.json()["items"]] == [(f"u:{bob.id}", "Bob"), (guest_key, "Gus")]

    moderator = await world.user(admin)
    participant = await world.user(admin)
    for user, role in ((moderator, "moderator"), (participant, "participant")):
        response = await client.put(
            f"{V1}/rooms/{room['id']}/access/{user.id}", headers=admin.headers, json={"role": role}
        )
        assert response.status_code == 204
    stranger = await world.user(admin)
    for refused, status in ((participant, 403), (stranger, 404)):  # without access the room is not seen
        assert (await client.get(path, headers=refused.headers)).status_code == status
        assert (await client.delete(f"{path}/{guest_key}", headers=refused.headers)).status_code == status

    lifted = await client.delete(f"{path}/{guest_key}", headers=moderator.headers)
    assert lifted.status_code == 204, lifted.text
    assert (await client.delete(f"{path}/{guest_key}", headers=moderator.headers)).status_code == 404
    assert [b["person"] for b in (await client.get(path, headers=moderator.headers)).json()["items"]] == [f"u:{bob.id}"]
    async with world.context() as ctx:
        audit = (await ctx.session.scalars(select(AuditEvent).where(AuditEvent.action == "room.unban"))).all()
    assert [(a.actor_user_id, a.target_id, a.after["person"]) for a in audit] == [(moderator.id, room["id"], guest_key)]

    rooms_admin = await world.user(admin, [Permission.ADMINISTRATE_ROOMS])
    assert (await client.delete(f"{path}/u:{bob.id}", headers=rooms_admin.headers)).status_code == 204
    assert (await client.get(path, headers=rooms_admin.headers)).json()["items"] == []


async def test_other_companies_and_bad_person_keys(world, client) -> None:
    admin, bob, room, guest_key = await banned_room(world, client)
    other = await world.company()
    path = f"{V1}/rooms/{room['id']}/bans"
    assert (await client.get(path, headers=other.headers)).status_code == 404
    assert (await client.delete(f"{path}/{guest_key}", headers=other.headers)).status_code == 404
    assert (await client.delete(f"{path}/bob", headers=admin.headers)).status_code == 404  # not a person key
    assert (await client.get(path, headers=admin.headers)).json()["items"][1]["person"] == guest_key


async def test_lifting_a_ban_lets_the_person_into_the_running_meeting(world, client) -> None:
    admin, bob, room, guest_key = await banned_room(world, client)
    service = world.app.state.meetings
    live = LiveMeeting(
        "m" * 32,
        room["id"],
        admin.company_id,
        MeetingState(bans=frozenset({guest_key, f"u:{bob.id}"})),
        Media("m" * 32, "w", [], []),
    )
    service.live[live.id] = live
    service._by_room[room["id"]] = live.id
    try:
        response = await client.delete(f"{V1}/rooms/{room['id']}/bans/{guest_key}", headers=admin.headers)
        assert response.status_code == 204
        assert live.state.bans == {f"u:{bob.id}"}
    finally:
        service.live.clear()
        service._by_room.clear()
