"""`podium serve`, `podium bootstrap` and other administration commands."""

import argparse
import asyncio
import contextlib
import importlib.util
import ipaddress
import logging
import os
import re
import secrets
import signal
import site
import socket
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import uvicorn

from podium import file_options, network

if TYPE_CHECKING:
    from control.security.turn import TurnSettings
    from control.settings import Limits, WebTransportSettings

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
WORKER_CAPACITY_ENV = "PODIUM_WORKER_CAPACITY"
PIPE_SRTP_ENV = "PODIUM_PIPE_SRTP"
RESUME_GRACE_ENV = "PODIUM_RESUME_GRACE"
METRICS_TOKEN_ENV = "PODIUM_METRICS_TOKEN"
METRICS_TOKEN_FILE = "metrics-token"
METRICS_ADDRESS_ENV = "PODIUM_METRICS_ADDRESS"
OPERATOR_TOKEN_ENV = "PODIUM_OPERATOR_TOKEN"
RATE_LIMITS_ENV = "PODIUM_RATE_LIMITS"
FORWARDED_ALLOW_IPS_ENV = "PODIUM_FORWARDED_ALLOW_IPS"
TURN_SECRET_ENV = "PODIUM_TURN_SECRET"
PUBLIC_URL_ENV = "PODIUM_PUBLIC_URL"
LEASE_TTL_ENV = "PODIUM_LEASE_TTL"
LOCAL_WORKER_ID = "local"
"""The first local worker's id; the others are local-2, local-3, ..."""


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


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _address_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--bind",
        "--host",
        dest="bind",
        action="append",
        type=network.address,
        metavar="ADDRESS",
        help="an address the HTTP(S) server listens on (repeatable; default 127.0.0.1: this host only; "
        "0.0.0.0 or :: for every interface)",
    )
    parser.add_argument(
        "--announce",
        action="append",
        type=network.address,
        default=[],
        metavar="ADDRESS",
        help="an address browsers reach the engine workers at, put in the ICE candidates (repeatable: "
        "IPv4 and IPv6, or a NAT's public address; default: the media bind address)",
    )


def _tls_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tls-cert", type=Path, metavar="PEM", help="serve HTTPS and WSS with this certificate (chain)"
    )
    parser.add_argument("--tls-key", type=Path, metavar="PEM", help="the private key of --tls-cert")
    parser.add_argument(
        "--forwarded-allow-ips",
        default=os.environ.get(FORWARDED_ALLOW_IPS_ENV),
        metavar="ADDRESSES",
        help="comma-separated addresses or networks of reverse proxies whose X-Forwarded-For and "
        f"X-Forwarded-Proto are honoured (or {FORWARDED_ALLOW_IPS_ENV}; default: none, headers ignored)",
    )


