"""Login, refresh, logout, invitations and password changes over HTTP."""

from datetime import timedelta

from control.domain.permissions import Permission as P

V1 = "/api/v1"
PASSWORD = "correct horse battery"  # World.password


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def login(client, slug, email, password=PASSWORD):
    return await client.post(f"{V1}/auth/login", json={"company": slug, "email": email, "password": password})


async def test_login_gives_a_short_lived_access_token_and_a_refresh_token(world, client):
    admin = await world.company("acme")
    response = await login(client, "acme", admin.email)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 15 * 60
    assert (await client.get(f"{V1}/me", headers=bearer(body["access_token"]))).json()["email"] == admin.email


async def test_login_refusals_do_not_tell_which_part_was_wrong(world, client):
    admin = await world.company("acme")
    await world.company("other")
    for slug, email, password in [
        ("acme", admin.email, "wrong password"),
        ("nope", admin.email, PASSWORD),
        ("acme", "nobody@acme.example", PASSWORD),
        ("other", admin.email, PASSWORD),
    ]:
        response = await login(client, slug, email, password)
        assert response.status_code == 401
        assert response.json()["error"] == {
            "code": "invalid_credentials",
            "message": "unknown company, email or password",
        }


async def test_credentials_are_checked(client):
    for headers, message in [
        ({}, "missing Authorization header"),
        ({"Authorization": "Basic abc"}, "Authorization header must be 'Bearer <token or API key>'"),
        (bearer("not-a-jwt"), "access token invalid"),
        (bearer("pdm_unknown"), "API key unknown or revoked"),
    ]:
        response = await client.get(f"{V1}/me", headers=headers)
        assert response.status_code == 401 and response.json()["error"]["message"] == message
        assert response.headers["www-authenticate"] == "Bearer"


async def test_expired_and_forged_access_tokens_are_refused(world, client):
    from datetime import UTC, datetime

    from control.security import tokens

    admin = await world.company()
    me = (await client.get(f"{V1}/me", headers=admin.headers)).json()
    claims = tokens.verify(world.token_key, admin.token)
    expired = tokens.issue(world.token_key, claims, timedelta(minutes=1), now=datetime.now(UTC) - timedelta(hours=1))
    forged = tokens.issue("another-key-another-key-another-key!!", claims, timedelta(minutes=5))
    assert (await client.get(f"{V1}/me", headers=bearer(expired))).json()["error"]["message"] == "access token expired"
    assert (await client.get(f"{V1}/me", headers=bearer(forged))).status_code == 401
    assert me["id"] == claims.user_id


