"""Rooms over HTTP: creation within quotas, features, access rights, hidden rooms."""

from control.domain.permissions import Permission as P

V1 = "/api/v1"


async def room(client, caller, **fields):
    response = await client.post(f"{V1}/rooms", headers=caller.headers, json={"name": "Room", **fields})
    assert response.status_code == 201, response.text
    return response.json()


async def names(client, caller, **params):
    return [r["name"] for r in (await client.get(f"{V1}/rooms", headers=caller.headers, params=params)).json()["items"]]


async def test_create_with_features_and_defaults(world, client):
    admin = await world.company(max_participants=40)
    created = await room(client, admin, name="Board", waiting_room=True, chat=False, screen_share=False)
    assert created | {"id": None, "created_at": None} == {
        "id": None,
        "created_at": None,
        "name": "Board",
        "department_id": None,
        "hidden": False,
        "waiting_room": True,
        "chat": False,
        "screen_share": False,
        "participants_may_start": False,
        "participants_add_materials": False,
        "max_participants": 40,
        "role": "organizer",
        "online": 0,
    }


async def test_participants_may_start_is_a_room_setting(world, client):
    admin = await world.company()
    created = await room(client, admin, participants_may_start=True)
    assert created["participants_may_start"] is True
    updated = await client.patch(
        f"{V1}/rooms/{created['id']}", headers=admin.headers, json={"participants_may_start": False}
    )
    assert updated.status_code == 200 and updated.json()["participants_may_start"] is False


async def test_invited_users_without_a_password_can_be_given_room_access(world, client):
    admin = await world.company()
    invited = await client.post(f"{V1}/users", headers=admin.headers, json={"email": "new@x.io", "name": "New"})
    assert invited.status_code == 201 and invited.json()["user"]["pending"] is True
    user_id = invited.json()["user"]["id"]
    r = await room(client, admin)
    granted = await client.put(
        f"{V1}/rooms/{r['id']}/access/{user_id}", headers=admin.headers, json={"role": "moderator"}
    )
    assert granted.status_code == 204
    access = (await client.get(f"{V1}/rooms/{r['id']}/access", headers=admin.headers)).json()["items"]
    assert (user_id, "moderator") in {(a["user_id"], a["role"]) for a in access}


async def test_quotas_bound_rooms_and_their_size(world, client):
    admin = await world.company(max_rooms=1, max_participants=10)
    too_big = await client.post(f"{V1}/rooms", headers=admin.headers, json={"name": "Big", "max_participants": 11})
    assert too_big.status_code == 409 and too_big.json()["error"]["code"] == "room_size_exceeds_quota"
    await room(client, admin)
    full = await client.post(f"{V1}/rooms", headers=admin.headers, json={"name": "Two"})
    assert full.status_code == 409 and full.json()["error"]["code"] == "quota_exceeded"


async def test_hidden_rooms_are_absent_without_access(world, client):
    admin = await world.company()
    lister = await world.user(admin, [P.LIST_ALL_ROOMS])
    member = await world.user(admin)
    secret = await room(client, admin, name="Secret board", hidden=True)
    await room(client, admin, name="Open board")
    assert await names(client, lister) == ["Open board"]
    assert await names(client, lister, q="secret") == []
    assert (await client.get(f"{V1}/rooms/{secret['id']}", headers=lister.headers)).status_code == 404
    assert await names(client, member) == []
    await client.put(
        f"{V1}/rooms/{secret['id']}/access/{member.id}", headers=admin.headers, json={"role": "participant"}
    )
    assert await names(client, member, q="SECRET") == ["Secret board"]
    assert (await client.get(f"{V1}/rooms/{secret['id']}", headers=member.headers)).json()["role"] == "participant"
    assert await names(client, admin) == ["Open board", "Secret board"]


async def test_organizers_administer_their_rooms_only(world, client):
    admin = await world.company()
    creator = await world.user(admin, [P.CREATE_ROOM, P.LIST_ALL_ROOMS])
    own = await room(client, creator, name="Mine")
    other = await room(client, admin, name="Theirs")
    assert (await client.patch(f"{V1}/rooms/{own['id']}", headers=creator.headers, json={"waiting_room": True})).json()[
        "waiting_room"
    ] is True
    refused = await client.patch(f"{V1}/rooms/{other['id']}", headers=creator.headers, json={"chat": False})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "room_administration_required"
    moderator = await world.user(admin)
    await client.put(
        f"{V1}/rooms/{own['id']}/access/{moderator.id}", headers=creator.headers, json={"role": "moderator"}
    )
    assert (await client.delete(f"{V1}/rooms/{own['id']}", headers=moderator.headers)).status_code == 403
    access = (await client.get(f"{V1}/rooms/{own['id']}/access", headers=creator.headers)).json()["items"]
    assert {(a["user_id"], a["role"]) for a in access} == {(creator.id, "organizer"), (moderator.id, "moderator")}
    assert (await client.delete(f"{V1}/rooms/{own['id']}", headers=creator.headers)).status_code == 204


async def test_access_rights_need_a_user_of_the_company_and_a_known_role(world, client):
    admin = await world.company()
    foreign = await world.company()
    r = await room(client, admin)
    assert (
        await client.put(f"{V1}/rooms/{r['id']}/access/{foreign.id}", headers=admin.headers, json={"role": "moderator"})
    ).status_code == 404
    assert (
        await client.put(f"{V1}/rooms/{r['id']}/access/{admin.id}", headers=admin.headers, json={"role": "guest"})
    ).status_code == 422
    assert (await client.delete(f"{V1}/rooms/{r['id']}/access/{foreign.id}", headers=admin.headers)).status_code == 404


async def test_update_moves_between_departments_and_validates(world, client):
    admin = await world.company(max_participants=20)
    dept = (await client.post(f"{V1}/departments", headers=admin.headers, json={"name": "Sales"})).json()
    r = await room(client, admin)
    moved = await client.patch(f"{V1}/rooms/{r['id']}", headers=admin.headers, json={"department_id": dept["id"]})
    assert moved.json()["department_id"] == dept["id"]
    assert await names(client, admin, department_id=dept["id"]) == ["Room"]
    unknown = await client.patch(f"{V1}/rooms/{r['id']}", headers=admin.headers, json={"department_id": "0" * 32})
    assert unknown.status_code == 404
    assert (
        await client.patch(f"{V1}/rooms/{r['id']}", headers=admin.headers, json={"max_participants": 21})
    ).status_code == 409
    back = await client.patch(f"{V1}/rooms/{r['id']}", headers=admin.headers, json={"department_id": None})
    assert back.json()["department_id"] is None
