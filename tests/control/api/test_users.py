"""Users and permissions over HTTP: invitations, lists, edits, deletion, grants and revocations."""

from control.domain.permissions import Permission as P

V1 = "/api/v1"


async def test_invite_with_permissions_the_inviter_holds(world, client):
    admin = await world.company()
    response = await client.post(
        f"{V1}/users",
        headers=admin.headers,
        json={"email": "r@x.io", "name": "Rooms", "permissions": ["administrate_rooms"]},
    )
    assert response.status_code == 201
    assert set(response.json()["user"]["permissions"]) == {"administrate_rooms", "list_all_rooms", "create_room"}


async def test_invite_refused_for_permissions_not_held_and_nothing_written(world, client):
    admin = await world.company()
    user_admin = await world.user(admin, [P.ADMINISTRATE_USERS])
    before = await world.audit_count()
    for permission, code in [
        ("create_room", "permission_not_held"),
        ("manage_company_settings", "manage_company_settings_required"),
    ]:
        response = await client.post(
            f"{V1}/users",
            headers=user_admin.headers,
            json={"email": "n@x.io", "name": "N", "permissions": [permission]},
        )
        assert response.status_code == 403 and response.json()["error"]["code"] == code
    assert await world.audit_count() == before
    assert (await client.get(f"{V1}/users", headers=admin.headers, params={"q": "n@x.io"})).json()["total"] == 0


async def test_duplicate_email_and_user_quota_conflict(world, client):
    admin = await world.company(max_users=2)
    body = {"email": "dup@x.io", "name": "Dup"}
    assert (await client.post(f"{V1}/users", headers=admin.headers, json=body)).status_code == 201
    response = await client.post(f"{V1}/users", headers=admin.headers, json={**body, "email": "DUP@x.io"})
    assert response.status_code == 409 and response.json()["error"]["code"] == "quota_exceeded"
    # With room in the quota, the duplicate is what conflicts.
    admin2 = await world.company()
    assert (await client.post(f"{V1}/users", headers=admin2.headers, json=body)).status_code == 201
    response = await client.post(f"{V1}/users", headers=admin2.headers, json={**body, "email": "DUP@x.io"})
    assert response.status_code == 409 and response.json()["error"]["code"] == "email_taken"


async def test_list_pages_and_filters(world, client):
    admin = await world.company()
    for n in range(4):
        await client.post(f"{V1}/users", headers=admin.headers, json={"email": f"p{n}@x.io", "name": f"P{n}"})
    page = (await client.get(f"{V1}/users", headers=admin.headers, params={"limit": 2, "offset": 1})).json()
    assert page["total"] == 5 and len(page["items"]) == 2 and (page["offset"], page["limit"]) == (1, 2)
    pending = (await client.get(f"{V1}/users", headers=admin.headers, params={"pending": "true"})).json()
    assert pending["total"] == 4 and all(u["pending"] for u in pending["items"])
    bad = await client.get(f"{V1}/users", headers=admin.headers, params={"limit": 0})
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "query.limit"


async def test_anyone_reads_themselves_but_others_need_list_all_users(world, client):
    admin = await world.company()
    plain = await world.user(admin)
    assert (await client.get(f"{V1}/users/{plain.id}", headers=plain.headers)).status_code == 200
    assert (await client.get(f"{V1}/users/{admin.id}", headers=plain.headers)).status_code == 403
    renamed = await client.patch(f"{V1}/me", headers=plain.headers, json={"name": "  Plain Jane "})
    assert renamed.json()["name"] == "Plain Jane"
    own_email = await client.patch(f"{V1}/users/{plain.id}", headers=plain.headers, json={"email": "x@y.zz"})
    assert own_email.status_code == 403


async def test_acting_on_a_user_needs_holding_its_permissions(world, client):
    admin = await world.company()
    user_admin = await world.user(admin, [P.ADMINISTRATE_USERS])
    for method, path in [
        ("PATCH", f"/users/{admin.id}"),
        ("DELETE", f"/users/{admin.id}"),
        ("POST", f"/users/{admin.id}/password-reset"),
    ]:
        response = await client.request(
            method, V1 + path, headers=user_admin.headers, json={"name": "Mallory"} if method == "PATCH" else None
        )
        assert response.status_code == 403 and response.json()["error"]["code"] == "permissions_exceed_yours"