async def test_refresh_rotates_the_refresh_token(world, client):
    admin = await world.company("acme")
    first = (await login(client, "acme", admin.email)).json()
    second = await client.post(f"{V1}/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    again = await client.post(f"{V1}/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert again.status_code == 401 and again.json()["error"]["code"] == "invalid_refresh_token"
    third = await client.post(f"{V1}/auth/refresh", json={"refresh_token": second.json()["refresh_token"]})
    assert third.status_code == 200
    assert (await client.get(f"{V1}/me", headers=bearer(third.json()["access_token"]))).status_code == 200


async def test_logout_revokes_the_access_and_refresh_tokens_of_that_session_only(world, client):
    admin = await world.company("acme")
    one = (await login(client, "acme", admin.email)).json()
    two = (await login(client, "acme", admin.email)).json()
    assert (await client.post(f"{V1}/auth/logout", headers=bearer(one["access_token"]))).status_code == 204
    assert (await client.get(f"{V1}/me", headers=bearer(one["access_token"]))).status_code == 401
    assert (await client.post(f"{V1}/auth/refresh", json={"refresh_token": one["refresh_token"]})).status_code == 401
    assert (await client.get(f"{V1}/me", headers=bearer(two["access_token"]))).status_code == 200


async def test_password_change_revokes_every_session(world, client):
    admin = await world.company("acme")
    other = (await login(client, "acme", admin.email)).json()
    wrong = await client.post(
        f"{V1}/auth/password",
        headers=admin.headers,
        json={"current_password": "not it", "new_password": "brand new password"},
    )
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "wrong_password"
    assert (await login(client, "acme", admin.email)).status_code == 200
    response = await client.post(
        f"{V1}/auth/password",
        headers=admin.headers,
        json={"current_password": PASSWORD, "new_password": "brand new password"},
    )
    assert response.status_code == 204
    for token in (admin.token, other["access_token"]):
        assert (await client.get(f"{V1}/me", headers=bearer(token))).status_code == 401
    assert (await client.post(f"{V1}/auth/refresh", json={"refresh_token": other["refresh_token"]})).status_code == 401
    assert (await login(client, "acme", admin.email)).status_code == 401
    assert (await login(client, "acme", admin.email, "brand new password")).status_code == 200


async def test_short_new_password_is_refused(world, client):
    admin = await world.company("acme")
    response = await client.post(
        f"{V1}/auth/password", headers=admin.headers, json={"current_password": PASSWORD, "new_password": "short"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "body.new_password"


async def test_an_invited_user_is_pending_until_it_sets_a_password(world, client):
    admin = await world.company("acme")
    body = {"email": "Bob@Acme.example", "name": "Bob", "permissions": ["create_room"]}
    invited = (await client.post(f"{V1}/users", headers=admin.headers, json=body)).json()
    assert invited["user"]["pending"] is True and invited["user"]["email"] == "bob@acme.example"
    assert (await login(client, "acme", "bob@acme.example", "")).status_code == 422
    assert (await login(client, "acme", "bob@acme.example", "anything at all")).status_code == 401
    accepted = await client.post(
        f"{V1}/auth/accept-invitation",
        json={"invitation_token": invited["invitation_token"], "password": "bobs password"},
    )
    assert accepted.status_code == 200
    me = (await client.get(f"{V1}/me", headers=bearer(accepted.json()["access_token"]))).json()
    assert me["pending"] is False and me["permissions"] == [P.CREATE_ROOM]
    assert (await login(client, "acme", "bob@acme.example", "bobs password")).status_code == 200
    reused = await client.post(
        f"{V1}/auth/accept-invitation",
        json={"invitation_token": invited["invitation_token"], "password": "other password"},
    )
    assert reused.status_code == 401 and reused.json()["error"]["code"] == "invalid_invitation"


async def test_an_expired_invitation_is_refused(world, client, app):
    from sqlalchemy import update

    from control.store.models import User

    admin = await world.company("acme")
    invited = (
        await client.post(f"{V1}/users", headers=admin.headers, json={"email": "late@acme.example", "name": "Late"})
    ).json()
    async with app.state.context() as ctx:
        await ctx.session.execute(
            update(User)
            .where(User.id == invited["user"]["id"])
            .values(invitation_expires_at=ctx.now() - timedelta(seconds=1))
        )
        await ctx.session.commit()
    response = await client.post(
        f"{V1}/auth/accept-invitation",
        json={"invitation_token": invited["invitation_token"], "password": "late password"},
    )
    assert response.status_code == 401


async def test_api_keys_have_no_session(world, client):
    admin = await world.company("acme")
    key = await world.api_key(admin, admin)
    response = await client.post(f"{V1}/auth/logout", headers=key.headers)
    assert response.status_code == 403 and response.json()["error"]["code"] == "session_required"


async def test_login_accepts_the_company_name_in_any_case(world, client):
    admin = await world.company("acme")
    await client.patch(f"{V1}/company", json={"name": "Acme Rockets"}, headers=bearer(admin.token))
    for company in ("Acme Rockets", "acme rockets", "  ACME ROCKETS ", "ACME", " acme"):
        response = await login(client, company, admin.email)
        assert response.status_code == 200, (company, response.text)
    # an unknown name is a wrong company, told apart from nothing else
    response = await login(client, "Acme Missiles", admin.email)
    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_credentials"


async def test_a_name_several_companies_share_asks_for_the_slug(world, client):
    one = await world.company("acme-east")
    two = await world.company("acme-west")
    for actor in (one, two):
        response = await client.patch(f"{V1}/company", json={"name": "Acme"}, headers=bearer(actor.token))
        assert response.status_code == 200
    response = await login(client, "acme", one.email)  # no company has the slug "acme"
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "ambiguous_company",
        "message": "several companies have this name: sign in with your company's slug",
    }
    assert (await login(client, "acme-east", one.email)).status_code == 200
    # a slug wins over a name: a company named like another's slug still signs in by slug
    await client.patch(f"{V1}/company", json={"name": "acme-west"}, headers=bearer(one.token))
    assert (await login(client, "acme-west", two.email)).status_code == 200
