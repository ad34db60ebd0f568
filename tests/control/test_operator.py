"""The instance operator API, /operator/v1: authenticated apart from company users; creates companies
with quotas, suspends them (sign-in, tokens and meetings refused; running meetings end) and deletes
them."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from control.app import create_app
from control.errors import Forbidden, Unauthenticated
from control.meetings.errors import MeetingError
from control.meetings.service import MeetingService
from control.settings import Limits, Settings

sys.path.insert(0, str(Path(__file__).resolve().parent / "meetings"))
from meeting_fakes import FakeRegistry, Socket

PASSWORD = "correct horse battery"  # tests/control/conftest.py: every World user's password
OPERATOR = {"Authorization": "Bearer operator-secret-for-tests"}
BASE = "/operator/v1/companies"
V1 = "/api/v1"


def settings(database_url: str, tmp_path: Path, operator_token: str | None) -> Settings:
    return Settings(
        data_dir=tmp_path, database_url=database_url, limits=Limits().without_rates(), operator_token=operator_token
    )


@pytest.fixture
async def app(database_url: str, tmp_path: Path) -> AsyncIterator[Starlette]:
    """The application of tests/control/conftest.py, with the operator API on."""
    application = create_app(settings(database_url, tmp_path, "operator-secret-for-tests"))
    async with application.router.lifespan_context(application):
        yield application


def new_company(slug: str = "globex", **quotas: int) -> dict[str, object]:
    return {
        "slug": slug,
        "name": "Globex",
        "admin_email": f"boss@{slug}.example",
        "admin_name": "Boss",
        "admin_password": PASSWORD,
        "quotas": {"max_rooms": 3, "max_users": 5, "max_participants": 10, **quotas},
    }


async def login(client: httpx.AsyncClient, slug: str = "globex") -> httpx.Response:
    body = {"company": slug, "email": f"boss@{slug}.example", "password": PASSWORD}
    return await client.post(f"{V1}/auth/login", json=body)


async def test_without_an_operator_token_the_api_does_not_exist(database_url, tmp_path) -> None:
    application = create_app(settings(database_url, tmp_path / "plain", None))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://podium") as plain:
            assert (await plain.get(BASE, headers=OPERATOR)).status_code == 404


async def test_company_users_are_not_operators(world, client) -> None:
    admin = await world.company()  # holds every permission of its company
    for headers in ({}, admin.headers, {"Authorization": "Bearer wrong"}):
        response = await client.get(BASE, headers=headers)
        assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_token"
    # and the operator token opens nothing in the company API
    assert (await client.get(f"{V1}/me", headers=OPERATOR)).status_code == 401


async def test_create_set_quotas_and_list(app, client) -> None:
    created = await client.post(BASE, headers=OPERATOR, json=new_company())
    assert created.status_code == 201, created.text
    company = created.json()
    assert company | {"id": None} == {
        "id": None,
        "slug": "globex",
        "name": "Globex",
        "suspended": False,
        "max_rooms": 3,
        "max_users": 5,
        "max_participants": 10,
        "max_storage_bytes": 1 << 30,
        "rooms": 0,
        "users": 1,
        "online": 0,
    }
    again = await client.post(BASE, headers=OPERATOR, json=new_company())
    assert again.status_code == 409 and again.json()["error"]["code"] == "company_exists"
    bad = await client.post(BASE, headers=OPERATOR, json=new_company(max_rooms=0))
    assert bad.status_code == 422

    token = (await login(client)).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    changed = await client.patch(f"{BASE}/{company['id']}", headers=OPERATOR, json={"max_participants": 4})
    assert changed.status_code == 200 and changed.json()["max_participants"] == 4
    storage = await client.patch(f"{BASE}/{company['id']}", headers=OPERATOR, json={"max_storage_bytes": 5000})
    assert storage.status_code == 200 and storage.json()["max_storage_bytes"] == 5000
    seen = (await client.get(f"{V1}/company", headers=headers)).json()
    assert seen["quotas"]["max_participants"] == 4
    listed = (await client.get(BASE, headers=OPERATOR)).json()["items"]
    assert [c["slug"] for c in listed] == ["globex"]
    events = (await client.get(f"{V1}/audit-events", headers=headers)).json()["items"]
    assert "operator.company_updated" in {e["action"] for e in events}


async def test_suspension_refuses_sign_in_tokens_and_meetings_and_ends_them(app, client) -> None:
    service = MeetingService(app.state.context, FakeRegistry())  # type: ignore[arg-type]
    real, app.state.meetings = app.state.meetings, service
    try:
        company = (await client.post(BASE, headers=OPERATOR, json=new_company())).json()
        token = (await login(client)).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        room = (await client.post(f"{V1}/rooms", headers=headers, json={"name": "R"})).json()
        issued = (
            await client.post(f"{V1}/rooms/{room['id']}/invitations", headers=headers, json={"invitee_name": "Gus"})
        ).json()
        body = {"invitation": issued["invitation"], "browser": "b" * 32}
        guest = (await client.post(f"{V1}/invitation-redemptions", json=body)).json()["guest_token"]
        socket = Socket()
        await service.join(token, room["id"], socket.link())
        assert (await client.get(f"{BASE}/{company['id']}", headers=OPERATOR)).json()["online"] == 1

        suspended = await client.patch(f"{BASE}/{company['id']}", headers=OPERATOR, json={"suspended": True})
        assert suspended.status_code == 200 and suspended.json()["suspended"] is True
        assert suspended.json()["online"] == 0
        assert socket.of("disconnected")[-1]["reason"] == "company_suspended"
        for response in (await client.get(f"{V1}/me", headers=headers), await login(client)):
            assert response.status_code == 403 and response.json()["error"]["code"] == "company_suspended"
        with pytest.raises(Forbidden) as refused:  # the token is refused before the room is looked at
            await service.join(token, room["id"], Socket().link())
        assert refused.value.code == "company_suspended"

        # a guest of the company is refused at the door too
        with pytest.raises(MeetingError) as guest_refused:
            await service.join(guest, room["id"], Socket().link())
        assert guest_refused.value.code == "company_suspended"

        resumed = await client.patch(f"{BASE}/{company['id']}", headers=OPERATOR, json={"suspended": False})
        assert resumed.json()["suspended"] is False
        assert (await client.get(f"{V1}/me", headers=headers)).status_code == 200
        live, _ = await service.join(token, room["id"], Socket().link())
        assert live.state.participants
    finally:
        app.state.meetings = real
        await service.close()


async def test_delete_removes_the_company_and_ends_its_meetings(app, client) -> None:
    service = MeetingService(app.state.context, FakeRegistry())  # type: ignore[arg-type]
    real, app.state.meetings = app.state.meetings, service
    try:
        company = (await client.post(BASE, headers=OPERATOR, json=new_company())).json()
        other = (await client.post(BASE, headers=OPERATOR, json=new_company("initech"))).json()
        token = (await login(client)).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        department = (await client.post(f"{V1}/departments", headers=headers, json={"name": "D"})).json()
        room = (
            await client.post(f"{V1}/rooms", headers=headers, json={"name": "R", "department_id": department["id"]})
        ).json()
        socket = Socket()
        live, _ = await service.join(token, room["id"], socket.link())
        assert (await client.delete(f"{BASE}/{company['id']}", headers=OPERATOR)).status_code == 204
        assert live.state.ended and socket.of("disconnected")[-1]["reason"] == "company_suspended"
        assert (await client.get(f"{BASE}/{company['id']}", headers=OPERATOR)).status_code == 404
        assert (await client.get(f"{V1}/me", headers=headers)).status_code == 401
        with pytest.raises(Unauthenticated):  # its users went with it
            await service.join(token, room["id"], Socket().link())
        assert [c["id"] for c in (await client.get(BASE, headers=OPERATOR)).json()["items"]] == [other["id"]]
    finally:
        app.state.meetings = real
        await service.close()
