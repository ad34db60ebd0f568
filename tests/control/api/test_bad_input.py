"""Bad input to any endpoint is refused with a 4xx and writes nothing."""

import pytest
from sqlalchemy import select

from control.api import ENDPOINTS
from control.store.models import Base

V1 = "/api/v1"

BAD_BODIES = [
    b"",  # missing
    b"{not json",  # malformed
    b'"a string"',
    b"[]",
    b"null",
    b"42",  # not an object
    b'{"unexpected": 1}',  # unknown field
    b'{"name": "\\u0000"}',  # NUL
    b'{"name": "\\ud800"}',  # lone surrogate
    b'{"name": 5, "email": true, "role": "emperor", "permissions": ["root"]}',  # wrong types and values
    b'{"name": "' + b"x" * 300 + b'"}',  # too long
    b"\xff\xfe",  # not UTF-8
]

WITH_BODY = [e for e in ENDPOINTS if e.body is not None]


async def snapshot(app) -> dict[str, list[tuple]]:
    async with app.state.context() as ctx:
        return {
            name: sorted(map(tuple, (await ctx.session.execute(select(table))).all()), key=repr)
            for name, table in Base.metadata.tables.items()
        }


def fill(path: str, ids: dict[str, str]) -> str:
    for name, value in ids.items():
        path = path.replace("{" + name + "}", value)
    return path


@pytest.mark.parametrize("endpoint", WITH_BODY, ids=[f"{e.method} {e.path}" for e in WITH_BODY])
async def test_bad_bodies_are_refused_and_nothing_is_written(world, client, app, endpoint):
    admin = await world.company()
    user = await world.user(admin)
    room = (await client.post(f"{V1}/rooms", headers=admin.headers, json={"name": "R"})).json()
    dept = (await client.post(f"{V1}/departments", headers=admin.headers, json={"name": "D"})).json()
    ids = {
        "user_id": user.id,
        "room_id": room["id"],
        "department_id": dept["id"],
        "permission": "create_room",
        "meeting_id": "0" * 32,
        "invitation_id": "0" * 32,
        "add_in_id": "0" * 32,
        "link_id": "0" * 32,
    }
    before = await snapshot(app)
    for body in BAD_BODIES:
        response = await client.request(
            endpoint.method,
            V1 + fill(endpoint.path, ids),
            content=body,
            headers={**admin.headers, "Content-Type": "application/json"},
        )
        assert response.status_code in (400, 422), (body, response.status_code, response.text)
        error = response.json()["error"]
        assert error["code"] in ("malformed_json", "validation_failed") and error["message"]
    assert await snapshot(app) == before


async def test_bad_query_parameters_are_refused(world, client):
    admin = await world.company()
    for path, params in [
        ("/users", {"limit": "1000"}),
        ("/users", {"offset": "-1"}),
        ("/users", {"pending": "maybe"}),
        ("/rooms", {"q": "a\x00b"}),
        ("/audit-events", {"since": "yesterday"}),
        ("/audit-events", {"until": "0.5"}),
        ("/api-keys", {"user_id": "not-an-id"}),
        ("/users", {"unknown": "1"}),
        ("/add-ins", {"kind": "plugin"}),
        ("/add-ins", {"enabled": "maybe"}),
        ("/rooms/" + "0" * 32 + "/group-links", {"limit": "0"}),
    ]:
        response = await client.get(V1 + path, headers=admin.headers, params=params)
        assert response.status_code == 422, (path, params, response.text)
        assert response.json()["error"]["details"][0]["field"].startswith("query.")


async def test_malformed_ids_in_paths_are_not_found(world, client):
    admin = await world.company()
    for path in [
        "/users/xyz",
        "/rooms/" + "0" * 31 + "g",
        "/api-keys/" + "A" * 32,
        "/users/" + "0" * 32 + "/permissions/x",
        "/add-ins/xyz",
        "/rooms/" + "0" * 32 + "/group-links/xyz",
    ]:
        response = await client.get(V1 + path, headers=admin.headers)
        assert response.status_code in (404, 405), path


async def test_unknown_paths_and_methods_answer_json_errors(world, client):
    admin = await world.company()
    missing = await client.get(f"{V1}/nothing", headers=admin.headers)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    wrong = await client.put(f"{V1}/me", headers=admin.headers)
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed"
    assert set(wrong.headers["allow"].split(", ")) == {"GET", "HEAD", "PATCH"}
