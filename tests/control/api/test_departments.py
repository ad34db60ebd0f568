V1 = "/api/v1"


async def department(client, caller, name, parent_id=None):
    response = await client.post(
        f"{V1}/departments", headers=caller.headers, json={"name": name, "parent_id": parent_id}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_tree_with_moves_and_no_cycles(world, client):
    admin = await world.company()
    top = await department(client, admin, "Top")
    child = await department(client, admin, "Child", top["id"])
    grandchild = await department(client, admin, "Grandchild", child["id"])
    cycle = await client.patch(
        f"{V1}/departments/{top['id']}", headers=admin.headers, json={"parent_id": grandchild["id"]}
    )
    assert cycle.status_code == 409 and cycle.json()["error"]["code"] == "department_cycle"
    self_parent = await client.patch(
        f"{V1}/departments/{top['id']}", headers=admin.headers, json={"parent_id": top["id"]}
    )
    assert self_parent.status_code == 409
    moved = await client.patch(
        f"{V1}/departments/{grandchild['id']}", headers=admin.headers, json={"parent_id": None, "name": "Now top"}
    )
    assert moved.json() == {"id": grandchild["id"], "name": "Now top", "parent_id": None}
    listed = (await client.get(f"{V1}/departments", headers=admin.headers)).json()["items"]
    assert [d["name"] for d in listed] == ["Child", "Now top", "Top"]


async def test_only_empty_departments_are_deleted(world, client):
    admin = await world.company()
    top = await department(client, admin, "Top")
    child = await department(client, admin, "Child", top["id"])
    busy = await client.delete(f"{V1}/departments/{top['id']}", headers=admin.headers)
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "department_not_empty"
    assert (await client.delete(f"{V1}/departments/{child['id']}", headers=admin.headers)).status_code == 204
    assert (await client.delete(f"{V1}/departments/{top['id']}", headers=admin.headers)).status_code == 204


async def test_unknown_parent_is_invalid(world, client):
    admin = await world.company()
    foreign = await world.company()
    theirs = await department(client, foreign, "Theirs")
    response = await client.post(
        f"{V1}/departments", headers=admin.headers, json={"name": "X", "parent_id": theirs["id"]}
    )
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
