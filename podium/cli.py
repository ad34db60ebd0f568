"""`podium serve`, `podium bootstrap` and other administration commands."""

import argparse
import asyncio
import contextlib
import importlib.util
import logging
import os
import re
import secrets
import signal
import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import uvicorn

if TYPE_CHECKING:
    from control.settings import Limits

log = logging.getLogger("podium")

WORKER_MODULE = "engine.worker"
WORKER_START_TIMEOUT = 10.0
WORKER_STOP_TIMEOUT = 5.0
RESTART_FIRST_DELAY = 0.5
"""Seconds before the second restart of a worker that keeps exiting; doubled for each next one."""
RESTART_MAX_DELAY = 30.0
RESTART_STABLE = 10.0
"""Seconds a worker must run for its next exit to be restarted at once again (the backoff resets)."""
ENGINE_SECRET_ENV = "PODIUM_ENGINE_SECRET"
ENGINE_GRACE_ENV = "PODIUM_ENGINE_GRACE"
RESUME_GRACE_ENV = "PODIUM_RESUME_GRACE"
METRICS_TOKEN_ENV = "PODIUM_METRICS_TOKEN"
METRICS_TOKEN_FILE = "metrics-token"
METRICS_ADDRESS_ENV = "PODIUM_METRICS_ADDRESS"
OPERATOR_TOKEN_ENV = "PODIUM_OPERATOR_TOKEN"
RATE_LIMITS_ENV = "PODIUM_RATE_LIMITS"
LOCAL_WORKER_ID = "local"


def _database_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, default=Path("data"), help="where SQLite keeps its file (./data)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("PODIUM_DATABASE_URL"),
        help="e.g. postgresql://user:pass@host/db (default: SQLite in the data directory)",
    )


def _rate(text: str) -> tuple[str, str | None]:
    """NAME=RATE of --rate-limit: a name of control.settings.RATE_NAMES, a rate the `limits` library parses
    ("20/minute", "5 per 10 seconds") or "off"."""
    from control.ratelimit import parse_rate
    from control.settings import RATE_NAMES

    name, _, rate = text.partition("=")
    name, rate = name.strip(), rate.strip()
    if name not in RATE_NAMES:
        raise argparse.ArgumentTypeError(f"unknown rate limit {name!r} (one of {', '.join(RATE_NAMES)})")
    if rate == "off":
        return name, None
    try:
        parse_rate(rate)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{rate!r} is not a rate such as 20/minute or '5 per 10 seconds'") from None
    return name, rate


def _limit_options(parser: argparse.ArgumentParser) -> None:
    from control.settings import RATE_NAMES, Limits

    defaults = Limits()
    parser.add_argument(
        "--max-body",
        type=int,
        default=defaults.max_body,
        metavar="BYTES",
        help=f"largest body of an authenticated API request (default {defaults.max_body}; 413 beyond)",
    )
    parser.add_argument(
        "--max-body-unauthenticated",
        type=int,
        default=defaults.max_body_unauthenticated,
        metavar="BYTES",
        help="largest body of a request without credentials: sign-in, refresh, invitations "
        f"(default {defaults.max_body_unauthenticated})",
    )
    parser.add_argument(
        "--max-frame",
        type=int,
        default=defaults.max_frame,
        metavar="CHARACTERS",
        help=f"longest signaling frame (default {defaults.max_frame}; an error frame answers a longer one)",
    )
    rates = ", ".join(f"{name}={rate}" for name, rate in defaults.rates().items())
    parser.add_argument(
        "--rate-limit",
        type=_rate,
        action="append",
        default=[],
        metavar="NAME=RATE",
        help=f"a rate limit ({', '.join(RATE_NAMES)}) as 20/minute, '5 per 10 seconds' or off; repeatable; "
        f"also {RATE_LIMITS_ENV}, comma-separated (defaults: {rates})",
    )


