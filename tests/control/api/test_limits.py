"""Bounded input on the REST API: body sizes (413 before the body is read), JSON shapes (depth, values),
capped validation errors, and per-address rate limits (429 with Retry-After, recovering after the window)."""

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from control import bounds
from control.api import ENDPOINTS
from control.api.openapi import document
from control.app import create_app
from control.settings import Limits, Settings

V1 = "/api/v1"
CHUNK = 64 * 1024
LIMITS = Limits(
    max_body=64 * 1024,
    max_body_unauthenticated=4096,
    login="3 per 2 seconds",
    refresh="3 per 2 seconds",
    invitation="3 per 2 seconds",
    join=None,
    frames=None,
)


DEFAULTS = Limits().without_rates()
ROOMY = replace(DEFAULTS, max_body=8 * 1024 * 1024, max_body_unauthenticated=8 * 1024 * 1024)
"""Limits high enough to let the issue's 5.5 MB body reach the parser."""


@pytest.fixture
async def app(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> AsyncIterator[Starlette]:
    """The app of this module's tests: LIMITS, unless a test parametrizes `app` with other limits."""
    limits: Limits = getattr(request, "param", LIMITS)
    settings = Settings(data_dir=tmp_path, database_url=database_url, token_key="k" * 40, limits=limits)
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


def client_of(app: Starlette, address: str = "127.0.0.1") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 40000)), base_url="http://podium")


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(app) as c:
        yield c


class Counted:
    """A request body streamed in chunks, counting how many the server pulled."""

    def __init__(self, chunks: int, chunk: bytes = b" " * CHUNK) -> None:
        self.chunks, self.chunk, self.pulled = chunks, chunk, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.chunks):
            self.pulled += 1
            yield self.chunk


def many_keys(count: int) -> bytes:
    """The body of the issue: a JSON object of `count` unknown keys (5.5 MB for 300,000)."""
    return ("{" + ",".join(f'"k{i}":{i}' for i in range(count)) + "}").encode()


def nested(depth: int) -> bytes:
    """A sign-in body whose `company` nests `depth` arrays."""
    return b'{"company": ' + b"[" * depth + b"]" * depth + b"}"


def error_of(response: httpx.Response) -> dict:
    return response.json()["error"]


# ---- sizes -------------------------------------------------------------------------------------


async def test_a_declared_length_over_the_limit_is_refused_before_a_byte_is_read(app, client):
    body = Counted(3200)  # 200 MiB, declared
    response = await client.post(
        f"{V1}/auth/login",
        content=body,
        headers={"content-type": "application/json", "content-length": str(3200 * CHUNK)},
    )
    assert response.status_code == 413
    error = error_of(response)
    assert error["code"] == "body_too_large"
    assert "4096 bytes" in error["message"] and "without credentials" in error["message"]
    assert body.pulled == 0


