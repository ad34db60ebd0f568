"""The control-plane application: create_app(settings) gives a Starlette app whose lifespan opens the
database and applies migrations before the first request."""

import asyncio
import logging
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from control import api, engines, metrics, operator, remote_input, signaling, transports
from control.engines.stats import EngineCollector, WorkerStats
from control.errors import ApiError, Conflict, RateLimited
from control.files import storage
from control.meetings.errors import MeetingElsewhere
from control.meetings.metrics import MeetingCollector
from control.meetings.service import MeetingService
from control.ratelimit import RateLimiter
from control.recording.library import RecordingLibrary
from control.replicas import notice_actions, notices
from control.replicas.invalidation import Notifications
from control.replicas.ownership import Replica, Sole
from control.security import principals, turn
from control.services.attendance import AttendanceObserver
from control.services.chat import ChatObserver
from control.services.context import Context
from control.services.files import FileService
from control.settings import Settings
from control.store import migrate
from control.store.db import create_engine, create_sessionmaker
from control.store.repositories.instance import get_or_create
from control.webhooks.dispatcher import Dispatcher
from control.webhooks.events import WebhookObserver

log = logging.getLogger("podium.control")

TOKEN_KEY_SETTING = "access_token_key"

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    if isinstance(exc, RateLimited):
        headers = {"Retry-After": str(exc.retry_after)}
    if isinstance(exc, MeetingElsewhere):  # the same request, on the replica that runs the meeting
        query = f"?{request.url.query}" if request.url.query else ""
        headers = {"Location": exc.owner_url + request.url.path + query}
    return JSONResponse(exc.body(), status_code=exc.status, headers=headers)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    return JSONResponse(
        {"error": {"code": code, "message": exc.detail}}, status_code=exc.status_code, headers=exc.headers
    )


async def _integrity_error(request: Request, exc: Exception) -> JSONResponse:
    log.info("integrity error on %s %s: %s", request.method, request.url.path, exc)
    return await _api_error(request, Conflict("conflicts with a concurrent change; retry", code="conflict"))


async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse({"error": {"code": "internal_error", "message": "internal error"}}, status_code=500)


WEB_DIR = Path(__file__).parent / "web"


class _WebFiles(StaticFiles):
    """The browser client's files, revalidated on every load (ETag), so an upgrade never mixes modules."""

    def file_response(self, *args: object, **kwargs: object) -> Response:
        response = super().file_response(*args, **kwargs)  # type: ignore[arg-type]
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


class _WebMount(Mount):
    """control/web at /, index.html for directories. It matches HTTP requests only, and none whose first
    path segment belongs to another route (/api, /engine, /signaling, ...), so that their 404 and 405
    answers stay the API's JSON errors."""

    def __init__(self, reserved: frozenset[str]) -> None:
        super().__init__("/", app=_WebFiles(directory=WEB_DIR, html=True), name="web")
        self.reserved = reserved

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or scope["path"].split("/")[1] in self.reserved:
            return Match.NONE, {}
        return super().matches(scope)


def _with_web_client(routes: list[BaseRoute]) -> list[BaseRoute]:
    reserved = frozenset(getattr(r, "path", "/").split("/")[1] for r in routes) - {""}
    return [*routes, _WebMount(reserved)]


async def _replicas(
    settings: Settings, engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]
) -> tuple[Sole, Notifications | None]:
    """On PostgreSQL this process is one replica among any number (control.replicas): meetings by
    lease, principals cached until a change is notified (the notifications, started once the
    meetings they act on exist). On SQLite it is the only process."""
    if engine.dialect.name != "postgresql":
        return Sole(), None
    notifications = Notifications(settings.resolved_database_url(), principals.for_engine(engine))
    url = settings.public_url or "http://127.0.0.1"
    return Replica(sessionmaker, url, settings.lease_ttl), notifications


