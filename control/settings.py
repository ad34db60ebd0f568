"""Configuration of one control-plane process."""

from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

from control.files.settings import FileSettings
from control.security.turn import TurnSettings
from control.store.db import sqlite_url
from control.webhooks.settings import WebhookSettings

RATE_NAMES = ("login", "refresh", "invitation", "join", "frames")
"""The rate limits by name (`podium serve --rate-limit NAME=RATE`): see `Limits`."""


@dataclass(frozen=True)
class Limits:
    """How much one client may send, and how often (docs/control-api.md, "Limits"; docs/signaling.md).

    A rate is written as the `limits` library parses it ("20/minute", "5 per 10 seconds"); None turns that
    limit off. Per-address limits key on the client's address: the socket's peer, or the address a configured
    reverse proxy forwards (`podium serve --forwarded-allow-ips`; headers from any other peer are ignored)."""

    max_body: int = 256 * 1024
    """Bytes of an authenticated API request's body (413 `body_too_large` beyond)."""
    max_body_unauthenticated: int = 16 * 1024
    """Bytes of the body of an endpoint that takes no credential (sign-in, refresh, invitations)."""
    max_json_depth: int = 32
    """Nesting of arrays and objects in a JSON body or signaling frame (422 `json_too_deep` beyond)."""
    max_json_values: int = 5000
    """JSON values (objects, arrays, strings, numbers, ...) in one body or frame (422 `json_too_many_values`)."""
    max_frame: int = 256 * 1024
    """Characters of one signaling frame: a longer one gets an `error` frame (`frame_too_large`). The WebSocket
    layer of `podium serve` refuses any message over 16 MiB outright (close code 1009)."""
    login: str | None = "20/minute"
    """Sign-ins (`POST /auth/login`) per address."""
    refresh: str | None = "60/minute"
    """Token refreshes (`POST /auth/refresh`) per address."""
    invitation: str | None = "20/minute"
    """Invitation redemptions (`POST /invitation-redemptions`, `POST /auth/accept-invitation`) per address."""
    join: str | None = "60/minute"
    """Signaling `join` frames per address."""
    frames: str | None = "50/second"
    """Frames per signaling connection."""

    def rates(self) -> dict[str, str | None]:
        return {name: getattr(self, name) for name in RATE_NAMES}

    def without_rates(self) -> "Limits":
        """The same sizes, no rate limit (tests that sign in many times from one address)."""
        return replace(self, **dict.fromkeys(RATE_NAMES))


@dataclass(frozen=True)
class WebTransportSettings:
    """Signaling over WebTransport (HTTP/3 on UDP, control.webtransport): `podium serve
    --webtransport-port`, with the HTTP server's TLS certificate and key."""

    host: str
    port: int
    cert: Path
    key: Path
    certificate_sha256: str | None = None
    """A development certificate's hex SHA-256 digest, published for `serverCertificateHashes`
    (control.dev_certificate); None for a certificate browsers trust by its authority."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("data")
    database_url: str | None = None
    """None: SQLite in `data_dir`."""
    token_key: str | None = None
    """Signing key of access tokens; None: generated once and kept in the database."""
    access_token_ttl: timedelta = timedelta(minutes=15)
    refresh_token_ttl: timedelta = timedelta(days=30)
    invitation_ttl: timedelta = timedelta(days=14)
    engine_secret: str | None = None
    """Shared secret of the engine channel (engine workers prove they know it); None: no worker
    may connect. `podium serve` generates one for its local worker unless given."""
    engine_grace: float = 15.0
    """Seconds an engine worker may stay away before it is lost and its meetings move to another
    worker (`podium serve --engine-grace`, PODIUM_ENGINE_GRACE)."""
    worker_capacity: int | None = None
    """Participants an engine worker takes before a meeting's next participant spills onto another
    worker (the meeting then spans both, its media piped between them); None: no limit, a meeting
    stays on the worker it opened on (`podium serve --worker-capacity`, PODIUM_WORKER_CAPACITY)."""
    pipe_srtp: bool = False
    """Encrypt every pipe between workers (SRTP, keys made by the control plane); False: only pipes
    between workers on different hosts (`podium serve --pipe-srtp always`, PODIUM_PIPE_SRTP)."""
    resume_grace: float = 20.0
    """Seconds a participant whose signaling socket closed without `leave` stays in the meeting,
    resumable with their resume token, before they leave (`podium serve --resume-grace`,
    PODIUM_RESUME_GRACE)."""
    limits: Limits = Limits()
    """Request sizes, JSON shapes, signaling frames and rate limits."""

    metrics_token: str | None = None
    """Bearer token GET /metrics requires (`podium serve --metrics-token`, PODIUM_METRICS_TOKEN, or
    one kept in <data dir>/metrics-token); None: /metrics answers 404."""
    operator_token: str | None = None
    """Bearer token of the instance operator API, /operator/v1 (`podium serve --operator-token`,
    PODIUM_OPERATOR_TOKEN); None: that API answers 404."""
    metrics_address: str | None = None
    """HOST:PORT of a listener of its own serving GET /metrics without a token (`podium serve
    --metrics-address`, PODIUM_METRICS_ADDRESS): bind it to loopback or a private network."""

    public_url: str | None = None
    """This process's public base URL (`podium serve --public-url`, PODIUM_PUBLIC_URL; default: where
    `podium serve` says browsers reach it): with replicas on PostgreSQL, where the participants of the
    meetings it runs are sent by the other replicas."""
    lease_ttl: float = 6.0
    """Seconds a replica's lease of a meeting holds without renewal (renewed every third of it): how
    soon another replica takes the meetings of one that died (`podium serve --lease-ttl`,
    PODIUM_LEASE_TTL). PostgreSQL only."""
    recordings_dir: Path | None = None
    """Where meeting recordings are written, one directory per company and recording (`podium serve
    --recordings-dir`, PODIUM_RECORDINGS_DIR); None: `<data dir>/recordings`."""
    storage_quota_bytes: int | None = None
    """Bytes of recordings a company may keep (`podium serve --storage-quota`); None: no limit. The
    per-company storage quota replaces it (control.recording.library.storage_quota)."""

    turn: TurnSettings | None = None
    """TURN servers and their shared secret: each participant gets short-lived credentials in its
    `joined` frame (`podium serve --turn-url/--turn-secret`); None: no TURN."""
    webtransport: WebTransportSettings | None = None
    """Where WebTransport sessions carry signaling besides the WebSocket; None: not served."""

    files: FileSettings = field(default_factory=FileSettings)
    """Shared files and conference materials: directory, size limit, S3 bucket (control.files)."""
    webhooks: WebhookSettings = field(default_factory=WebhookSettings)
    """Webhook deliveries to add-ins: private addresses, backoff, timeout (control.webhooks)."""

    def resolved_recordings_dir(self) -> Path:
        return self.recordings_dir if self.recordings_dir is not None else self.data_dir / "recordings"

    def resolved_database_url(self) -> str:
        return self.database_url or sqlite_url(self.data_dir)
