"""Behind a reverse proxy: `podium serve --forwarded-allow-ips` honours X-Forwarded-For only from the
proxies it names, and the per-address rate limits then key on the forwarded client address. From any
other peer the header is ignored: every request counts against the peer's own address."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from podium_client import COMPANY, PodiumServer

pytestmark = pytest.mark.timeout(90)

RATES = "login=2/minute,refresh=off,invitation=off,join=off"


async def sign_in(server: PodiumServer, forwarded_for: str) -> int:
    async with httpx.AsyncClient(base_url=server.url, timeout=15) as client:
        response = await client.post(
            "/api/v1/auth/login",
            json={"company": COMPANY, "email": "nobody@podium.test", "password": "not the password"},
            headers={"X-Forwarded-For": forwarded_for},
        )
    return response.status_code


@pytest.mark.parametrize("trusted", [True, False], ids=["from-a-configured-proxy", "from-anyone-else"])
async def test_rate_limits_key_on_the_forwarded_address_only_from_configured_proxies(tmp_path, trusted) -> None:
    options = ("--forwarded-allow-ips", "127.0.0.1") if trusted else ("--forwarded-allow-ips", "10.9.9.9")
    server = PodiumServer.start(tmp_path, rate_limits=RATES, options=options, local_workers=0)
    try:
        # two sign-ins from one client use its allowance (sent at once: the window cannot move on)
        first = await asyncio.gather(*(sign_in(server, "198.51.100.1") for _ in range(2)))
        assert first == [401, 401]
        assert await sign_in(server, "198.51.100.1") == 429
        # another client behind the proxy has its own allowance; a spoofed header from elsewhere does not
        assert await sign_in(server, "198.51.100.2") == (401 if trusted else 429)
    finally:
        server.stop()
