"""Add-ins: the company's registry of integrations (Manage company settings)."""

import json

import pytest
from sqlalchemy import select

from control.domain.permissions import Permission as P
from control.services import addins as addins_service
from control.store.models import AddIn, AuditEvent

V1 = "/api/v1"
HOOK = {"name": "Ticketing", "kind": "webhook", "url": "https://hooks.example.com/services/T0/B0/tok3n?x=1"}


async def audit_rows(app) -> list[AuditEvent]:
    async with app.state.context() as ctx:
        return list(
            await ctx.session.scalars(
                select(AuditEvent).where(AuditEvent.target_type == "add_in").order_by(AuditEvent.id)
            )
        )


async def test_create_list_get_update_delete(world, client, app):
    admin = await world.company()
    created = await client.post(f"{V1}/add-ins", headers=admin.headers, json=HOOK)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"] is None
    add_in = body["add_in"]
    assert add_in["url"] == HOOK["url"] and add_in["enabled"] is True and add_in["has_secret"] is False
    link = await client.post(
        f"{V1}/add-ins",
        headers=admin.headers,
        json={"name": "Booking", "kind": "link", "url": "http://book.example/", "enabled": False},
    )
    assert link.status_code == 201

    listed = (await client.get(f"{V1}/add-ins", headers=admin.headers)).json()
    assert [a["name"] for a in listed["items"]] == ["Booking", "Ticketing"] and listed["total"] == 2
    page = (await client.get(f"{V1}/add-ins", headers=admin.headers, params={"offset": 1, "limit": 1})).json()
    assert [a["name"] for a in page["items"]] == ["Ticketing"] and page["total"] == 2
    only = (await client.get(f"{V1}/add-ins", headers=admin.headers, params={"kind": "webhook"})).json()
    assert [a["name"] for a in only["items"]] == ["Ticketing"]
    enabled = (await client.get(f"{V1}/add-ins", headers=admin.headers, params={"enabled": "false"})).json()
    assert [a["name"] for a in enabled["items"]] == ["Booking"]

    got = await client.get(f"{V1}/add-ins/{add_in['id']}", headers=admin.headers)
    assert got.json() == add_in
    patched = await client.patch(
        f"{V1}/add-ins/{add_in['id']}",
        headers=admin.headers,
        json={"enabled": False, "url": "https://hooks.example.com/v2"},
    )
    assert patched.status_code == 200 and patched.json()["enabled"] is False
    assert patched.json()["url"] == "https://hooks.example.com/v2"
    assert patched.json()["updated_at"] >= add_in["updated_at"]

    assert (await client.delete(f"{V1}/add-ins/{add_in['id']}", headers=admin.headers)).status_code == 204
    assert (await client.get(f"{V1}/add-ins/{add_in['id']}", headers=admin.headers)).status_code == 404
    assert (await client.delete(f"{V1}/add-ins/{add_in['id']}", headers=admin.headers)).status_code == 404

    actions = [e.action for e in await audit_rows(app)]
    assert actions == ["add_in.created", "add_in.created", "add_in.updated", "add_in.deleted"]


async def test_the_secret_is_shown_once_stored_hashed_and_never_audited(world, client, app):
    admin = await world.company()
    created = (await client.post(f"{V1}/add-ins", headers=admin.headers, json={**HOOK, "secret": True})).json()
    secret, add_in_id = created["secret"], created["add_in"]["id"]
    assert len(secret) >= 40 and created["add_in"]["has_secret"] is True
    assert secret not in (await client.get(f"{V1}/add-ins", headers=admin.headers)).text
    assert secret not in (await client.get(f"{V1}/add-ins/{add_in_id}", headers=admin.headers)).text

    rotated = await client.post(f"{V1}/add-ins/{add_in_id}/secret", headers=admin.headers)
    assert rotated.status_code == 201
    new_secret = rotated.json()["secret"]
    assert new_secret != secret and rotated.json()["add_in"]["has_secret"] is True
    async with app.state.context() as ctx:
        stored = (await ctx.session.scalars(select(AddIn))).one()
        assert new_secret not in repr(vars(stored)) and len(stored.secret_hash) == 64
        hashes = [stored.secret_hash]

    assert (await client.delete(f"{V1}/add-ins/{add_in_id}/secret", headers=admin.headers)).status_code == 204
    assert (await client.get(f"{V1}/add-ins/{add_in_id}", headers=admin.headers)).json()["has_secret"] is False
    assert (await client.delete(f"{V1}/add-ins/{add_in_id}/secret", headers=admin.headers)).status_code == 204

    events = await audit_rows(app)
    assert [e.action for e in events] == ["add_in.created", "add_in.secret_rotated", "add_in.secret_removed"]
    text = json.dumps([[e.before, e.after] for e in events])
    for hidden in (secret, new_secret, *hashes, "tok3n"):
        assert hidden not in text
    assert events[0].after["url_origin"] == "https://hooks.example.com" and events[0].after["has_secret"] is True
    csv = (await client.get(f"{V1}/audit-events.csv", headers=admin.headers)).text
    assert secret not in csv and new_secret not in csv and "tok3n" not in csv