def _limits(parser: argparse.ArgumentParser, args: argparse.Namespace) -> "Limits":
    from dataclasses import replace

    from control.settings import Limits

    rates: dict[str, str | None] = {}
    for item in filter(None, (part.strip() for part in os.environ.get(RATE_LIMITS_ENV, "").split(","))):
        try:
            name, rate = _rate(item)
        except argparse.ArgumentTypeError as error:
            parser.error(f"{RATE_LIMITS_ENV}: {error}")
        rates[name] = rate
    rates.update(args.rate_limit)  # the command line wins over the environment
    from contract.framing import MAX_FRAME_BYTES

    for option in ("max_body", "max_body_unauthenticated", "max_frame"):
        if getattr(args, option) < 1:
            parser.error(f"--{option.replace('_', '-')} must be at least 1")
    if args.max_frame > MAX_FRAME_BYTES:
        parser.error(f"--max-frame must be at most {MAX_FRAME_BYTES} (the WebSocket layer's limit)")
    return replace(
        Limits(),
        max_body=args.max_body,
        max_body_unauthenticated=args.max_body_unauthenticated,
        max_frame=args.max_frame,
        **rates,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="podium", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the control plane and a local engine worker")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--no-engine", action="store_true", help="do not start a local engine worker")
    serve.add_argument(
        "--engine-secret",
        default=os.environ.get(ENGINE_SECRET_ENV),
        help=f"the engine channel's shared secret, for workers on other hosts (or {ENGINE_SECRET_ENV}; "
        "default: a new one, known only to the local worker)",
    )
    serve.add_argument(
        "--engine-grace",
        type=float,
        default=float(os.environ.get(ENGINE_GRACE_ENV, 15.0)),
        help="seconds an engine worker may stay away before its meetings move to another worker "
        f"(or {ENGINE_GRACE_ENV}; default 15)",
    )
    serve.add_argument(
        "--resume-grace",
        type=float,
        default=float(os.environ.get(RESUME_GRACE_ENV, 20.0)),
        help="seconds a participant whose connection dropped stays in the meeting, resumable, before "
        f"they leave (or {RESUME_GRACE_ENV}; default 20)",
    )
    serve.add_argument(
        "--metrics-token",
        default=os.environ.get(METRICS_TOKEN_ENV),
        help=f"the bearer token GET /metrics requires (or {METRICS_TOKEN_ENV}; default: one kept in "
        f"<data dir>/{METRICS_TOKEN_FILE}, readable by this user only)",
    )
    serve.add_argument(
        "--operator-token",
        default=os.environ.get(OPERATOR_TOKEN_ENV),
        help=f"enable the instance operator API (/operator/v1: companies, quotas, suspension) for this "
        f"bearer token (or {OPERATOR_TOKEN_ENV}; default: that API is off)",
    )
    serve.add_argument(
        "--metrics-address",
        metavar="HOST:PORT",
        default=os.environ.get(METRICS_ADDRESS_ENV),
        help=f"also serve GET /metrics there, without a token (or {METRICS_ADDRESS_ENV}); bind it to "
        "loopback or a network only the scraper reaches, e.g. 127.0.0.1:9464",
    )
    _limit_options(serve)
    _database_options(serve)

    bootstrap = commands.add_parser("bootstrap", help="create a company and its first administrator")
    bootstrap.add_argument("--company", required=True, help="the company's name")
    bootstrap.add_argument("--slug", help="the company's short name used at login (default: from its name)")
    bootstrap.add_argument("--email", required=True, help="the administrator's email")
    bootstrap.add_argument(
        "--password",
        default=os.environ.get("PODIUM_PASSWORD"),
        help="the administrator's password (or PODIUM_PASSWORD)",
    )
    bootstrap.add_argument("--name", help="the administrator's name (default: the email)")
    bootstrap.add_argument("--max-rooms", type=int, default=100)
    bootstrap.add_argument("--max-users", type=int, default=100)
    bootstrap.add_argument("--max-participants", type=int, default=250)
    _database_options(bootstrap)

    engine = commands.add_parser("engine", help="run an engine worker that dials a control plane")
    engine.add_argument(
        "--control",
        required=True,
        metavar="URL",
        help="the control plane's engine channel, e.g. wss://podium.example/engine/v1/channel",
    )
    engine.add_argument(
        "--secret",
        help=f"the engine channel's shared secret (better: {ENGINE_SECRET_ENV} or "
        "--secret-file, which keep it out of the process list)",
    )
    engine.add_argument("--secret-file", help="a file holding the shared secret")
    engine.add_argument("--host", default="::", help="UDP address to bind ('::': dual-stack, all interfaces)")
    engine.add_argument("--port", type=int, default=0, help="UDP port (0: any free port)")
    engine.add_argument(
        "--announce", action="append", metavar="HOST", help="a host WebRTC peers reach this worker at (repeatable)"
    )
    engine.add_argument("--worker-id", help="this worker's stable name (default: hostname:port)")
    engine.add_argument("--log-level", default="INFO")
    return parser


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:63].strip("-")
    return slug or "company"


