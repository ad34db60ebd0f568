"""GET /metrics of the application: only for the bearer of the metrics token, each application with
its own registry, HTTP latency by route template, signaling connections, WebTransport datagrams
dropped by reason."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from control.app import create_app
from control.domain.datagrams import DropReason
from control.metrics import parse_address
from control.settings import Settings

V1 = "/api/v1"


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Every sample named `name`: its sorted labels → value."""
    return {
        tuple(sorted(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name
    }


async def scrape(app, client: httpx.AsyncClient) -> str:
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {app.state.metrics_token}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_metrics_need_the_bearer_token(app, client) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {app.state.metrics_token}"}):
        response = await client.get("/metrics", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert "podium_" not in response.text
    assert "podium_engine_workers" in await scrape(app, client)


async def test_metrics_are_off_without_a_token(tmp_path) -> None:
    app = create_app(Settings(data_dir=tmp_path))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://x") as client:
        response = await client.get("/metrics")
    assert response.status_code == 404 and "podium_" not in response.text


def test_each_application_has_its_own_registry(tmp_path) -> None:
    one, two = create_app(Settings(data_dir=tmp_path / "1")), create_app(Settings(data_dir=tmp_path / "2"))
    assert one.state.metrics.registry is not two.state.metrics.registry
    one.state.metrics.http_latency.labels("GET", "/x", "200").observe(1.0)
    assert "/x" not in two.state.metrics.render().decode()


async def test_http_latency_is_labelled_by_route_template(app, client, world) -> None:
    admin = await world.company()
    room = (await client.post(f"{V1}/rooms", headers=admin.headers, json={"name": "Standup"})).json()
    for _ in range(3):
        assert (await client.get(f"{V1}/rooms/{room['id']}", headers=admin.headers)).status_code == 200
    assert (await client.get(f"{V1}/rooms/{room['id']}")).status_code == 401
    assert (await client.get(f"{V1}/no-such-thing-4711")).status_code == 404
    assert (await client.request("BREW", f"{V1}/rooms")).status_code == 405
    text = await scrape(app, client)
    counts = samples(text, "podium_http_request_duration_seconds_count")
    route = f"{V1}/rooms/{{room_id}}"
    assert counts[(("method", "GET"), ("route", route), ("status", "200"))] == 3
    assert counts[(("method", "GET"), ("route", route), ("status", "401"))] == 1
    assert counts[(("method", "POST"), ("route", f"{V1}/rooms"), ("status", "201"))] == 1
    assert counts[(("method", "GET"), ("route", "<unmatched>"), ("status", "404"))] == 1
    assert counts[(("method", "other"), ("route", f"{V1}/rooms"), ("status", "405"))] == 1
    assert room["id"] not in text and "4711" not in text and "BREW" not in text  # no raw paths: bounded series
    buckets = samples(text, "podium_http_request_duration_seconds_bucket")
    assert buckets[(("le", "+Inf"), ("method", "GET"), ("route", route), ("status", "200"))] == 3


def test_signaling_connections_are_counted_while_open(tmp_path) -> None:
    app = create_app(Settings(data_dir=tmp_path, metrics_token="t"))
    headers = {"Authorization": "Bearer t"}

    def connections(client: TestClient) -> float:
        text = client.get("/metrics", headers=headers).text
        return samples(text, "podium_signaling_connections")[()]

    with TestClient(app) as client:
        assert connections(client) == 0
        with client.websocket_connect("/signaling/v1"), client.websocket_connect("/signaling/v1"):
            assert connections(client) == 2
        assert connections(client) == 0


async def test_a_separate_address_serves_metrics_without_a_token(database_url, tmp_path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=database_url, metrics_token="t", metrics_address="127.0.0.1:0")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        host, port = app.state.metrics_bound
        async with httpx.AsyncClient() as plain:
            response = await plain.get(f"http://{host}:{port}/metrics")
            assert response.status_code == 200 and "podium_engine_workers" in response.text
            assert (await plain.get(f"http://{host}:{port}/api/v1/rooms")).status_code == 404  # /metrics only
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://x") as client:
            assert (await client.get("/metrics")).status_code == 401  # the API's listener still wants the token
    async with httpx.AsyncClient() as plain:
        with pytest.raises(httpx.ConnectError):  # gone with the application
            await plain.get(f"http://{host}:{port}/metrics")


def test_a_metrics_address_is_host_and_port() -> None:
    assert parse_address("127.0.0.1:9464") == ("127.0.0.1", 9464)
    assert parse_address("[::1]:9464") == ("::1", 9464)
    for bad in ("9464", "host:", ":9464", "host:99999", "host:x"):
        with pytest.raises(ValueError, match="HOST:PORT"):
            parse_address(bad)


async def test_dropped_datagrams_are_counted_by_reason(app, client) -> None:
    name = "podium_webtransport_datagrams_dropped_total"
    assert samples(await scrape(app, client), name) == {(("reason", str(r)),): 0.0 for r in DropReason}
    app.state.metrics.datagram_dropped(DropReason.STALE)
    app.state.metrics.datagram_dropped(DropReason.STALE)
    app.state.metrics.datagram_dropped(DropReason.TOO_BIG)
    got = samples(await scrape(app, client), name)
    assert got[(("reason", "stale"),)] == 2.0 and got[(("reason", "too_big"),)] == 1.0
    assert sum(got.values()) == 3.0