async def test_a_url_change_is_audited_by_fingerprint(world, client, app):
    admin = await world.company()
    add_in = (await client.post(f"{V1}/add-ins", headers=admin.headers, json=HOOK)).json()["add_in"]
    await client.patch(
        f"{V1}/add-ins/{add_in['id']}",
        headers=admin.headers,
        json={"url": "https://hooks.example.com/services/T0/B0/other"},
    )
    event = (await audit_rows(app))[-1]
    assert event.action == "add_in.updated"
    assert event.before["url_sha256"] != event.after["url_sha256"]
    assert event.before["url_origin"] == event.after["url_origin"]
    # Nothing changed: nothing audited.
    await client.patch(f"{V1}/add-ins/{add_in['id']}", headers=admin.headers, json={"name": "Ticketing"})
    assert len(await audit_rows(app)) == 2


@pytest.mark.parametrize(
    "url",
    [
        "ftp://files.example/",
        "javascript:alert(1)",
        "https://",
        "http:///path",
        "https://user:pw@x.example/",
        "https://x.example:99999/",
        "https://x.example:0/",
        "http://[::1",
        "https://x.example/a b",
        "x" * 2001,
        "//x.example/",
        "https://x.example/\x00",
        "https://[::1]/",
        "https://x.example:/",
        "https://exämple.com/",
    ],
)
async def test_urls_other_than_http_and_https_are_refused(world, client, app, url):
    admin = await world.company()
    response = await client.post(f"{V1}/add-ins", headers=admin.headers, json={**HOOK, "url": url})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"][0]["field"] == "body.url"
    assert (await client.get(f"{V1}/add-ins", headers=admin.headers)).json()["total"] == 0


async def test_names_are_unique_within_a_company_and_kinds_are_known(world, client):
    admin = await world.company()
    other = await world.company()
    assert (await client.post(f"{V1}/add-ins", headers=admin.headers, json=HOOK)).status_code == 201
    taken = await client.post(f"{V1}/add-ins", headers=admin.headers, json={**HOOK, "kind": "link"})
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "add_in_name_taken"
    assert (await client.post(f"{V1}/add-ins", headers=other.headers, json=HOOK)).status_code == 201
    second = (await client.post(f"{V1}/add-ins", headers=admin.headers, json={**HOOK, "name": "Other"})).json()
    renamed = await client.patch(
        f"{V1}/add-ins/{second['add_in']['id']}", headers=admin.headers, json={"name": "Ticketing"}
    )
    assert renamed.status_code == 409
    plugin = await client.post(f"{V1}/add-ins", headers=admin.headers, json={**HOOK, "kind": "plugin"})
    assert plugin.status_code == 422


async def test_a_company_holds_a_bounded_number_of_add_ins(world, client, monkeypatch):
    monkeypatch.setattr(addins_service, "MAX_ADD_INS", 2)
    admin = await world.company()
    for n in range(2):
        assert (
            await client.post(f"{V1}/add-ins", headers=admin.headers, json={**HOOK, "name": f"A{n}"})
        ).status_code == 201
    full = await client.post(f"{V1}/add-ins", headers=admin.headers, json={**HOOK, "name": "A3"})
    assert full.status_code == 409 and full.json()["error"]["code"] == "quota_exceeded"


async def test_only_settings_managers_and_only_their_company(world, client):
    a = await world.company()
    b = await world.company()
    add_in = (await client.post(f"{V1}/add-ins", headers=a.headers, json=HOOK)).json()["add_in"]
    rooms_admin = await world.user(a, [P.ADMINISTRATE_ROOMS, P.ADMINISTRATE_USERS, P.SHOW_ALL_USERNAMES])
    for caller in (rooms_admin, await world.api_key(a, rooms_admin)):
        response = await client.get(f"{V1}/add-ins", headers=caller.headers)
        assert response.status_code == 403 and response.json()["error"]["code"] == "permission_required"
    for caller in (b, await world.api_key(b, b)):
        assert (await client.get(f"{V1}/add-ins/{add_in['id']}", headers=caller.headers)).status_code == 404
        assert (
            await client.patch(f"{V1}/add-ins/{add_in['id']}", headers=caller.headers, json={"enabled": False})
        ).status_code == 404
        assert (await client.get(f"{V1}/add-ins", headers=caller.headers)).json()["total"] == 0
    settings_key = await world.api_key(a, a)
    assert (await client.get(f"{V1}/add-ins", headers=settings_key.headers)).json()["total"] == 1
