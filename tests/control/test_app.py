"""The application end to end on each database: migrations at start, the signing key shared through the
database, a whole administrative flow over HTTP."""

from pathlib import Path

import httpx

from control.app import create_app
from control.domain.quotas import Quotas
from control.services import companies
from control.settings import Settings

V1 = "/api/v1"


async def bootstrap(app) -> None:
    async with app.state.context() as ctx:
        await companies.bootstrap(
            ctx,
            slug="acme",
            name="Acme",
            email="admin@acme.example",
            password="admin password",
            admin_name="Admin",
            quotas=Quotas(10, 10, 50),
        )


async def test_a_whole_flow_on_each_database(any_database_url, tmp_path: Path):
    app = create_app(Settings(data_dir=tmp_path, database_url=any_database_url))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://podium") as client,
    ):
        await bootstrap(app)
        tokens = (
            await client.post(
                f"{V1}/auth/login",
                json={"company": "acme", "email": "admin@acme.example", "password": "admin password"},
            )
        ).json()
        admin = {"Authorization": f"Bearer {tokens['access_token']}"}
        invited = (
            await client.post(
                f"{V1}/users",
                headers=admin,
                json={"email": "bob@acme.example", "name": "Bob", "permissions": ["create_room"]},
            )
        ).json()
        bob_tokens = (
            await client.post(
                f"{V1}/auth/accept-invitation",
                json={"invitation_token": invited["invitation_token"], "password": "bob password"},
            )
        ).json()
        bob = {"Authorization": f"Bearer {bob_tokens['access_token']}"}
        room = await client.post(f"{V1}/rooms", headers=bob, json={"name": "Bob's room", "hidden": True})
        assert room.status_code == 201
        assert (await client.get(f"{V1}/rooms", headers=bob)).json()["total"] == 1
        assert (await client.get(f"{V1}/users", headers=bob)).status_code == 403
        key = (
            await client.post(f"{V1}/api-keys", headers=admin, json={"name": "ci", "user_id": invited["user"]["id"]})
        ).json()
        assert (await client.get(f"{V1}/me", headers={"Authorization": f"Bearer {key['secret']}"})).status_code == 200
        csv = await client.get(f"{V1}/audit-events.csv", headers=admin)
        assert [line.split(",")[4] for line in csv.text.splitlines()[1:4]] == [
            "api_key.created",
            "room.created",
            "user.activated",
        ]
        assert (await client.post(f"{V1}/auth/logout", headers=admin)).status_code == 204
        assert (await client.get(f"{V1}/me", headers=admin)).status_code == 401


async def test_the_signing_key_is_made_once_and_shared_by_every_process(tmp_path: Path):
    settings = Settings(data_dir=tmp_path / "data")
    first, second = create_app(settings), create_app(settings)
    async with first.router.lifespan_context(first), second.router.lifespan_context(second):
        assert (tmp_path / "data" / "podium.db").exists()
        await bootstrap(first)
        async with (
            httpx.AsyncClient(transport=httpx.ASGITransport(app=first), base_url="http://a") as one,
            httpx.AsyncClient(transport=httpx.ASGITransport(app=second), base_url="http://b") as two,
        ):
            tokens = (
                await one.post(
                    f"{V1}/auth/login",
                    json={"company": "acme", "email": "admin@acme.example", "password": "admin password"},
                )
            ).json()
            me = await two.get(f"{V1}/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
            assert me.status_code == 200