# serve


def _die_with_parent() -> None:
    """In the child: get SIGTERM when `podium serve` dies, however it dies (Linux only)."""
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


async def _pump(stream: asyncio.StreamReader, prefix: str) -> None:
    async for line in stream:
        log.info("%s%s", prefix, line.decode(errors="replace").rstrip())


class EngineWorker:
    """A local engine worker subprocess, supervised: started before the control plane serves,
    started again whenever it exits (at once the first time, then with a growing delay while it
    keeps failing), stopped after the control plane.

    `on_exit(restarting)` is called as soon as the process is seen to exit (not when it is being
    stopped): `podium serve` tells its engine registry there, so that the worker's meetings move
    without waiting for the grace period."""

    def __init__(
        self,
        *options: str,
        secret: str | None = None,
        on_exit: Callable[[bool], None] | None = None,
        module: str = WORKER_MODULE,
    ) -> None:
        self.options = options
        """More options of `python -m engine.worker` (e.g. --control URL)."""
        self.secret = secret
        """The engine channel's secret, given in the environment (not on the command line)."""
        self.on_exit = on_exit
        self.module = module
        self.process: asyncio.subprocess.Process | None = None
        self.address: str | None = None
        self.restarts = 0
        """Times the worker was started again after it exited."""
        self._failures = 0
        """Exits in a row, each after less than RESTART_STABLE seconds of life: the backoff's step."""
        self._stopping = False
        self._supervisor: asyncio.Task[None] | None = None
        self._pumps: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        if importlib.util.find_spec(self.module) is None:
            log.warning("engine worker module %s is not available: serving without a local engine", self.module)
            return
        await self._spawn()
        self._supervisor = asyncio.create_task(self._supervise())

    async def _spawn(self) -> None:
        self.process = process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            self.module,
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            *self.options,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            preexec_fn=_die_with_parent,
            env={**os.environ, ENGINE_SECRET_ENV: self.secret} if self.secret else None,
        )
        assert process.stdout is not None and process.stderr is not None
        self._pumps = [p for p in self._pumps if not p.done()]
        self._pumps.append(asyncio.create_task(_pump(process.stderr, "engine worker: ")))
        try:
            line = await asyncio.wait_for(process.stdout.readline(), WORKER_START_TIMEOUT)
        except TimeoutError:
            line = b""
        if not line:
            log.error("engine worker (pid %d) printed no address within %.0f s", process.pid, WORKER_START_TIMEOUT)
        else:
            self.address = line.decode(errors="replace").strip()
            log.info("engine worker (pid %d) listening on %s", process.pid, self.address)
        self._pumps.append(asyncio.create_task(_pump(process.stdout, "engine worker: ")))

    async def _supervise(self) -> None:
        """Waits for the worker to exit, reports it, and starts it again (with backoff)."""
        loop = asyncio.get_running_loop()
        while True:
            process = self.process
            assert process is not None
            started = loop.time()
            status = await process.wait()
            if self._stopping:
                return
            if loop.time() - started >= RESTART_STABLE:
                self._failures = 0
            log.error("engine worker (pid %d) exited with status %s: restarting it", process.pid, status)
            if self.on_exit is not None:
                try:
                    self.on_exit(True)
                except Exception:
                    log.exception("engine worker exit handler failed")
            while True:
                delay = restart_delay(self._failures)
                self._failures += 1
                if delay:
                    log.info("engine worker: restarting in %g s", delay)
                    await asyncio.sleep(delay)
                if self._stopping:
                    return
                try:
                    await self._spawn()
                    break
                except OSError as error:  # e.g. out of processes: try again after the next delay
                    log.error("engine worker could not be started: %s", error)
            self.restarts += 1

    async def stop(self) -> None:
        self._stopping = True
        process = self.process
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), WORKER_STOP_TIMEOUT)
            except TimeoutError:
                log.warning("engine worker (pid %d) ignored SIGTERM: killing it", process.pid)
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        if process is not None:
            log.info("engine worker stopped (exit status %s)", process.returncode)
        tasks = [*self._pumps, *([self._supervisor] if self._supervisor else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def restart_delay(failures: int) -> float:
    """Seconds before starting a worker again after `failures` quick exits in a row: none after the
    first exit (a crash of a worker that ran well), then doubling up to RESTART_MAX_DELAY."""
    if failures <= 0:
        return 0.0
    return float(min(RESTART_MAX_DELAY, RESTART_FIRST_DELAY * 2 ** (failures - 1)))


class _Server(uvicorn.Server):
    """Uvicorn re-raises SIGTERM/SIGINT once it has shut down, which would end the process before the
    engine worker is stopped: take the signal as a request to stop, and exit normally."""

    def __init__(self, config: uvicorn.Config, app: Any) -> None:
        super().__init__(config)
        self.app = app

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # uvicorn closes every WebSocket (1012) before the application's lifespan ends: the meetings
        # must know first that a closed socket is a restart, not a participant leaving
        meetings = getattr(self.app.state, "meetings", None)
        if meetings is not None:
            meetings.stopping()
        await super().shutdown(sockets)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            yield
            captured = getattr(self, "_captured_signals", None)
            if captured:
                log.info("stopping on signal %s", ", ".join(signal.Signals(s).name for s in captured))
                captured.clear()


async def _serve(args: argparse.Namespace, limits: "Limits") -> None:
    from contract.framing import MAX_FRAME_BYTES
    from control.app import create_app
    from control.settings import Settings

    engine_secret = args.engine_secret or secrets.token_urlsafe(32)
    settings = Settings(
        data_dir=args.data_dir,
        database_url=args.database_url,
        engine_secret=engine_secret,
        engine_grace=args.engine_grace,
        resume_grace=args.resume_grace,
        metrics_token=args.metrics_token or metrics_token_file(args.data_dir),
        metrics_address=args.metrics_address,
        operator_token=args.operator_token,
        limits=limits,
    )
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        log_level="info",
        lifespan="on",
        ws_max_size=MAX_FRAME_BYTES,  # every WebSocket's: the engine channel's frames (signaling's are smaller)
    )
    server = _Server(config, app)

    def worker_exited(restarting: bool) -> None:
        """The local worker died: its meetings move now (to another worker, or to this one once
        restarted), not after the grace period."""
        registry = getattr(app.state, "engines", None)  # set by the application's lifespan
        if registry is not None:
            registry.worker_exited(LOCAL_WORKER_ID, restarting=restarting)

    worker = EngineWorker(
        "--control",
        _channel_url(args.host, args.port),
        "--worker-id",
        LOCAL_WORKER_ID,
        secret=engine_secret,
        on_exit=worker_exited,
    )
    if not args.no_engine:
        await worker.start()
    try:
        await server.serve()
    finally:
        await worker.stop()


def metrics_token_file(data_dir: Path) -> str:
    """The metrics token kept in <data dir>/metrics-token (mode 0600), made on first use: a Prometheus
    on this host reads it (`authorization: {credentials_file: ...}`), nobody else can."""
    path = data_dir / METRICS_TOKEN_FILE
    try:
        token = path.read_text().strip()
    except FileNotFoundError:
        token = ""
    if not token:
        data_dir.mkdir(parents=True, exist_ok=True)
        token = secrets.token_urlsafe(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(token + "\n")
        log.info("GET /metrics needs 'Authorization: Bearer <the token in %s>'", path)
    return token


def _channel_url(host: str, port: int) -> str:
    """Where a worker on this host reaches the engine channel of a control plane bound to host:port."""
    from control.engines.channel import CHANNEL_PATH

    if host in ("", "0.0.0.0", "localhost"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"ws://{f'[{host}]' if ':' in host else host}:{port}{CHANNEL_PATH}"


# engine


def _engine(args: argparse.Namespace) -> int:
    from engine.worker.__main__ import main

    argv = ["--control", args.control, "--host", args.host, "--port", str(args.port), "--log-level", args.log_level]
    for option in ("secret", "secret_file", "worker_id"):
        if getattr(args, option) is not None:
            argv += [f"--{option.replace('_', '-')}", getattr(args, option)]
    for host in args.announce or []:
        argv += ["--announce", host]
    return main(argv)


# bootstrap


async def _bootstrap(args: argparse.Namespace) -> int:
    from control.domain.quotas import Quotas
    from control.errors import ApiError
    from control.services import companies
    from control.services.context import Context
    from control.settings import Settings
    from control.store import migrate
    from control.store.db import create_engine, create_sessionmaker

    settings = Settings(data_dir=args.data_dir, database_url=args.database_url)
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.resolved_database_url())
    try:
        await migrate.upgrade(engine)
        async with create_sessionmaker(engine)() as session:
            ctx = Context(session=session, settings=settings, token_key="")
            company, admin = await companies.bootstrap(
                ctx,
                slug=args.slug or slugify(args.company),
                name=args.company,
                email=args.email,
                password=args.password,
                admin_name=args.name or args.email,
                quotas=Quotas(
                    max_rooms=args.max_rooms, max_users=args.max_users, max_participants=args.max_participants
                ),
            )
    except ApiError as exc:
        print(f"podium bootstrap: {exc.message}", file=sys.stderr)
        return 1
    finally:
        await engine.dispose()
    print(f"company {company.slug} ({company.id}) created; administrator {admin.email} ({admin.id})")
    return 0


def _validate_bootstrap(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    from pydantic import TypeAdapter, ValidationError

    from control.api.schemas import Email, Name, Password, Slug

    checks = [
        ("--company", Name, args.company),
        ("--email", Email, args.email),
        ("--password", Password, args.password),
        ("--slug", Slug, args.slug or slugify(args.company)),
    ]
    if args.name is not None:
        checks.append(("--name", Name, args.name))
    for option, kind, value in checks:
        if value is None:
            parser.error(f"{option} is required")
        try:
            TypeAdapter(kind).validate_python(value)
        except ValidationError as exc:
            parser.error(f"{option}: {exc.errors()[0]['msg']}")
    for option in ("max_rooms", "max_users", "max_participants"):
        if getattr(args, option) < 1:
            parser.error(f"--{option.replace('_', '-')} must be at least 1")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "serve":
        asyncio.run(_serve(args, _limits(parser, args)))
        return 0
    if args.command == "engine":
        return _engine(args)
    if args.command == "bootstrap":
        _validate_bootstrap(parser, args)
        return asyncio.run(_bootstrap(args))
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
