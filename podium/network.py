"""Addresses of `podium serve` and `podium engine`: what to bind, what to announce to WebRTC peers,
where the local workers dial the control plane, and what to tell the operator (docs/deployment.md).

Every address is an IP literal: ICE candidates carry IP addresses, and a bind to a name would depend
on a resolver at start-up."""

from __future__ import annotations

import argparse
import ipaddress
import socket
from collections.abc import Sequence

LOOPBACK = "127.0.0.1"
"""The default bind of the HTTP server and of the engine workers: reachable from this host only."""
WILDCARDS = frozenset({"0.0.0.0", "::"})


def address(text: str) -> str:
    """An IP literal of a command-line option (brackets around IPv6 allowed), in its canonical form."""
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an IPv4 or IPv6 address") from None


def is_wildcard(host: str) -> bool:
    return host in WILDCARDS


def is_loopback(host: str) -> bool:
    return ipaddress.ip_address(host).is_loopback


def media_bind(binds: Sequence[str], given: str | None) -> str:
    """Where the engine workers' UDP sockets bind: `--media-bind`, else the one HTTP bind address, else
    (several binds: one socket cannot bind two addresses) the dual-stack wildcard."""
    if given is not None:
        return given
    return binds[0] if len(binds) == 1 else "::"


def announced(bind: str, announce: Sequence[str], binds: Sequence[str] = ()) -> list[str]:
    """The hosts of the workers' ICE candidates: `--announce` as given, else the bound address, else
    (a wildcard bound for several `binds`) those of `binds` that are no wildcard. A wildcard is no
    address a peer can send to: without any of these it needs `--announce` (ValueError)."""
    if announce:
        return list(dict.fromkeys(announce))
    specific = [b for b in binds if not is_wildcard(b)]
    if is_wildcard(bind) and specific:
        return specific
    if is_wildcard(bind):
        raise ValueError(
            f"the engine binds {bind} (every interface): give --announce with the address(es) "
            "browsers reach this host at"
        )
    return [bind]


def url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def browser_urls(binds: Sequence[str], announce: Sequence[str], port: int, tls: bool) -> list[str]:
    """Where browsers reach the web client: each bound address, a wildcard replaced by the announced
    addresses (or by a loopback address when none is announced)."""
    hosts: list[str] = []
    for bind in binds:
        if is_wildcard(bind):
            hosts += [h for h in announce if ":" not in h or bind == "::"] or [LOOPBACK if bind == "0.0.0.0" else "::1"]
        else:
            hosts.append(bind)
    scheme = "https" if tls else "http"
    return [f"{scheme}://{url_host(h)}:{port}/" for h in dict.fromkeys(hosts)]


def channel_host(binds: Sequence[str]) -> str:
    """The address a worker on this host dials the engine channel at: a loopback one when the server
    listens there (or on a wildcard), else the first bound address."""
    for bind in binds:
        if is_wildcard(bind):
            return LOOPBACK if bind == "0.0.0.0" else "::1"
        if is_loopback(bind):
            return bind
    return binds[0]


def exposed(binds: Sequence[str]) -> list[str]:
    """The bound addresses other hosts may reach (not loopback)."""
    return [b for b in binds if is_wildcard(b) or not is_loopback(b)]


def listen_sockets(binds: Sequence[str], port: int) -> list[socket.socket]:
    """One listening TCP socket per bound address, all on `port` (0: one free port, chosen by the
    first socket and taken by the others). "::" is dual-stack unless "0.0.0.0" is bound as well."""
    sockets: list[socket.socket] = []
    try:
        for bind in binds:
            family = socket.AF_INET6 if ":" in bind else socket.AF_INET
            # proto named: asyncio sets TCP_NODELAY only on sockets whose proto is IPPROTO_TCP, and an
            # accepted socket inherits proto 0 otherwise (a response's body then waits 40 ms for the
            # client's delayed ACK behind its headers)
            sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, int(bind != "::" or "0.0.0.0" in binds))
            sock.bind((bind, port))
            port = sock.getsockname()[1]
            sock.listen(2048)
            sock.set_inheritable(True)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets
