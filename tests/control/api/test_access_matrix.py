"""Every authenticated endpoint with a permitted caller, a refused caller of the same company (by token
and by API key), and another company's administrator (by token and by API key)."""

from dataclasses import dataclass, field
from typing import Any

import pytest

from control.domain.permissions import ALL, ancestors, closure
from control.domain.permissions import Permission as P

ME = "/api/v1"


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    """With {target}, {room}, {department}, {key}, {add_in}, {link}, {link_secret} standing for company A's
    objects."""
    needs: frozenset[P]
    """What the permitted caller holds; empty: any member of the company."""
    body: dict[str, Any] | None = None
    ok: int = 200
    refused: int = 403
    refused_without: frozenset[P] = field(default_factory=frozenset)
    """Permissions the refused caller lacks (with their ancestors); defaults to `needs`."""


ADMIN_OF_TARGET = {P.ADMINISTRATE_USERS, P.CREATE_ROOM}
"""Acting on a user needs holding what it holds: the target holds Create a room."""


def case(method: str, path: str, needs: set[P] | P | None = None, **options: Any) -> Case:
    needs = {needs} if isinstance(needs, P) else (needs or set())
    return Case(method, path, frozenset(needs), **options)


CASES = [
    case(
        "POST",
        "/auth/password",
        body={"current_password": "correct horse battery", "new_password": "new password 123"},
        ok=204,
    ),
    case("GET", "/me"),
    case("PATCH", "/me", body={"name": "New Name"}),
    case("GET", "/users", P.LIST_ALL_USERS),
    case("POST", "/users", P.ADMINISTRATE_USERS, body={"email": "new@a.example", "name": "New"}, ok=201),
    case("GET", "/users/{target}", P.LIST_ALL_USERS),
    case(
        "PATCH",
        "/users/{target}",
        ADMIN_OF_TARGET,
        refused_without=frozenset({P.ADMINISTRATE_USERS}),
        body={"name": "Renamed"},
    ),
    case("DELETE", "/users/{target}", ADMIN_OF_TARGET, refused_without=frozenset({P.ADMINISTRATE_USERS}), ok=204),
    case("POST", "/users/{target}/password-reset", ADMIN_OF_TARGET, refused_without=frozenset({P.ADMINISTRATE_USERS})),
    case(
        "PUT",
        "/users/{target}/permissions/list_all_rooms",
        {P.ADMINISTRATE_USERS, P.LIST_ALL_ROOMS},
        refused_without=frozenset({P.ADMINISTRATE_USERS}),
    ),
    case(
        "PUT",
        "/users/{target}/permissions/list_all_rooms",
        {P.ADMINISTRATE_USERS, P.LIST_ALL_ROOMS},
        refused_without=frozenset({P.LIST_ALL_ROOMS}),
    ),
    case("DELETE", "/users/{target}/permissions/create_room", {P.ADMINISTRATE_USERS, P.CREATE_ROOM}),
    case("GET", "/company"),
    case("PATCH", "/company", P.MANAGE_COMPANY_SETTINGS, body={"privacy_notice": "We keep nothing."}),
    case("GET", "/api-keys", P.MANAGE_COMPANY_SETTINGS),
    case("POST", "/api-keys", P.MANAGE_COMPANY_SETTINGS, body={"name": "bot", "user_id": "{target}"}, ok=201),
    case("GET", "/api-keys/{key}", P.MANAGE_COMPANY_SETTINGS),
    case("DELETE", "/api-keys/{key}", P.MANAGE_COMPANY_SETTINGS, ok=204),
    case("GET", "/departments"),
    case("POST", "/departments", P.ADMINISTRATE_ROOMS, body={"name": "Sales"}, ok=201),
    case("PATCH", "/departments/{department}", P.ADMINISTRATE_ROOMS, body={"name": "Marketing"}),
    case("DELETE", "/departments/{department}", P.ADMINISTRATE_ROOMS, ok=204),
    case("GET", "/rooms"),
    case("POST", "/rooms", P.CREATE_ROOM, body={"name": "Standup"}, ok=201),
    case("GET", "/rooms/{room}", P.LIST_ALL_ROOMS, refused=404),
    case("PATCH", "/rooms/{room}", P.ADMINISTRATE_ROOMS, body={"chat": False}),
    case("DELETE", "/rooms/{room}", P.ADMINISTRATE_ROOMS, ok=204),
    case("GET", "/rooms/{room}/access", P.ADMINISTRATE_ROOMS),
    case("PUT", "/rooms/{room}/access/{target}", P.ADMINISTRATE_ROOMS, body={"role": "moderator"}, ok=204),
    case("DELETE", "/rooms/{room}/access/{organizer}", P.ADMINISTRATE_ROOMS, ok=204),
    case("GET", "/audit-events", P.MANAGE_COMPANY_SETTINGS),
    case("GET", "/audit-events.csv", P.MANAGE_COMPANY_SETTINGS),
    case("GET", "/add-ins", P.MANAGE_COMPANY_SETTINGS),
    case(
        "POST",
        "/add-ins",
        P.MANAGE_COMPANY_SETTINGS,
        body={"name": "CRM", "kind": "webhook", "url": "https://crm.example/hook", "secret": True},
        ok=201,
    ),
    case("GET", "/add-ins/{add_in}", P.MANAGE_COMPANY_SETTINGS),
    case("PATCH", "/add-ins/{add_in}", P.MANAGE_COMPANY_SETTINGS, body={"enabled": False}),
    case("DELETE", "/add-ins/{add_in}", P.MANAGE_COMPANY_SETTINGS, ok=204),
    case("POST", "/add-ins/{add_in}/secret", P.MANAGE_COMPANY_SETTINGS, ok=201),
    case("DELETE", "/add-ins/{add_in}/secret", P.MANAGE_COMPANY_SETTINGS, ok=204),
    case("GET", "/rooms/{room}/group-links", P.ADMINISTRATE_ROOMS),
    case("POST", "/rooms/{room}/group-links", P.ADMINISTRATE_ROOMS, body={"role": "moderator"}, ok=201),
    case("GET", "/rooms/{room}/group-links/{link}", P.ADMINISTRATE_ROOMS),
    case("DELETE", "/rooms/{room}/group-links/{link}", P.ADMINISTRATE_ROOMS, ok=204),
    case("POST", "/group-link-redemptions", body={"link": "{link_secret}"}),
    case("POST", "/auth/logout", ok=204),
]