def _webtransport(app: Starlette, settings: Settings, meetings: MeetingService) -> Any:
    """The WebTransport server (control.webtransport), each session a signaling Session."""
    from control import webtransport  # aioquic only where WebTransport is served

    assert settings.webtransport is not None
    sessions: set[asyncio.Task[None]] = set()

    def open_session(socket: Any) -> None:
        task = asyncio.ensure_future(signaling.Session(socket, meetings, settings.limits, app.state.rate_limiter).run())
        sessions.add(task)
        task.add_done_callback(sessions.discard)

    wt = settings.webtransport
    dropped = app.state.metrics.datagram_dropped  # podium_webtransport_datagrams_dropped_total{reason}
    return webtransport.serving(wt.host, wt.port, wt.cert, wt.key, open_session, settings.limits.max_frame, dropped)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        url = settings.resolved_database_url()
        if settings.database_url is None:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        try:
            await migrate.upgrade(engine)
            sessionmaker = create_sessionmaker(engine)
            token_key = settings.token_key
            if token_key is None:
                async with sessionmaker() as session:
                    token_key = await get_or_create(session, TOKEN_KEY_SETTING, lambda: secrets.token_urlsafe(48))
                    await session.commit()

            @asynccontextmanager
            async def context() -> AsyncIterator[Context]:
                async with sessionmaker() as session:
                    yield Context(session=session, settings=settings, token_key=token_key)

            app.state.context = context
            app.state.engine = engine
            app.state.limits = settings.limits  # request bodies, JSON shapes, signaling frames (control.bounds)
            app.state.rate_limiter = RateLimiter(settings.limits)
            registry = engines.EngineRegistry(settings.engine_secret, grace=settings.engine_grace)
            app.state.engines = registry  # the engine channel's workers and their tables
            ownership, notifications = await _replicas(settings, engine, sessionmaker)
            app.state.ownership = ownership
            meetings = MeetingService(
                context,
                registry,
                ice_servers=lambda pid: turn.ice_servers(settings.turn, pid, time.time()),
                ownership=ownership,
                worker_capacity=settings.worker_capacity,
                pipe_srtp=settings.pipe_srtp,
                recordings=RecordingLibrary(settings.resolved_recordings_dir()),
                storage_quota=settings.storage_quota_bytes,
            )
            # attendance first: the chat observer reads person keys and names from attendance rows
            meetings.add_observer(AttendanceObserver(context))
            meetings.add_observer(ChatObserver(context))
            dispatcher = Dispatcher(sessionmaker, settings.webhooks, token_key)  # signed deliveries to add-ins
            webhook_events = WebhookObserver(context, dispatcher.wake)
            meetings.add_observer(webhook_events)
            app.state.webhooks = dispatcher  # the webhook deliveries' sender (control.webhooks)
            app.state.meetings = meetings  # live meetings (control.meetings)
            app.state.files = FileService(
                storage.open_storage(settings.files, settings.data_dir), settings.files, meetings, dispatcher.wake
            )
            if notifications is not None:  # principals changed, and notices, by any replica
                notifications.handlers[notices.CHANNEL] = lambda payload: notice_actions.received(meetings, payload)
                await notifications.start()
            await meetings.restore(settings.engine_grace)  # those a previous process left running
            await ownership.start()
            dispatcher.start()  # after the restore: deliveries a previous process owed are sent now
            stats = WorkerStats()  # the workers' last reports, for GET /metrics
            registry.add_listener(stats.on_event)
            collectors = [EngineCollector(registry, stats), MeetingCollector(meetings)]
            for collector in collectors:  # read at scrape time (GET /metrics)
                app_metrics.add(collector)
            try:
                async with AsyncExitStack() as stack:
                    if settings.webtransport is not None:  # signaling over HTTP/3 too
                        await stack.enter_async_context(_webtransport(app, settings, meetings))
                    if settings.metrics_address is not None:  # GET /metrics without a token, there only
                        app.state.metrics_bound = await stack.enter_async_context(
                            metrics.serve_separately(app_metrics, settings.metrics_address)
                        )
                    yield
            finally:
                for collector in collectors:
                    app_metrics.remove(collector)
                await ownership.close()  # first: the clients resuming elsewhere are not sent back here
                await meetings.close()
                await webhook_events.close()  # the meeting events still in hand go into the queue
                await dispatcher.close()
                await app.state.files.close()
                await registry.close()
                if notifications is not None:
                    await notifications.close()
        finally:
            await engine.dispose()

    routes = _with_web_client(
        [
            *api.routes(),
            *operator.routes(),
            *engines.routes(),
            *metrics.routes(),
            *signaling.routes(),
            *transports.routes(),
            *remote_input.routes(),
        ]
    )
    app_metrics = metrics.Metrics()  # this application's own registry of series
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(metrics.MetricsMiddleware, app_metrics, routes, signaling.PATH)],
        exception_handlers={
            ApiError: _api_error,
            HTTPException: _http_error,
            IntegrityError: _integrity_error,
            Exception: _internal_error,
        },
    )
    app.state.metrics = app_metrics
    app.state.metrics_token = settings.metrics_token
    app.state.operator_token = settings.operator_token
    app.state.webtransport = settings.webtransport
    return app