async def test_nobody_deletes_or_resets_themselves(world, client):
    admin = await world.company()
    for method, path in [("DELETE", f"/users/{admin.id}"), ("POST", f"/users/{admin.id}/password-reset")]:
        response = await client.request(method, V1 + path, headers=admin.headers)
        assert response.status_code == 403 and response.json()["error"]["code"] == "own_account"


async def test_edit_email_conflicts_with_another_user(world, client):
    admin = await world.company()
    one, two = await world.user(admin), await world.user(admin)
    response = await client.patch(f"{V1}/users/{one.id}", headers=admin.headers, json={"email": two.email})
    assert response.status_code == 409 and response.json()["error"]["code"] == "email_taken"
    response = await client.patch(f"{V1}/users/{one.id}", headers=admin.headers, json={"email": "NEW@x.io"})
    assert response.json()["email"] == "new@x.io"


async def test_delete_ends_the_users_sessions_and_keys(world, client):
    admin = await world.company()
    user = await world.user(admin, [P.CREATE_ROOM])
    key = await world.api_key(admin, user)
    assert (await client.delete(f"{V1}/users/{user.id}", headers=admin.headers)).status_code == 204
    for caller in (user, key):
        assert (await client.get(f"{V1}/me", headers=caller.headers)).status_code == 401
    assert (await client.get(f"{V1}/users/{user.id}", headers=admin.headers)).status_code == 404
    assert (await client.delete(f"{V1}/users/{user.id}", headers=admin.headers)).status_code == 404


async def test_password_reset_makes_the_user_pending_with_a_new_invitation(world, client):
    admin = await world.company()
    user = await world.user(admin)
    reset = await client.post(f"{V1}/users/{user.id}/password-reset", headers=admin.headers)
    assert reset.status_code == 200 and reset.json()["user"]["pending"] is True
    assert (await client.get(f"{V1}/me", headers=user.headers)).status_code == 401
    accepted = await client.post(
        f"{V1}/auth/accept-invitation",
        json={"invitation_token": reset.json()["invitation_token"], "password": "fresh start"},
    )
    assert accepted.status_code == 200


async def test_grant_and_revoke_apply_at_once(world, client):
    admin = await world.company()
    user = await world.user(admin)
    assert (await client.get(f"{V1}/users", headers=user.headers)).status_code == 403
    granted = await client.put(f"{V1}/users/{user.id}/permissions/administrate_users", headers=admin.headers)
    assert granted.status_code == 200 and granted.json()["permissions"] == ["administrate_users", "list_all_users"]
    assert (await client.get(f"{V1}/users", headers=user.headers)).status_code == 200
    implied = await client.delete(f"{V1}/users/{user.id}/permissions/list_all_users", headers=admin.headers)
    assert implied.status_code == 409 and implied.json()["error"]["code"] == "permission_implied_by_parent"
    revoked = await client.delete(f"{V1}/users/{user.id}/permissions/administrate_users", headers=admin.headers)
    assert revoked.json()["permissions"] == []
    assert (await client.get(f"{V1}/users", headers=user.headers)).status_code == 403


async def test_permission_change_refusals(world, client):
    admin = await world.company()
    user_admin = await world.user(admin, [P.ADMINISTRATE_USERS])
    target = await world.user(admin)
    cases = [
        (user_admin, "PUT", target.id, "manage_company_settings", "manage_company_settings_required"),
        (user_admin, "PUT", target.id, "create_room", "permission_not_held"),
        (user_admin, "DELETE", user_admin.id, "list_all_users", "own_permissions"),
        (admin, "DELETE", admin.id, "create_room", "own_permissions"),
        (target, "PUT", target.id, "create_room", "administrate_users_required"),
    ]
    before = await world.audit_count()
    for caller, method, user_id, permission, code in cases:
        response = await client.request(
            method, f"{V1}/users/{user_id}/permissions/{permission}", headers=caller.headers
        )
        assert response.status_code == 403 and response.json()["error"]["code"] == code, (code, response.text)
    assert await world.audit_count() == before
    unknown = await client.put(f"{V1}/users/{target.id}/permissions/fly", headers=admin.headers)
    assert unknown.status_code == 404
