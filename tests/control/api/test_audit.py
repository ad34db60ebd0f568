import csv
import io

V1 = "/api/v1"


async def test_every_administrative_change_is_logged_with_before_and_after(world, client):
    admin = await world.company()
    user = (await client.post(f"{V1}/users", headers=admin.headers, json={"email": "u@x.io", "name": "U"})).json()
    await client.put(f"{V1}/users/{user['user']['id']}/permissions/create_room", headers=admin.headers)
    room = (await client.post(f"{V1}/rooms", headers=admin.headers, json={"name": "R"})).json()
    await client.patch(f"{V1}/rooms/{room['id']}", headers=admin.headers, json={"chat": False})
    await client.delete(f"{V1}/rooms/{room['id']}", headers=admin.headers)
    events = (await client.get(f"{V1}/audit-events", headers=admin.headers)).json()["items"]
    assert [e["action"] for e in events] == [
        "room.deleted",
        "room.updated",
        "room.created",
        "user.permission_granted",
        "user.invited",
        "user.created",
        "company.created",
    ]
    updated = events[1]
    assert updated["before"]["chat"] is True and updated["after"]["chat"] is False
    granted = events[3]
    assert granted["before"]["permissions"] == [] and granted["after"]["permissions"] == ["create_room"]
    assert all(e["at"].endswith("Z") or "+" in e["at"] for e in events)


async def test_filters_and_pages(world, client):
    admin = await world.company()
    for n in range(3):
        await client.post(f"{V1}/rooms", headers=admin.headers, json={"name": f"R{n}"})
    rooms = (
        await client.get(f"{V1}/audit-events", headers=admin.headers, params={"target_type": "room", "limit": 2})
    ).json()
    assert rooms["total"] == 3 and len(rooms["items"]) == 2
    mine = (await client.get(f"{V1}/audit-events", headers=admin.headers, params={"actor_user_id": admin.id})).json()
    assert mine["total"] == 3
    newest = rooms["items"][0]["at"]
    since = (await client.get(f"{V1}/audit-events", headers=admin.headers, params={"since": newest})).json()
    assert since["total"] == 1
    naive = await client.get(f"{V1}/audit-events", headers=admin.headers, params={"since": "2030-01-01T00:00:00"})
    assert naive.status_code == 422


async def test_csv_export(world, client):
    admin = await world.company()
    await client.patch(f"{V1}/company", headers=admin.headers, json={"name": '=HYPERLINK("x")'})
    response = await client.get(f"{V1}/audit-events.csv", headers=admin.headers, params={"action": "company.updated"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 1 and rows[0]["action"] == "company.updated" and rows[0]["actor_user_id"] == admin.id
    assert '"name": "=HYPERLINK' in rows[0]["after"]  # JSON cells start with '{': no formula


async def test_another_companys_log_is_invisible(world, client):
    a = await world.company()
    b = await world.company()
    await client.post(f"{V1}/rooms", headers=a.headers, json={"name": "A room"})
    listed = (await client.get(f"{V1}/audit-events", headers=b.headers)).json()
    assert {e["action"] for e in listed["items"]} == {"company.created", "user.created"}
    assert "A room" not in (await client.get(f"{V1}/audit-events.csv", headers=b.headers)).text


async def test_actors_and_targets_are_named(world, client):
    admin = await world.company()
    user = (await client.post(f"{V1}/users", headers=admin.headers, json={"email": "u@x.io", "name": "Una"})).json()
    room = (await client.post(f"{V1}/rooms", headers=admin.headers, json={"name": "Board"})).json()
    gone = (await client.post(f"{V1}/rooms", headers=admin.headers, json={"name": "Old room"})).json()
    await client.delete(f"{V1}/rooms/{gone['id']}", headers=admin.headers)
    events = (await client.get(f"{V1}/audit-events", headers=admin.headers)).json()["items"]
    by_action = {(e["action"], e["target_id"]): e for e in events}
    invited = by_action[("user.invited", user["user"]["id"])]
    assert invited["actor_name"] == "Admin" and invited["target_name"] == "Una"
    assert by_action[("room.created", room["id"])]["target_name"] == "Board"
    assert by_action[("room.deleted", gone["id"])]["target_name"] == "Old room"  # from the state it kept
    company = next(e for e in events if e["action"] == "company.created")
    assert company["actor_name"] is None and company["target_name"]
