"""`GET /signaling/transports`: where a client may carry signaling (docs/signaling.md, "WebTransport").
Unauthenticated, as the page that asks has no token yet; it names addresses, never secrets.

    {"websocket": "/signaling/v1",
     "webtransport": {"url": "https://HOST:PORT/signaling/v1", "certificate_hashes": ["<hex sha-256>"]}}

`webtransport` is null where the server does not serve it; `certificate_hashes` is empty unless the
server runs on a development certificate (browsers then trust it by `serverCertificateHashes`). HOST is
the host the client reached this server by, so the address works from wherever the page was loaded."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from control.settings import WebTransportSettings

PATH = "/signaling/transports"
SIGNALING_PATH = "/signaling/v1"


def offer(settings: WebTransportSettings | None, hostname: str) -> dict[str, object]:
    """The answer for a client that reached this server as `hostname`."""
    if settings is None:
        return {"websocket": SIGNALING_PATH, "webtransport": None}
    host = f"[{hostname}]" if ":" in hostname else hostname
    hashes = [settings.certificate_sha256] if settings.certificate_sha256 else []
    url = f"https://{host}:{settings.port}{SIGNALING_PATH}"
    return {"websocket": SIGNALING_PATH, "webtransport": {"url": url, "certificate_hashes": hashes}}


async def endpoint(request: Request) -> JSONResponse:
    settings: WebTransportSettings | None = getattr(request.app.state, "webtransport", None)
    body = offer(settings, request.url.hostname or "localhost")
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


def routes() -> list[BaseRoute]:
    return [Route(PATH, endpoint, methods=["GET"])]