def _turn_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--turn-url",
        action="append",
        default=[],
        metavar="URL",
        help="a TURN server for clients, e.g. turn:turn.example.com:3478 or turns:turn.example.com:443"
        "?transport=tcp (repeatable)",
    )
    parser.add_argument(
        "--turn-secret",
        default=os.environ.get(TURN_SECRET_ENV),
        help=f"the TURN server's static-auth-secret (better: {TURN_SECRET_ENV} or --turn-secret-file)",
    )
    parser.add_argument("--turn-secret-file", type=Path, metavar="FILE", help="a file holding the TURN secret")
    parser.add_argument(
        "--turn-ttl",
        type=int,
        default=12 * 3600,
        metavar="SECONDS",
        help="how long a participant's TURN credential lives; more than the longest meeting (default 43200)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="podium", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the control plane and its local engine workers")
    _address_options(serve)
    serve.add_argument("--port", type=int, default=8000, help="the HTTP(S) port of every --bind address (8000)")
    serve.add_argument("--no-engine", action="store_true", help="do not start local engine workers")
    serve.add_argument(
        "--workers",
        type=int,
        default=_cores(),
        metavar="N",
        help=f"local engine workers, each a supervised process with its own UDP port (default: the cores, {_cores()})",
    )
    serve.add_argument(
        "--media-bind",
        type=network.address,
        metavar="ADDRESS",
        help="the UDP address of the local engine workers (default: the --bind address, or :: when several)",
    )
    serve.add_argument(
        "--media-port",
        type=int,
        default=0,
        metavar="PORT",
        help="UDP port of the first local worker, PORT+1 the second, ... (default 0: any free port)",
    )
    _tls_options(serve)
    serve.add_argument(
        "--webtransport-port",
        type=int,
        metavar="PORT",
        help="also carry signaling over WebTransport (HTTP/3) on this UDP port of the first --bind address; "
        "needs --tls-cert and --tls-key, or --dev-certificate",
    )
    serve.add_argument(
        "--dev-certificate",
        action="store_true",
        help="serve WebTransport on a new self-signed certificate (ECDSA P-256, 13 days) that browsers trust "
        "by its published SHA-256 hash (serverCertificateHashes): for development, never production",
    )
    _turn_options(serve)
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
        "--worker-capacity",
        type=_positive_int,
        default=os.environ.get(WORKER_CAPACITY_ENV) or None,  # a string: argparse checks it as the option
        help="participants a worker takes before a meeting spills onto the next worker, its media piped "
        f"between them (or {WORKER_CAPACITY_ENV}; default: no limit, a meeting stays on one worker)",
    )
    serve.add_argument(
        "--pipe-srtp",
        choices=("between-hosts", "always"),
        default=os.environ.get(PIPE_SRTP_ENV, "between-hosts"),
        help="SRTP on the pipes between workers: only between workers on different hosts (default), or always "
        f"(or {PIPE_SRTP_ENV}); the control plane makes the keys",
    )
    serve.add_argument(
        "--recordings-dir",
        type=Path,
        default=os.environ.get("PODIUM_RECORDINGS_DIR"),
        help="where meeting recordings are written (or PODIUM_RECORDINGS_DIR; default <data dir>/recordings)",
    )
    serve.add_argument(
        "--storage-quota",
        type=int,
        default=None,
        metavar="BYTES",
        help="bytes of recordings each company may keep (default: no limit)",
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
    serve.add_argument(
        "--public-url",
        default=os.environ.get(PUBLIC_URL_ENV),
        metavar="URL",
        help=f"this replica's own base URL, where the other replicas send the participants of its meetings "
        f"(or {PUBLIC_URL_ENV}; default: the first URL it says browsers reach it at); PostgreSQL only",
    )
    serve.add_argument(
        "--lease-ttl",
        type=float,
        default=float(os.environ.get(LEASE_TTL_ENV, 6.0)),
        metavar="SECONDS",
        help="seconds a replica's hold on a meeting lasts unless renewed: how soon another replica takes "
        f"over the meetings of one that died (or {LEASE_TTL_ENV}; default 6); PostgreSQL only",
    )
    _limit_options(serve)
    file_options.add_options(serve)
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
    engine.add_argument(
        "--bind",
        "--host",
        dest="bind",
        type=network.address,
        default=network.LOOPBACK,
        metavar="ADDRESS",
        help="UDP address to bind (default 127.0.0.1; 0.0.0.0 or :: for every interface, with --announce)",
    )
    engine.add_argument("--port", type=int, default=0, help="UDP port (0: any free port)")
    engine.add_argument(
        "--announce",
        action="append",
        type=network.address,
        default=[],
        metavar="ADDRESS",
        help="an address WebRTC peers reach this worker at, put in the ICE candidates (repeatable: IPv4 "
        "and IPv6, or a NAT's public address; default: the bound address)",
    )
    engine.add_argument(
        "--control-certificate",
        metavar="PEM",
        help="trust exactly this certificate for a wss:// --control URL (a self-signed control plane)",
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


def import_root(module: str) -> str | None:
    """The directory this process imports `module`'s top-level package (or module) from, if any."""
    spec = importlib.util.find_spec(module.partition(".")[0])
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return str(Path(next(iter(spec.submodule_search_locations))).parent)
    return str(Path(spec.origin).parent) if spec.origin else None


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
        host: str = network.LOOPBACK,
        port: int = 0,
        name: str = "engine worker",
    ) -> None:
        self.options = options
        """More options of `python -m engine.worker` (e.g. --control URL)."""
        self.secret = secret
        """The engine channel's secret, given in the environment (not on the command line)."""
        self.on_exit = on_exit
        self.module = module
        self.host = host
        """The UDP address it binds."""
        self.port = port
        """Its UDP port (0: any free port; a restarted worker then gets another one)."""
        self.name = name
        """How the log names it ("engine worker local-2")."""
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

    def _environment(self) -> dict[str, str]:
        """The worker's environment: the engine channel's secret, and the module's location first on
        its path. The worker then imports the engine this process found (installed, or a checkout
        built in place), never one that happens to lie in the working directory: `python -m` would
        put that first (hence `-P`), and a source checkout's engine/ has no compiled fast path."""
        env = dict(os.environ)
        root = import_root(self.module)
        # an installed engine needs nothing: site-packages is on every path, after the standard library
        if root is not None and root not in (*site.getsitepackages(), site.getusersitepackages()):
            env["PYTHONPATH"] = os.pathsep.join([root, *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])])
        if self.secret:
            env[ENGINE_SECRET_ENV] = self.secret
        return env

    async def _spawn(self) -> None:
        self.process = process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-P",
            "-m",
            self.module,
            "--host",
            self.host,
            "--port",
            str(self.port),
            *self.options,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            preexec_fn=_die_with_parent,
            env=self._environment(),
        )
        assert process.stdout is not None and process.stderr is not None
        self._pumps = [p for p in self._pumps if not p.done()]
        self._pumps.append(asyncio.create_task(_pump(process.stderr, f"{self.name}: ")))
        try:
            line = await asyncio.wait_for(process.stdout.readline(), WORKER_START_TIMEOUT)
        except TimeoutError:
            log.error("%s (pid %d) printed no address within %.0f s", self.name, process.pid, WORKER_START_TIMEOUT)
        else:
            if line:
                self.address = line.decode(errors="replace").strip()
                log.info("%s (pid %d) listening on %s", self.name, process.pid, self.address)
            else:  # its output ended before the address: it is exiting (its stderr, logged, says why)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(process.wait(), WORKER_START_TIMEOUT)
                log.error(
                    "%s (pid %d) exited with status %s before it printed its address",
                    self.name,
                    process.pid,
                    process.returncode,
                )
        self._pumps.append(asyncio.create_task(_pump(process.stdout, f"{self.name}: ")))

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
            log.error("%s (pid %d) exited with status %s: restarting it", self.name, process.pid, status)
            if self.on_exit is not None:
                try:
                    self.on_exit(True)
                except Exception:
                    log.exception("%s: exit handler failed", self.name)
            while True:
                delay = restart_delay(self._failures)
                self._failures += 1
                if delay:
                    log.info("%s: restarting in %g s", self.name, delay)
                    await asyncio.sleep(delay)
                if self._stopping:
                    return
                try:
                    await self._spawn()
                    break
                except OSError as error:  # e.g. out of processes: try again after the next delay
                    log.error("%s could not be started: %s", self.name, error)
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
                log.warning("%s (pid %d) ignored SIGTERM: killing it", self.name, process.pid)
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        if process is not None:
            log.info("%s stopped (exit status %s)", self.name, process.returncode)
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
    engine workers are stopped: take the signal as a request to stop, and exit normally. Once it
    listens, it says where browsers reach it."""

    def __init__(self, config: uvicorn.Config, app: Any, urls: list[str]) -> None:
        super().__init__(config)
        self.app = app
        self.urls = urls
        """Where browsers reach it (`network.browser_urls`)."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            log.info("Podium is ready: browsers reach it at %s", ", ".join(self.urls))

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