async def test_a_streamed_body_is_cut_once_it_passes_the_limit(app, client):
    body = Counted(3200, b" " * 1024)  # chunked, no length
    response = await client.post(f"{V1}/auth/login", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413 and error_of(response)["code"] == "body_too_large"
    assert body.pulled <= 4096 // 1024 + 1


async def test_authenticated_endpoints_have_the_larger_limit(world, client):
    admin = await world.company()
    padded = b'{"name": "Ann"' + b" " * (16 * 1024) + b"}"  # over the unauthenticated limit, under the other
    response = await client.patch(
        f"{V1}/me", content=padded, headers={**admin.headers, "content-type": "application/json"}
    )
    assert response.status_code == 200, response.text
    too_big = await client.patch(
        f"{V1}/me", content=b" " * (LIMITS.max_body + 1), headers={**admin.headers, "content-type": "application/json"}
    )
    assert too_big.status_code == 413 and "authenticated requests" in error_of(too_big)["message"]


async def test_a_malformed_content_length_is_a_400(app, client):
    scope_headers = {"content-type": "application/json", "content-length": "lots"}
    response = await client.post(f"{V1}/auth/login", content=b"{}", headers=scope_headers)
    assert response.status_code == 400 and error_of(response)["code"] == "bad_content_length"


@pytest.mark.parametrize("app", [DEFAULTS], indirect=True)
async def test_the_issues_body_is_refused_by_size_at_sign_in(client):
    """5.5 MB of 300,000 unknown keys to /auth/login, under the default limits: 413, nothing parsed."""
    response = await client.post(
        f"{V1}/auth/login", content=many_keys(300_000), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413 and error_of(response)["code"] == "body_too_large"
    assert len(response.content) < 1000


# ---- shapes and capped errors --------------------------------------------------------------------


@pytest.mark.parametrize("app", [ROOMY], indirect=True)
async def test_300000_unknown_keys_are_a_422_with_a_capped_list(client):
    response = await client.post(
        f"{V1}/auth/login", content=many_keys(300_000), headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "validation_failed"
    assert error["message"] == f"invalid body: 300000 problems, the first {bounds.MAX_PROBLEMS} listed"
    assert len(error["details"]) == bounds.MAX_PROBLEMS
    assert error["details"][0] == {
        "field": "body.k0",
        "message": "Extra inputs are not permitted",
        "type": "extra_forbidden",
    }
    assert len(response.content) < 5000


async def test_many_schema_problems_are_capped(world, client):
    admin = await world.company()
    room = (await client.post(f"{V1}/rooms", headers=admin.headers, json={"name": "R"})).json()
    response = await client.post(
        f"{V1}/rooms/{room['id']}/invitations",
        headers=admin.headers,
        json={"invitee_name": "Gil", "rights": [f"power-{i}" for i in range(300)]},
    )
    assert response.status_code == 422
    error = error_of(response)
    assert len(error["details"]) == bounds.MAX_PROBLEMS
    assert error["message"] == f"invalid body: 300 problems, the first {bounds.MAX_PROBLEMS} listed"
    assert all(d["field"].startswith("body.rights.") for d in error["details"])


async def test_a_few_problems_are_all_listed_under_the_plain_message(world, client):
    admin = await world.company()
    response = await client.post(f"{V1}/rooms", headers=admin.headers, json={"name": 5, "surprise": 1})
    assert response.status_code == 422
    assert error_of(response)["message"] == "invalid body"


async def test_long_field_names_are_cut(client):
    response = await client.post(f"{V1}/auth/login", json={"k" * 3000: 1})
    assert response.status_code == 422
    detail = error_of(response)["details"][0]
    assert len(detail["field"]) <= bounds.MAX_MESSAGE


@pytest.mark.parametrize("depth", [40, 1800])  # 1800: past the parser's own recursion limit
async def test_deep_nesting_is_a_422(client, depth):
    response = await client.post(
        f"{V1}/auth/login", content=nested(depth), headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "json_too_deep"
    assert error["message"] == f"JSON nests deeper than {Limits().max_json_depth} levels"


async def test_nesting_within_the_limit_reaches_the_schema(client):
    response = await client.post(f"{V1}/auth/login", content=nested(10), headers={"content-type": "application/json"})
    assert response.status_code == 422 and error_of(response)["code"] == "validation_failed"


async def test_too_many_values_is_a_422(world, client):
    admin = await world.company()
    body = {"name": "Ann", "nicknames": list(range(Limits().max_json_values))}
    response = await client.patch(f"{V1}/me", headers=admin.headers, content=json.dumps(body).encode())
    # the unknown key is found first
    assert response.status_code == 422 and error_of(response)["code"] == "validation_failed"
    flat = {"email": "a@b.example", "name": "A", "permissions": [1] * Limits().max_json_values}
    response = await client.post(f"{V1}/users", headers=admin.headers, json=flat)
    assert response.status_code == 422
    assert error_of(response)["code"] == "json_too_many_values"


@pytest.mark.parametrize("app", [ROOMY], indirect=True)
async def test_a_big_allowed_body_is_parsed_off_the_loop(client, monkeypatch):
    threads: list[str] = []
    real = bounds.decode

    def spy(*args, **kwargs):
        import threading

        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(bounds, "decode", spy)
    small = await client.post(f"{V1}/auth/login", json={"company": "x"})
    big = await client.post(f"{V1}/auth/login", json={"company": "x", "pad": "y" * (bounds.THREAD_ABOVE + 1)})
    assert small.status_code == big.status_code == 422
    assert threads[0] == "MainThread" and threads[1] != "MainThread"


def test_measure_stops_at_its_limits():
    bounds.measure({"a": [1, 2, {"b": None}]}, max_depth=4, max_values=6)  # the null is at level 4
    with pytest.raises(bounds.ShapeError) as deep:
        bounds.measure({"a": [1, 2, {"b": None}]}, max_depth=3, max_values=100)
    assert deep.value.code == "json_too_deep"
    with pytest.raises(bounds.ShapeError) as wide:
        bounds.measure({"a": [1, 2, {"b": None}]}, max_depth=4, max_values=5)
    assert wide.value.code == "json_too_many_values"


# ---- rate limits ---------------------------------------------------------------------------------

LOGIN = {"company": "nobody", "email": "a@b.example", "password": "wrong password"}


async def test_sign_in_is_rate_limited_per_address_and_recovers(app, client):
    for _ in range(3):
        assert (await client.post(f"{V1}/auth/login", json=LOGIN)).status_code == 401
    refused = await client.post(f"{V1}/auth/login", json=LOGIN)
    assert refused.status_code == 429
    error = error_of(refused)
    assert error["code"] == "rate_limited"
    assert error["message"].startswith("too many sign-ins (at most 3 per 2 seconds); retry in ")
    retry_after = int(refused.headers["retry-after"])
    assert 1 <= retry_after <= 2
    # the refused attempt was not counted; another address has its own window
    async with client_of(app, "10.0.0.2") as other:
        assert (await other.post(f"{V1}/auth/login", json=LOGIN)).status_code == 401
    await asyncio.sleep(retry_after)
    assert (await client.post(f"{V1}/auth/login", json=LOGIN)).status_code == 401


async def test_the_limit_is_checked_before_the_body(app, client):
    for _ in range(3):
        await client.post(f"{V1}/auth/login", json=LOGIN)
    refused = await client.post(f"{V1}/auth/login", content=b"{not json")
    assert refused.status_code == 429


@pytest.mark.parametrize(
    "path, body",
    [
        ("/auth/refresh", {"refresh_token": "nope"}),
        ("/auth/accept-invitation", {"invitation_token": "nope", "password": "long enough password"}),
        ("/invitation-redemptions", {"invitation": "nope", "browser": "b" * 16}),
    ],
)
async def test_refresh_and_invitations_are_rate_limited(client, path, body):
    statuses = [(await client.post(V1 + path, json=body)).status_code for _ in range(4)]
    assert statuses[:3] != [429] * 3 and 429 not in statuses[:3]
    assert statuses[3] == 429


async def test_invitation_limits_share_one_window(client):
    for _ in range(3):
        await client.post(f"{V1}/invitation-redemptions", json={"invitation": "nope", "browser": "b" * 16})
    refused = await client.post(
        f"{V1}/auth/accept-invitation", json={"invitation_token": "nope", "password": "long enough password"}
    )
    assert refused.status_code == 429


async def test_authenticated_endpoints_are_not_rate_limited(world, client):
    admin = await world.company()
    for _ in range(10):
        assert (await client.get(f"{V1}/me", headers=admin.headers)).status_code == 200


UPLOADS = {("POST", "/meetings/{meeting_id}/files"), ("POST", "/rooms/{room_id}/materials")}
"""Multipart uploads (control.api.files): 413 for a file over the size limit, though no JSON body."""


def test_the_description_declares_413_and_429():
    spec = document(ENDPOINTS)
    for endpoint in ENDPOINTS:
        responses = spec["paths"][V1 + endpoint.path][endpoint.method.lower()]["responses"]
        takes_body = endpoint.body is not None or (endpoint.method, endpoint.path) in UPLOADS
        assert ("413" in responses) == takes_body, endpoint.path
        assert ("429" in responses) == (endpoint.rate_limit is not None), endpoint.path
        if endpoint.rate_limit is not None:
            assert "Retry-After" in responses["429"]["headers"]
    limited = {e.path for e in ENDPOINTS if e.rate_limit is not None}
    assert limited == {"/auth/login", "/auth/refresh", "/auth/accept-invitation", "/invitation-redemptions"}
