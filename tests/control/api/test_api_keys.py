"""API keys act as their user profile, exactly."""

from control.domain.permissions import Permission as P

V1 = "/api/v1"


async def test_a_create_rooms_only_key_creates_rooms_and_nothing_else(world, client):
    admin = await world.company()
    profile = await world.user(admin, [P.CREATE_ROOM], name="Calendar integration")
    key = await world.api_key(admin, profile)
    assert key.token.startswith("pdm_")
    created = await client.post(f"{V1}/rooms", headers=key.headers, json={"name": "Weekly"})
    assert created.status_code == 201 and created.json()["role"] == "organizer"
    assert (await client.get(f"{V1}/users", headers=key.headers)).status_code == 403
    assert (await client.post(f"{V1}/departments", headers=key.headers, json={"name": "D"})).status_code == 403
    event = (await client.get(f"{V1}/audit-events", headers=admin.headers, params={"action": "room.created"})).json()[
        "items"
    ][0]
    assert event["actor_user_id"] == profile.id and event["actor_api_key_id"] is not None


async def test_the_secret_is_shown_once_stored_hashed_and_last_use_recorded(world, client, app):
    from sqlalchemy import select

    from control.store.models import ApiKey

    admin = await world.company()
    created = (
        await client.post(f"{V1}/api-keys", headers=admin.headers, json={"name": "ci", "user_id": admin.id})
    ).json()
    secret, key_id = created["secret"], created["key"]["id"]
    assert created["key"]["last_used_at"] is None
    listed = await client.get(f"{V1}/api-keys", headers=admin.headers)
    assert secret not in listed.text and listed.json()["total"] == 1
    async with app.state.context() as ctx:
        stored = (await ctx.session.scalars(select(ApiKey))).one()
        assert secret not in repr(vars(stored)) and len(stored.secret_hash) == 64
    await client.get(f"{V1}/me", headers={"Authorization": f"Bearer {secret}"})
    assert (await client.get(f"{V1}/api-keys/{key_id}", headers=admin.headers)).json()["last_used_at"] is not None


async def test_revoked_keys_stop_working(world, client):
    admin = await world.company()
    key = await world.api_key(admin, admin)
    key_id = (await client.get(f"{V1}/api-keys", headers=admin.headers)).json()["items"][0]["id"]
    assert (await client.delete(f"{V1}/api-keys/{key_id}", headers=key.headers)).status_code == 204
    response = await client.get(f"{V1}/me", headers=key.headers)
    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_api_key"
    assert (await client.get(f"{V1}/api-keys/{key_id}", headers=admin.headers)).json()["revoked_at"] is not None
    assert (await client.delete(f"{V1}/api-keys/{key_id}", headers=admin.headers)).status_code == 204


async def test_a_key_follows_its_profiles_permissions(world, client):
    admin = await world.company()
    profile = await world.user(admin, [P.LIST_ALL_USERS])
    key = await world.api_key(admin, profile)
    assert (await client.get(f"{V1}/users", headers=key.headers)).status_code == 200
    await client.delete(f"{V1}/users/{profile.id}/permissions/list_all_users", headers=admin.headers)
    assert (await client.get(f"{V1}/users", headers=key.headers)).status_code == 403


async def test_keys_of_another_company_see_nothing_here(world, client):
    a = await world.company("a")
    b = await world.company("b")
    b_key = await world.api_key(b, b)
    a_key_id = (await client.post(f"{V1}/api-keys", headers=a.headers, json={"name": "k", "user_id": a.id})).json()[
        "key"
    ]["id"]
    assert (await client.get(f"{V1}/api-keys/{a_key_id}", headers=b_key.headers)).status_code == 404
    assert (await client.delete(f"{V1}/api-keys/{a_key_id}", headers=b_key.headers)).status_code == 404
    assert (await client.get(f"{V1}/users/{a.id}", headers=b_key.headers)).status_code == 404
    listed = (await client.get(f"{V1}/users", headers=b_key.headers)).json()
    assert [u["email"] for u in listed["items"]] == [b.email]
    response = await client.post(f"{V1}/api-keys", headers=b_key.headers, json={"name": "k", "user_id": a.id})
    assert response.status_code == 404