SESSION_ONLY = {"/auth/password", "/auth/logout"}
"""A login session's own business: an API key is refused."""


def refused_permissions(c: Case) -> frozenset[P]:
    """Everything except what the case needs (and whatever would imply it)."""
    lacking = set()
    for p in c.refused_without or c.needs:
        lacking |= {p} | ancestors(p)
    return closure(ALL - lacking) - lacking


@pytest.fixture
async def scene(world):
    a = await world.company("a")
    b = await world.company("b")
    target = await world.user(a, [P.CREATE_ROOM])
    organizer = await world.user(a)
    department = (await world.client.post(f"{ME}/departments", headers=a.headers, json={"name": "Ops"})).json()
    room = (await world.client.post(f"{ME}/rooms", headers=a.headers, json={"name": "Board"})).json()
    await world.client.put(
        f"{ME}/rooms/{room['id']}/access/{organizer.id}", headers=a.headers, json={"role": "organizer"}
    )
    await world.api_key(a, target)
    key_id = (await world.client.get(f"{ME}/api-keys", headers=a.headers)).json()["items"][0]["id"]
    add_in = (
        await world.client.post(
            f"{ME}/add-ins",
            headers=a.headers,
            json={"name": "Helpdesk", "kind": "link", "url": "https://help.example/", "secret": True},
        )
    ).json()["add_in"]
    link = (await world.client.post(f"{ME}/rooms/{room['id']}/group-links", headers=a.headers, json={})).json()
    ids = {
        "target": target.id,
        "room": room["id"],
        "department": department["id"],
        "key": key_id,
        "organizer": organizer.id,
        "add_in": add_in["id"],
        "link": link["link"]["id"],
        "link_secret": link["secret"],
    }
    return a, b, ids


def fill(text: str, ids: dict[str, str]) -> str:
    for name, value in ids.items():
        text = text.replace("{" + name + "}", value)
    return text


async def call(world, c: Case, ids, headers):
    body = {k: fill(v, ids) if isinstance(v, str) else v for k, v in c.body.items()} if c.body else None
    return await world.client.request(c.method, ME + fill(c.path, ids), json=body, headers=headers)


@pytest.mark.parametrize("c", CASES, ids=[f"{c.method} {c.path} {sorted(c.refused_without)}" for c in CASES])
async def test_endpoint(world, scene, c: Case):
    a, b, ids = scene
    addressed = any("{" + name + "}" in c.path + str(c.body) for name in ids)

    # Without credentials: 401, always.
    response = await call(world, c, ids, {})
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthenticated"

    if c.needs:
        refused = await world.user(a, refused_permissions(c))
        refused_key = await world.api_key(a, refused)
        for caller in (refused, refused_key):
            before = await world.audit_count()
            response = await call(world, c, ids, caller.headers)
            assert response.status_code == c.refused, (caller, response.text)
            assert set(response.json()["error"]) >= {"code", "message"}
            assert await world.audit_count() == before

    # Another company's administrator, by token and by API key: A's objects do not exist for it.
    foreign_key = await world.api_key(b, b)
    for caller in (foreign_key, b):
        before = await world.audit_count()
        response = await call(world, c, ids, caller.headers)
        if addressed:
            assert response.status_code == 404, response.text
            assert await world.audit_count() == before
        elif c.path in SESSION_ONLY and caller is foreign_key:
            assert response.status_code == 403 and response.json()["error"]["code"] == "session_required"
        else:
            assert response.status_code < 400 or response.status_code == 409, response.text  # 409: b's own email
            assert not any(value in response.text for value in ids.values())

    permitted = a if not c.needs else await world.user(a, c.needs)
    response = await call(world, c, ids, permitted.headers)
    assert response.status_code == c.ok, response.text