@dataclass(frozen=True)
class Reach:
    """Where `podium serve` listens and how it is reached, from its options (`_reach`)."""

    binds: list[str]
    """The HTTP(S) server's addresses."""
    media_bind: str
    """The local engine workers' UDP address."""
    announce: list[str]
    """The hosts of the workers' ICE candidates."""
    tls: bool
    forwarded_allow_ips: str | None
    turn: "TurnSettings | None"


def _reach(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Reach:
    """The addresses, TLS, proxies and TURN of `podium serve`, checked (parser.error on a mistake)."""
    binds = list(dict.fromkeys(args.bind or [network.LOOPBACK]))
    media_bind = network.media_bind(binds, args.media_bind)
    announce: list[str] = []
    if not args.no_engine:
        try:
            announce = network.announced(media_bind, args.announce, binds if args.media_bind is None else ())
        except ValueError as error:
            parser.error(str(error))
    if (args.tls_cert is None) != (args.tls_key is None):
        parser.error("--tls-cert and --tls-key go together")
    for path in filter(None, (args.tls_cert, args.tls_key)):
        if not path.is_file():
            parser.error(f"{path}: no such file")
    proxies = None
    if args.forwarded_allow_ips:
        proxies = [part.strip() for part in args.forwarded_allow_ips.split(",") if part.strip()]
        for proxy in proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                parser.error(f"--forwarded-allow-ips: {proxy!r} is not an address or a network")
    if args.dev_certificate and args.webtransport_port is None:
        parser.error("--dev-certificate is for --webtransport-port")
    certified = args.tls_cert is not None or args.dev_certificate
    if args.webtransport_port is not None and (not certified or not 0 < args.webtransport_port < 65536):
        parser.error(
            "--webtransport-port needs --tls-cert and --tls-key or --dev-certificate (QUIC is always encrypted), "
            "and a port"
        )
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    if not 0 <= args.media_port <= 65535 - args.workers:
        parser.error("--media-port leaves no room for the workers' ports")
    return Reach(
        binds,
        media_bind,
        announce,
        args.tls_cert is not None,
        ",".join(proxies) if proxies else None,
        _turn(parser, args),
    )


def _turn(parser: argparse.ArgumentParser, args: argparse.Namespace) -> "TurnSettings | None":
    """The TURN servers of --turn-url with the secret of --turn-secret(-file); None without either."""
    from control.security.turn import TurnSettings

    secret = args.turn_secret
    if args.turn_secret_file is not None:
        try:
            secret = args.turn_secret_file.read_text().strip()
        except OSError as error:
            parser.error(f"--turn-secret-file: {error}")
    if not (args.turn_url or secret):
        return None
    try:
        return TurnSettings(tuple(args.turn_url), secret or "", args.turn_ttl)
    except ValueError as error:
        parser.error(f"TURN: {error}")


def _webtransport_settings(args: argparse.Namespace, reach: Reach) -> "WebTransportSettings | None":
    """WebTransport on the TLS certificate, or on a new development certificate published by its hash."""
    from control.settings import WebTransportSettings

    if args.webtransport_port is None:
        return None
    host, port = reach.binds[0], args.webtransport_port
    if not args.dev_certificate:
        return WebTransportSettings(host, port, args.tls_cert, args.tls_key)
    from control import dev_certificate

    names = [h for h in ["localhost", "127.0.0.1", "::1", *reach.binds, *reach.announce] if h not in network.WILDCARDS]
    made = dev_certificate.make(Path(args.data_dir) / "dev-certificate", names)
    log.warning("WebTransport on a development certificate, SHA-256 %s (browsers trust it by this hash)", made.sha256)
    return WebTransportSettings(host, port, made.cert, made.key, certificate_sha256=made.sha256)


def _warn_exposure(reach: Reach) -> None:
    exposed = network.exposed(reach.binds)
    if exposed and not reach.tls:
        log.warning(
            "serving plain HTTP on %s, beyond this host: browsers allow camera and microphone only on "
            "https:// pages, and tokens cross the network in the clear. Give --tls-cert and --tls-key, or "
            "bind 127.0.0.1 behind a TLS reverse proxy (--forwarded-allow-ips); see docs/deployment.md",
            ", ".join(exposed),
        )


def local_worker_id(index: int) -> str:
    """The id of local worker `index` (from 0): "local", then "local-2", "local-3", ..."""
    return LOCAL_WORKER_ID if index == 0 else f"{LOCAL_WORKER_ID}-{index + 1}"


async def _serve(args: argparse.Namespace, limits: "Limits", reach: Reach) -> None:
    from contract.framing import MAX_FRAME_BYTES
    from control.app import create_app
    from control.settings import Settings

    try:
        sockets = network.listen_sockets(reach.binds, args.port)
    except OSError as error:
        log.error("cannot listen on %s port %d: %s", ", ".join(reach.binds), args.port, error.strerror or error)
        raise SystemExit(1) from None
    port = sockets[0].getsockname()[1]
    urls = network.browser_urls(reach.binds, reach.announce, port, reach.tls)
    engine_secret = args.engine_secret or secrets.token_urlsafe(32)
    files, webhooks = file_options.settings_from(args)
    settings = Settings(
        data_dir=args.data_dir,
        database_url=args.database_url,
        engine_secret=engine_secret,
        engine_grace=args.engine_grace,
        worker_capacity=args.worker_capacity,
        pipe_srtp=args.pipe_srtp == "always",
        resume_grace=args.resume_grace,
        recordings_dir=Path(args.recordings_dir) if args.recordings_dir else None,
        storage_quota_bytes=args.storage_quota,
        metrics_token=args.metrics_token or metrics_token_file(args.data_dir),
        metrics_address=args.metrics_address,
        operator_token=args.operator_token,
        limits=limits,
        turn=reach.turn,
        public_url=args.public_url or urls[0],
        lease_ttl=args.lease_ttl,
        webtransport=_webtransport_settings(args, reach),
        files=files,
        webhooks=webhooks,
    )
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        port=port,
        log_level="info",
        lifespan="on",
        ws_max_size=MAX_FRAME_BYTES,  # every WebSocket's: the engine channel's frames (signaling's are smaller)
        ssl_certfile=str(args.tls_cert) if reach.tls else None,
        ssl_keyfile=str(args.tls_key) if reach.tls else None,
        # uvicorn trusts 127.0.0.1 by default: only the proxies the operator names here
        proxy_headers=reach.forwarded_allow_ips is not None,
        forwarded_allow_ips=reach.forwarded_allow_ips or "",
    )
    server = _Server(config, app, urls)
    _warn_exposure(reach)
    if reach.turn is not None:
        log.info("clients get TURN credentials for %s, valid %d s", ", ".join(reach.turn.urls), reach.turn.ttl)

    def exited(worker_id: str) -> Callable[[bool], None]:
        def worker_exited(restarting: bool) -> None:
            """A local worker died: its meetings move now (to another worker, or to this one once
            restarted), not after the grace period."""
            registry = getattr(app.state, "engines", None)  # set by the application's lifespan
            if registry is not None:
                registry.worker_exited(worker_id, restarting=restarting)

        return worker_exited

    channel = _channel_url(network.channel_host(reach.binds), port, tls=reach.tls)
    workers = []
    for index in range(0 if args.no_engine else args.workers):
        worker_id = local_worker_id(index)
        options = ["--control", channel, "--worker-id", worker_id]
        options += [option for host in reach.announce for option in ("--announce", host)]
        if reach.tls:
            options += ["--control-certificate", str(args.tls_cert)]
        workers.append(
            EngineWorker(
                *options,
                secret=engine_secret,
                on_exit=exited(worker_id),
                host=reach.media_bind,
                port=args.media_port + index if args.media_port else 0,
                name=f"engine worker {worker_id}",
            )
        )
    try:
        for worker in workers:
            await worker.start()
        if workers:
            ports = ", ".join(w.address.split()[-1] for w in workers if w.address)
            log.info(
                "engine workers: UDP %s port(s) %s, announced to browsers as %s",
                reach.media_bind,
                ports or "?",
                ", ".join(reach.announce),
            )
        await server.serve(sockets=sockets)
    finally:
        for sock in sockets:
            sock.close()
        await asyncio.gather(*(worker.stop() for worker in workers))


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


def _channel_url(host: str, port: int, *, tls: bool = False) -> str:
    """Where a worker on this host reaches the engine channel of a control plane listening at host:port."""
    from control.engines.channel import CHANNEL_PATH

    return f"{'wss' if tls else 'ws'}://{network.url_host(host)}:{port}{CHANNEL_PATH}"


# engine


def _engine(args: argparse.Namespace) -> int:
    from engine.worker.__main__ import main

    argv = ["--control", args.control, "--host", args.bind, "--port", str(args.port), "--log-level", args.log_level]
    for option in ("secret", "secret_file", "worker_id", "control_certificate"):
        if getattr(args, option) is not None:
            argv += [f"--{option.replace('_', '-')}", getattr(args, option)]
    try:
        announce = network.announced(args.bind, args.announce)
    except ValueError as error:
        print(f"podium engine: {error}", file=sys.stderr)
        return 2
    for host in announce:
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
    # Alembic's INFO is a dozen lines of plugin and dialect set-up at every start, no news to an operator
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if args.command == "serve":
        asyncio.run(_serve(args, _limits(parser, args), _reach(parser, args)))
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
