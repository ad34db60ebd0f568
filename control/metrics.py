"""Metrics: `GET /metrics` in the Prometheus text format, through `prometheus_client`.

Each application owns one `Metrics`: its own CollectorRegistry (never the process-wide default, so
that tests and several applications in one process do not share series), the HTTP request latency by
route template, the open signaling connections, the WebTransport datagrams dropped by reason, and the
collectors other layers add (the engine workers' counters, the live meetings) that read their values
when Prometheus scrapes.

`/metrics` is not public: it answers only a request carrying `Authorization: Bearer <token>` with
the metrics token of the settings (`podium serve` keeps one in `<data dir>/metrics-token`, mode 0600,
unless `--metrics-token` or PODIUM_METRICS_TOKEN gives it). Without a token configured it answers 404.
`serve_separately` serves it, without a token, on an address of its own (`--metrics-address`): one to
bind to loopback or a private network that only the scraper reaches.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import socket
import time
from collections.abc import AsyncIterator, Iterable, Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, disable_created_metrics
from prometheus_client import Histogram as _Histogram
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from control.domain.datagrams import DropReason

disable_created_metrics()  # no *_created series next to every counter and histogram (process-wide)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""The classic text format every Prometheus reads (the names here need none of the newer escaping)."""
METRICS_PATH = "/metrics"

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""Seconds; from half a millisecond (a loopback round trip) to the ack timeout."""

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""Method labels; any other method is counted as "other"."""

UNMATCHED = "<unmatched>"
"""The route label of a request no route matched (one label, whatever its path: bounded cardinality)."""


def Histogram(name: str, help_text: str, buckets: Sequence[float] = LATENCY_BUCKETS) -> _Histogram:
    """A histogram that belongs to no registry: its owner observes into it, and a collector of the
    application yields it (`histogram.collect()`)."""
    return _Histogram(name, help_text, buckets=tuple(buckets), registry=None)


class Metrics:
    """One application's metrics: its registry and the series the HTTP layer keeps."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.http_latency = _Histogram(
            "podium_http_request_duration_seconds",
            "HTTP requests by method, route template and status, from the first byte in to the last byte out.",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.signaling_connections = Gauge(
            "podium_signaling_connections",
            "Open participant WebSockets (/signaling/v1).",
            registry=self.registry,
        )
        self.datagrams_dropped = Counter(
            "podium_webtransport_datagrams_dropped",
            "WebTransport datagrams dropped (in, or not relayed), by reason (control.domain.datagrams.DropReason).",
            ["reason"],
            registry=self.registry,
        )
        for reason in DropReason:  # every reason's series exists from the start, at 0
            self.datagrams_dropped.labels(str(reason))

    def datagram_dropped(self, reason: DropReason) -> None:
        self.datagrams_dropped.labels(str(reason)).inc()

    def add(self, collector: Collector) -> None:
        """A collector whose `collect()` reads its values at scrape time."""
        self.registry.register(collector)

    def remove(self, collector: Collector) -> None:
        self.registry.unregister(collector)

    def render(self) -> bytes:
        return generate_latest(self.registry)


# ---- the endpoint ------------------------------------------------------------------------------


def authorized(request: Request, token: str | None) -> bool:
    """The request carries `Authorization: Bearer <token>` (compared in constant time)."""
    if not token:
        return False
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


async def endpoint(request: Request) -> Response:
    """Prometheus metrics (GET /metrics), for the bearer of the metrics token."""
    metrics: Metrics | None = getattr(request.app.state, "metrics", None)
    token: str | None = getattr(request.app.state, "metrics_token", None)
    if metrics is None or not token:
        return JSONResponse(
            {"error": {"code": "not_found", "message": "metrics are off: no metrics token is configured"}},
            status_code=404,
        )
    if not authorized(request, token):
        return JSONResponse(
            {"error": {"code": "unauthorized", "message": "GET /metrics needs Authorization: Bearer <metrics token>"}},
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    return Response(metrics.render(), media_type=CONTENT_TYPE)


def routes() -> list[BaseRoute]:
    return [Route(METRICS_PATH, endpoint, methods=["GET"])]


def parse_address(address: str) -> tuple[str, int]:
    """ "HOST:PORT" ("[::1]:9464" for IPv6) as (host, port); ValueError otherwise."""
    host, sep, port = address.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"a metrics address is HOST:PORT, not {address!r}")
    return host, int(port)


@contextlib.asynccontextmanager
async def serve_separately(metrics: Metrics, address: str) -> AsyncIterator[tuple[str, int]]:
    """GET /metrics without a token on `address` ("HOST:PORT") while in the block; yields the bound
    address. The socket is bound before this returns, so a taken port fails the caller's startup."""
    import uvicorn  # the control plane's server; only needed here

    async def plain(request: Request) -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    host, port = parse_address(address)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(64)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    app = Starlette(routes=[Route(METRICS_PATH, plain, methods=["GET"])])
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]  # the app's server has them
    task = asyncio.ensure_future(server.serve(sockets=[sock]))
    try:
        yield sock.getsockname()[:2]
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await task
        sock.close()


# ---- the middleware ----------------------------------------------------------------------------


def route_templates(routes: Iterable[BaseRoute]) -> dict[int, str]:
    """id(endpoint) → the path template of its route ("/api/v1/rooms/{room_id}"); a mount is
    named by its path and "{path}"."""
    out: dict[int, str] = {}
    for route in routes:
        if isinstance(route, Route):
            out.setdefault(id(route.endpoint), route.path)
        elif isinstance(route, Mount):
            out.setdefault(id(route.app), (route.path or "") + "/{path}")
    return out


class MetricsMiddleware:
    """Times every HTTP request by route template (the router leaves the endpoint it chose in the
    scope) and counts the open signaling WebSockets."""

    def __init__(self, app: ASGIApp, metrics: Metrics, routes: Iterable[BaseRoute], signaling_path: str) -> None:
        self.app = app
        self.metrics = metrics
        self.templates = route_templates(routes)
        self.signaling_path = signaling_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == self.signaling_path:
            gauge = self.metrics.signaling_connections
            gauge.inc()
            try:
                await self.app(scope, receive, send)
            finally:
                gauge.dec()
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            endpoint = scope.get("endpoint")
            route = self.templates.get(id(endpoint), UNMATCHED) if endpoint is not None else UNMATCHED
            method = scope["method"] if scope["method"] in METHODS else "other"
            self.metrics.http_latency.labels(method, route, str(status)).observe(time.perf_counter() - started)
