"""Group links: room links for registered users of the company, redeemed for an access right."""

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from control.domain.permissions import Permission as P
from control.services import group_links as group_links_service
from control.store.models import AuditEvent, GroupLink

V1 = "/api/v1"


async def room_of(client, admin, **fields):
    response = await client.post(f"{V1}/rooms", headers=admin.headers, json={"name": "Board", **fields})
    assert response.status_code == 201, response.text
    return response.json()


async def new_link(client, caller, room, **body):
    response = await client.post(f"{V1}/rooms/{room['id']}/group-links", headers=caller.headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def redeem(client, caller, secret):
    return await client.post(f"{V1}/group-link-redemptions", headers=caller.headers, json={"link": secret})


async def role_in(client, admin, room, user) -> str | None:
    access = (await client.get(f"{V1}/rooms/{room['id']}/access", headers=admin.headers, params={"limit": 200})).json()[
        "items"
    ]
    return next((a["role"] for a in access if a["user_id"] == user.id), None)


async def test_redeeming_gives_access_with_the_links_role_once(world, client, app):
    admin = await world.company()
    room = await room_of(client, admin, hidden=True)
    created = await new_link(client, admin, room, name="All hands", role="moderator")
    link, secret = created["link"], created["secret"]
    assert link["role"] == "moderator" and link["user_ids"] is None and link["expires_at"] is None
    assert link["created_by"] == admin.id and link["revoked_at"] is None

    user = await world.user(admin)
    assert (await client.get(f"{V1}/rooms/{room['id']}", headers=user.headers)).status_code == 404  # hidden
    first = await redeem(client, user, secret)
    assert first.status_code == 200, first.text
    assert first.json() == {"room_id": room["id"], "role": "moderator", "changed": True}
    seen = await client.get(f"{V1}/rooms/{room['id']}", headers=user.headers)
    assert seen.status_code == 200 and seen.json()["role"] == "moderator"
    before = await world.audit_count()
    again = await redeem(client, user, secret)
    assert again.json() == {"room_id": room["id"], "role": "moderator", "changed": False}
    assert await world.audit_count() == before

    async with app.state.context() as ctx:
        events = list(
            await ctx.session.scalars(
                select(AuditEvent).where(AuditEvent.target_type == "group_link").order_by(AuditEvent.id)
            )
        )
        stored = (await ctx.session.scalars(select(GroupLink))).one()
    assert [e.action for e in events] == ["group_link.created", "group_link.redeemed"]
    assert events[1].actor_user_id == user.id
    assert events[1].before == {"room_id": room["id"], "user_id": user.id, "role": None}
    assert events[1].after == {"room_id": room["id"], "user_id": user.id, "role": "moderator"}
    assert secret not in json.dumps([[e.before, e.after] for e in events])
    assert stored.secret_hash not in json.dumps([[e.before, e.after] for e in events])
    assert secret not in repr(vars(stored)) and len(stored.secret_hash) == 64


async def test_a_link_never_lowers_a_role_but_raises_one(world, client):
    admin = await world.company()
    room = await room_of(client, admin)
    participant_link = (await new_link(client, admin, room))["secret"]
    moderator_link = (await new_link(client, admin, room, role="moderator"))["secret"]
    organizer = await world.user(admin)
    await client.put(
        f"{V1}/rooms/{room['id']}/access/{organizer.id}", headers=admin.headers, json={"role": "organizer"}
    )
    assert (await redeem(client, organizer, moderator_link)).json()["role"] == "organizer"
    assert (await redeem(client, organizer, participant_link)).json()["changed"] is False
    assert await role_in(client, admin, room, organizer) == "organizer"

    user = await world.user(admin)
    assert (await redeem(client, user, participant_link)).json()["role"] == "participant"
    raised = (await redeem(client, user, moderator_link)).json()
    assert raised == {"room_id": room["id"], "role": "moderator", "changed": True}
    assert (await redeem(client, user, participant_link)).json() == {
        "room_id": room["id"],
        "role": "moderator",
        "changed": False,
    }


async def test_organizer_links_do_not_exist(world, client):
    admin = await world.company()
    room = await room_of(client, admin)
    before = await world.audit_count()
    response = await client.post(
        f"{V1}/rooms/{room['id']}/group-links", headers=admin.headers, json={"role": "organizer"}
    )
    assert response.status_code == 422 and response.json()["error"]["details"][0]["field"] == "body.role"
    assert await world.audit_count() == before


async def test_revoked_and_expired_links_are_refused(world, client, app):
    admin = await world.company()
    room = await room_of(client, admin)
    user = await world.user(admin)
    created = await new_link(client, admin, room)
    link_id, secret = created["link"]["id"], created["secret"]
    assert (
        await client.delete(f"{V1}/rooms/{room['id']}/group-links/{link_id}", headers=admin.headers)
    ).status_code == 204
    assert (
        await client.delete(f"{V1}/rooms/{room['id']}/group-links/{link_id}", headers=admin.headers)
    ).status_code == 204  # idempotent
    revoked = await redeem(client, user, secret)
    assert revoked.status_code == 403 and revoked.json()["error"]["code"] == "group_link_revoked"
    got = (await client.get(f"{V1}/rooms/{room['id']}/group-links/{link_id}", headers=admin.headers)).json()
    assert got["revoked_at"] is not None

    soon = datetime.now(UTC) + timedelta(minutes=5)
    expiring = await new_link(client, admin, room, expires_at=soon.isoformat())
    assert datetime.fromisoformat(expiring["link"]["expires_at"]) == soon
    assert (await redeem(client, user, expiring["secret"])).status_code == 200
    later = await world.user(admin)
    async with app.state.context() as ctx:  # move the expiry into the past
        row = await ctx.session.get(GroupLink, expiring["link"]["id"])
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        await ctx.session.commit()
    before = await world.audit_count()
    expired = await redeem(client, later, expiring["secret"])
    assert expired.status_code == 403 and expired.json()["error"]["code"] == "group_link_expired"
    assert await role_in(client, admin, room, later) is None and await world.audit_count() == before

    past = await client.post(
        f"{V1}/rooms/{room['id']}/group-links", headers=admin.headers, json={"expires_at": "2001-01-01T00:00:00Z"}
    )
    assert past.status_code == 409 and past.json()["error"]["code"] == "expiry_in_past"
    for bad in ("2030-01-01T00:00:00", "2030-01-01", 1900000000, "9999-12-31T23:59:59-10:00"):
        response = await client.post(
            f"{V1}/rooms/{room['id']}/group-links", headers=admin.headers, json={"expires_at": bad}
        )
        assert response.status_code == 422, bad


async def test_a_link_limited_to_users_refuses_the_others(world, client):
    admin = await world.company()
    room = await room_of(client, admin)
    listed, other = await world.user(admin), await world.user(admin)
    created = await new_link(client, admin, room, user_ids=[listed.id, listed.id])
    assert created["link"]["user_ids"] == [listed.id]
    refused = await redeem(client, other, created["secret"])
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "group_link_not_for_you"
    assert (await redeem(client, listed, created["secret"])).status_code == 200
    assert await role_in(client, admin, room, other) is None

    foreigner = await world.company()
    unknown = await client.post(
        f"{V1}/rooms/{room['id']}/group-links", headers=admin.headers, json={"user_ids": [foreigner.id]}
    )
    assert unknown.status_code == 404
    assert (
        await client.post(f"{V1}/rooms/{room['id']}/group-links", headers=admin.headers, json={"user_ids": []})
    ).status_code == 422


async def test_another_companys_users_keys_and_guests_cannot_redeem(world, client):
    admin = await world.company()
    room = await room_of(client, admin)
    secret = (await new_link(client, admin, room))["secret"]
    foreign = await world.company()
    for caller in (foreign, await world.api_key(foreign, foreign)):
        response = await redeem(client, caller, secret)
        assert response.status_code == 404 and response.json()["error"]["code"] == "group_link_not_found"
    unknown = await redeem(client, admin, "x" * 43)
    assert unknown.status_code == 404
    assert (await client.post(f"{V1}/group-link-redemptions", json={"link": secret})).status_code == 401

    invitation = (
        await client.post(f"{V1}/rooms/{room['id']}/invitations", headers=admin.headers, json={"invitee_name": "Guest"})
    ).json()["invitation"]
    guest = (
        await client.post(f"{V1}/invitation-redemptions", json={"invitation": invitation, "browser": "b" * 32})
    ).json()["guest_token"]
    response = await client.post(
        f"{V1}/group-link-redemptions", headers={"Authorization": f"Bearer {guest}"}, json={"link": secret}
    )
    assert response.status_code == 401


async def test_an_api_key_redeems_for_its_user_profile(world, client):
    admin = await world.company()
    room = await room_of(client, admin)
    profile = await world.user(admin)
    key = await world.api_key(admin, profile)
    secret = (await new_link(client, admin, room))["secret"]
    assert (await redeem(client, key, secret)).json()["changed"] is True
    assert await role_in(client, admin, room, profile) == "participant"


async def test_the_rooms_organizer_manages_links_and_others_do_not(world, client):
    admin = await world.company()
    room = await room_of(client, admin)
    organizer = await world.user(admin)
    await client.put(
        f"{V1}/rooms/{room['id']}/access/{organizer.id}", headers=admin.headers, json={"role": "organizer"}
    )
    created = await new_link(client, organizer, room, role="moderator")
    listed = (await client.get(f"{V1}/rooms/{room['id']}/group-links", headers=organizer.headers)).json()
    assert [link["id"] for link in listed["items"]] == [created["link"]["id"]]
    assert created["secret"] not in json.dumps(listed)

    moderator = await world.user(admin)
    await client.put(
        f"{V1}/rooms/{room['id']}/access/{moderator.id}", headers=admin.headers, json={"role": "moderator"}
    )
    lister = await world.user(admin, [P.LIST_ALL_ROOMS, P.CREATE_ROOM, P.ADMINISTRATE_USERS])
    for caller in (moderator, lister):
        for method, path in (
            ("GET", ""),
            ("POST", ""),
            ("GET", "/" + created["link"]["id"]),
            ("DELETE", "/" + created["link"]["id"]),
        ):
            response = await client.request(
                method,
                f"{V1}/rooms/{room['id']}/group-links{path}",
                headers=caller.headers,
                json={} if method == "POST" else None,
            )
            assert response.status_code == 403, (method, path, response.text)
            assert response.json()["error"]["code"] == "room_administration_required"
    stranger = await world.user(admin)
    hidden = await room_of(client, admin, name="Secret", hidden=True)
    assert (await client.get(f"{V1}/rooms/{hidden['id']}/group-links", headers=stranger.headers)).status_code == 404
    # A link of another room is not found under this one.
    other = await room_of(client, admin, name="Other")
    assert (
        await client.get(f"{V1}/rooms/{other['id']}/group-links/{created['link']['id']}", headers=admin.headers)
    ).status_code == 404


async def test_listing_pages_newest_first_and_rooms_take_their_links_along(world, client, app, monkeypatch):
    monkeypatch.setattr(group_links_service, "MAX_LINKS_PER_ROOM", 3)
    admin = await world.company()
    room = await room_of(client, admin)
    ids = [(await new_link(client, admin, room, name=f"L{n}"))["link"]["id"] for n in range(3)]
    full = await client.post(f"{V1}/rooms/{room['id']}/group-links", headers=admin.headers, json={})
    assert full.status_code == 409 and full.json()["error"]["code"] == "quota_exceeded"
    await client.delete(f"{V1}/rooms/{room['id']}/group-links/{ids[0]}", headers=admin.headers)
    ids.append((await new_link(client, admin, room, name="L3"))["link"]["id"])
    page = (
        await client.get(
            f"{V1}/rooms/{room['id']}/group-links", headers=admin.headers, params={"offset": 1, "limit": 2}
        )
    ).json()
    assert page["total"] == 4 and len(page["items"]) == 2
    everything = (await client.get(f"{V1}/rooms/{room['id']}/group-links", headers=admin.headers)).json()["items"]
    assert {link["id"] for link in everything} == set(ids)
    assert [link["created_at"] for link in everything] == sorted(
        (link["created_at"] for link in everything), reverse=True
    )
    assert (await client.delete(f"{V1}/rooms/{room['id']}", headers=admin.headers)).status_code == 204
    async with app.state.context() as ctx:
        assert (await ctx.session.scalars(select(GroupLink))).all() == []
