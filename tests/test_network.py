"""podium/network.py: the addresses `podium serve` and `podium engine` bind, announce and print."""

from __future__ import annotations

import argparse
import socket

import pytest

from podium import network


def test_addresses_are_ip_literals_in_canonical_form() -> None:
    assert network.address(" 127.0.0.1 ") == "127.0.0.1"
    assert network.address("[2001:DB8::0:1]") == "2001:db8::1"
    for bad in ("localhost", "podium.example", "300.1.1.1", ""):
        with pytest.raises(argparse.ArgumentTypeError, match="is not an IPv4 or IPv6 address"):
            network.address(bad)


def test_the_media_bind_follows_the_one_http_bind() -> None:
    assert network.media_bind(["127.0.0.1"], None) == "127.0.0.1"
    assert network.media_bind(["192.0.2.10", "2001:db8::10"], None) == "::"  # one socket, both families
    assert network.media_bind(["127.0.0.1"], "0.0.0.0") == "0.0.0.0"


def test_candidates_are_the_announced_addresses_else_the_bound_one() -> None:
    assert network.announced("127.0.0.1", []) == ["127.0.0.1"]
    assert network.announced("10.0.0.5", ["203.0.113.7", "2001:db8::7", "203.0.113.7"]) == [
        "203.0.113.7",
        "2001:db8::7",
    ]
    assert network.announced("::", [], ["192.0.2.10", "2001:db8::10"]) == ["192.0.2.10", "2001:db8::10"]
    with pytest.raises(ValueError, match="give --announce"):
        network.announced("0.0.0.0", [])
    with pytest.raises(ValueError, match="give --announce"):
        network.announced("::", [])


def test_browser_urls_name_reachable_hosts() -> None:
    assert network.browser_urls(["127.0.0.1"], ["127.0.0.1"], 8000, tls=False) == ["http://127.0.0.1:8000/"]
    assert network.browser_urls(["0.0.0.0"], ["203.0.113.7", "2001:db8::7"], 443, tls=True) == [
        "https://203.0.113.7:443/"  # an IPv4 wildcard is not reached over IPv6
    ]
    assert network.browser_urls(["::"], ["203.0.113.7", "2001:db8::7"], 8443, tls=True) == [
        "https://203.0.113.7:8443/",
        "https://[2001:db8::7]:8443/",
    ]
    assert network.browser_urls(["::1", "0.0.0.0"], [], 8000, tls=False) == [
        "http://[::1]:8000/",
        "http://127.0.0.1:8000/",
    ]


def test_local_workers_dial_loopback_when_they_can() -> None:
    assert network.channel_host(["192.0.2.10", "127.0.0.1"]) == "127.0.0.1"
    assert network.channel_host(["0.0.0.0"]) == "127.0.0.1"
    assert network.channel_host(["::"]) == "::1"
    assert network.channel_host(["192.0.2.10"]) == "192.0.2.10"


def test_exposed_addresses_are_those_beyond_loopback() -> None:
    assert network.exposed(["127.0.0.1", "::1", "127.0.0.2"]) == []
    assert network.exposed(["127.0.0.1", "0.0.0.0", "192.0.2.10"]) == ["0.0.0.0", "192.0.2.10"]


def test_listen_sockets_share_one_port() -> None:
    sockets = network.listen_sockets(["127.0.0.1", "::1"], 0)
    try:
        (v4, v6) = sockets
        port = v4.getsockname()[1]
        assert port > 0 and v6.getsockname()[1] == port
        assert v6.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY) == 1
        with socket.create_connection(("::1", port), timeout=2):
            pass
    finally:
        for sock in sockets:
            sock.close()


async def test_connections_accepted_on_the_listening_sockets_send_without_delay() -> None:
    """Nagle off on accepted connections (asyncio sets it for IPPROTO_TCP sockets): a response
    written as headers then body must not wait for the client's delayed ACK."""
    import asyncio

    [sock] = network.listen_sockets(["127.0.0.1"], 0)
    accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raw = writer.get_extra_info("socket")
        accepted.set_result(raw.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    server = await asyncio.start_server(connected, sock=sock)
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", sock.getsockname()[1])
        assert await asyncio.wait_for(accepted, 5) == 1
        writer.close()
    finally:
        server.close()
        await server.wait_closed()
