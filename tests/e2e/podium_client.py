"""A reusable end-to-end client of Podium: `podium serve` as a subprocess, the REST API, and aiortc
participants speaking the signaling protocol (docs/signaling.md).

    server = PodiumServer.start(tmp_dir)            # bootstrap + `podium serve` + its engine worker
    api = Api(server.url); await api.login_admin()
    room = await api.create_room("Standup", waiting_room=True)
    alice = await Participant.join(server, await api.user_token("alice"), room["id"])
    await alice.publish(microphone=ToneAudioTrack(440))
    await bob.wait_track(alice.id, "microphone")
    assert await bob.frames_grow(alice.id, "microphone")

Use `harness.loopback_only(monkeypatch)` in the test so aiortc offers 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import websockets
from aiortc import MediaStreamTrack, RTCSessionDescription, sdp
from aiortc.contrib.media import MediaRelay
from aiortc.rtcrtpreceiver import NackGenerator
from harness import new_peer_connection

ADMIN_EMAIL = "admin@podium.test"
ADMIN_PASSWORD = "admin-password-1"
COMPANY = "podium-e2e"
MAX_REDIRECTS = 3
"""`meeting_elsewhere` refusals a join follows (docs/signaling.md, "Replicas")."""
NO_RATE_LIMITS = "login=off,refresh=off,invitation=off,join=off"
"""PODIUM_RATE_LIMITS of the servers tests start: they sign in and join many times from one address."""
USER_PASSWORD = "user-password-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _bootstrap(cli: list[str], data_dir: Path, database: tuple[str, ...]) -> None:
    subprocess.run(
        [
            *cli,
            "bootstrap",
            "--data-dir",
            str(data_dir),
            *database,
            "--company",
            "Podium E2E",
            "--slug",
            COMPANY,
            "--email",
            ADMIN_EMAIL,
            "--password",
            ADMIN_PASSWORD,
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )


@dataclass
class PodiumServer:
    """`podium serve` with its local engine worker, on loopback, with a private data directory."""

    process: subprocess.Popen[bytes]
    port: int
    data_dir: Path
    log: Path
    engine_secret: str | None = None
    """The engine channel's secret, when given to `start` (extra workers need it)."""
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    """Extra engine workers started with `start_worker`."""
    host: str = "127.0.0.1"
    """The address it is reached at."""
    tls: ssl.SSLContext | None = None
    """A client context trusting its certificate when it serves HTTPS (`start(tls=...)`)."""

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"{'wss' if self.tls else 'ws'}://{self.host}:{self.port}/signaling/v1"

    @property
    def channel_url(self) -> str:
        return f"{'wss' if self.tls else 'ws'}://{self.host}:{self.port}/engine/v1/channel"

    @property
    def metrics_headers(self) -> dict[str, str]:
        """GET /metrics needs the token `podium serve` keeps in <data dir>/metrics-token."""
        token_file = self.data_dir / "metrics-token"
        return {"Authorization": f"Bearer {token_file.read_text().strip()}"} if token_file.exists() else {}

    def metrics(self) -> str:
        return httpx.get(f"{self.url}/metrics", headers=self.metrics_headers, timeout=2, verify=self.verify).text

    @property
    def verify(self) -> ssl.SSLContext | bool:
        """httpx's `verify` for this server."""
        return self.tls or True

    def worker_states(self) -> dict[str, str]:
        """Engine worker id → lifecycle state, as /metrics shows them (`podium_engine_worker_state`)."""
        states: dict[str, str] = {}
        for line in self.metrics().splitlines():
            if line.startswith("podium_engine_worker_state{") and float(line.split()[-1]) == 1:
                labels = dict(part.split("=", 1) for part in line[line.index("{") + 1 : line.index("}")].split(","))
                states[labels["worker"].strip('"')] = labels["state"].strip('"')
        return states

    def local_worker_pid(self) -> int:
        """The pid of the engine worker `podium serve` runs (its child process)."""
        pids = self.local_worker_pids()
        if not pids:
            raise RuntimeError("podium serve has no engine worker process")
        return pids[0]

    def local_worker_pids(self) -> list[int]:
        """The pids of the engine workers `podium serve` runs (its child processes)."""
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == self.process.pid:
                    pids.append(int(stat.parent.name))
        return pids

    async def wait_worker_state(self, worker_id: str, state: str, timeout: float = 20.0) -> None:
        """Waits until /metrics shows that worker in that lifecycle state."""
        async with asyncio.timeout(timeout):
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if (await asyncio.to_thread(self.worker_states)).get(worker_id) == state:
                        return
                await asyncio.sleep(0.1)

    def connected_workers(self) -> int:
        for line in self.metrics().splitlines():
            if line.startswith('podium_engine_workers{state="connected"}'):
                return int(float(line.split()[-1]))
        return 0

    @classmethod
    def start(
        cls,
        data_dir: Path,
        timeout: float = 30.0,
        *,
        engine_secret: str | None = None,
        engine_grace: float | None = None,
        rate_limits: str = NO_RATE_LIMITS,
        options: tuple[str, ...] = (),
        database_url: str | None = None,
        bootstrap: bool = True,
        port: int | None = None,
        workers: int | None = None,
        host: str = "127.0.0.1",
        tls: ssl.SSLContext | None = None,
        prefix: tuple[str, ...] = (),
        local_workers: int = 1,
    ) -> PodiumServer:
        """`engine_secret`: a known engine channel secret (for `start_worker`); `engine_grace`: seconds
        before a worker that went away is lost (PODIUM_ENGINE_GRACE); `rate_limits`: PODIUM_RATE_LIMITS
        (default: no per-address limits); `options`: more options of `podium serve`; `database_url`: a
        database instead of the data directory's SQLite file; `bootstrap`: create the company first
        (not when starting again on the same data); `port`: the HTTP port (default: a free one);
        `workers`: how many engine workers must be connected before it counts as started (default:
        `local_workers`); `host`: its --bind; `tls`: a client context trusting the certificate of its
        --tls-cert (in `options`); `prefix`: a command it runs under (e.g. `ip netns exec NS`);
        `local_workers`: its --workers (one, whatever the cores; 0: --no-engine)."""
        data_dir.mkdir(parents=True, exist_ok=True)
        cli = [sys.executable, "-m", "podium.cli"]
        database = ("--database-url", database_url) if database_url else ()
        if bootstrap:
            _bootstrap(cli, data_dir, database)
        port = port or free_port()
        log = data_dir / "serve.log"
        env = dict(os.environ)
        if engine_secret is not None:
            env["PODIUM_ENGINE_SECRET"] = engine_secret
        if engine_grace is not None:
            env["PODIUM_ENGINE_GRACE"] = str(engine_grace)
        env["PODIUM_RATE_LIMITS"] = rate_limits
        with log.open("wb") as out:  # the child holds its own copy of the descriptor
            process = subprocess.Popen(
                [
                    *prefix,
                    *cli,
                    "serve",
                    "--bind",
                    host,
                    "--port",
                    str(port),
                    "--data-dir",
                    str(data_dir),
                    *database,
                    *(["--workers", str(local_workers)] if local_workers else ["--no-engine"]),
                    *options,
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=env,
            )
        server = cls(process, port, data_dir, log, engine_secret, host=host, tls=tls)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"podium serve exited: {log.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if server.connected_workers() == (local_workers if workers is None else workers):
                    return server
            time.sleep(0.2)
        server.stop()
        raise RuntimeError(f"podium serve did not get its engine worker: {log.read_text()[-3000:]}")

    def start_worker(self, worker_id: str, timeout: float = 20.0) -> subprocess.Popen[bytes]:
        """Another engine worker (`podium engine`) dialing this control plane, on loopback; returns
        once the control plane counts it as connected. Stopped by `stop` (or kill it yourself)."""
        if self.engine_secret is None:
            raise RuntimeError("start the server with engine_secret= to add workers")
        before = self.connected_workers()
        log = self.data_dir / f"engine-{worker_id}.log"
        with log.open("wb") as out:  # the child holds its own copy of the descriptor
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "podium.cli",
                    "engine",
                    "--control",
                    self.channel_url,
                    "--host",
                    "127.0.0.1",
                    "--worker-id",
                    worker_id,
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, "PODIUM_ENGINE_SECRET": self.engine_secret},
            )
        self.workers.append(process)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"engine worker {worker_id} exited: {log.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if self.connected_workers() > before:
                    return process
            time.sleep(0.2)
        raise RuntimeError(f"engine worker {worker_id} did not connect: {log.read_text()[-3000:]}")

    def stop(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(5)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait(5)
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)


class ApiError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.code = body.get("error", {}).get("code") if isinstance(body, dict) else None


class Api:
    """The REST API as the administrator (and helpers to make users)."""

    def __init__(self, url: str, verify: ssl.SSLContext | bool = True) -> None:
        self.url = url
        self.verify = verify
        """httpx's `verify`: a context trusting a test certificate over https."""
        self.token: str | None = None

    async def call(
        self, method: str, path: str, body: Any = None, token: str | None = None, expect: int | None = None
    ) -> Any:
        headers = {"Authorization": f"Bearer {token or self.token}"} if (token or self.token) else {}
        async with httpx.AsyncClient(base_url=self.url, timeout=15, verify=self.verify) as client:
            response = await client.request(method, "/api/v1" + path, json=body, headers=headers)
        data = response.json() if response.content else None
        if response.status_code >= 400 or (expect is not None and response.status_code != expect):
            raise ApiError(response.status_code, data)
        return data

    async def login(self, email: str, password: str) -> str:
        tokens = await self.call(
            "POST", "/auth/login", {"company": COMPANY, "email": email, "password": password}, token="-"
        )
        return tokens["access_token"]

    async def login_admin(self) -> None:
        self.token = None
        self.token = await self.login(ADMIN_EMAIL, ADMIN_PASSWORD)

    async def create_user(self, name: str) -> tuple[str, str]:
        """A new user (id, access token): accepting the invitation logs them in (one password hash, no
        second one to verify: Argon2 takes about a second of a loaded CI core)."""
        email = f"{name}-{secrets.token_hex(3)}@podium.test"
        invited = await self.call("POST", "/users", {"email": email, "name": name})
        tokens = await self.call(
            "POST",
            "/auth/accept-invitation",
            {"invitation_token": invited["invitation_token"], "password": USER_PASSWORD},
            token="-",
        )
        return invited["user"]["id"], tokens["access_token"]

    async def create_room(self, name: str, **features: Any) -> dict[str, Any]:
        return await self.call("POST", "/rooms", {"name": name, **features})

    async def grant(self, room_id: str, user_id: str, role: str = "participant") -> None:
        await self.call("PUT", f"/rooms/{room_id}/access/{user_id}", {"role": role})

    async def invite_guest(self, room_id: str, name: str, **fields: Any) -> dict[str, Any]:
        return await self.call("POST", f"/rooms/{room_id}/invitations", {"invitee_name": name, **fields})

    async def redeem(self, invitation: str, browser: str) -> dict[str, Any]:
        return await self.call(
            "POST", "/invitation-redemptions", {"invitation": invitation, "browser": browser}, token="-"
        )


class SignalingError(Exception):
    def __init__(self, frame: dict[str, Any]) -> None:
        super().__init__(f"{frame.get('code')}: {frame.get('message')}")
        self.code = frame.get("code")
        self.frame = frame


@dataclass
class Received:
    """One subscribed track: frames decoded so far."""

    participant_id: str
    source: str
    kind: str
    frames: list[Any] = field(default_factory=list)
    times: list[float] = field(default_factory=list)


class _Parked(MediaStreamTrack):
    """A track that never yields a frame: what an old sender holds once its track moved on."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    async def recv(self) -> Any:
        await asyncio.get_running_loop().create_future()


def _follow_ssrcs(pc: Any, offer: str) -> None:
    """Route the SSRCs of a re-offer to receivers that already run. The server puts a later consumer
    into an m-section whose consumer ended (same mid, new SSRCs; docs/signaling.md), and aiortc
    learns a receiver's SSRCs only when it starts, once: without this, it drops the new consumer's
    packets whenever another receiver shares the payload type. aiortc never routes an RTX SSRC
    (RFC 4588) by SSRC at all, only by payload type: with two video receivers on the transport,
    every retransmission would be dropped and a lost packet never repaired."""
    by_mid = {t.mid: t for t in pc.getTransceivers()}
    for media in sdp.SessionDescription.parse(offer).media:
        transceiver = by_mid.get(media.rtp.muxId)
        if transceiver is None or media.direction != "sendonly" or not media.ssrc:
            continue
        receiver = transceiver.receiver
        router = receiver.transport._rtp_router
        ssrcs = [s.ssrc for s in media.ssrc]
        if receiver not in router.receivers:  # not started yet: it starts with these SSRCs, but its RTX
            if len(ssrcs) == 2:  # SSRC is never routed by SSRC unless it is here
                router.ssrc_table[ssrcs[1]] = receiver
            continue
        if all(router.ssrc_table.get(ssrc) is receiver for ssrc in ssrcs):
            continue  # already routed
        router.register_receiver(receiver, ssrcs=ssrcs, payload_types=[])
        if len(ssrcs) == 2:  # RTX (RFC 4588): unwrapped onto the primary SSRC
            receiver._RTCRtpReceiver__rtx_ssrc[ssrcs[1]] = ssrcs[0]
        if receiver._RTCRtpReceiver__nack_generator is not None:
            # its sequence numbers are another stream's: a generator that remembers the old stream's
            # highest number takes the new stream's packets below it for late ones, and never NACKs
            receiver._RTCRtpReceiver__nack_generator = NackGenerator()


class Participant:
    """An aiortc participant: one signaling socket, a publish and a subscribe peer connection."""

    def __init__(self, server: PodiumServer, ws: Any) -> None:
        self.server = server
        self.ws = ws
        self.url = server.ws_url
        """The signaling URL of its socket (another replica's after a `meeting_elsewhere`)."""
        self.events: list[dict[str, Any]] = []
        self.joined: dict[str, Any] = {}
        self.id = ""
        self.pc_pub = new_peer_connection()
        self.pc_sub = new_peer_connection()
        self.tracks: dict[tuple[str, str], Received] = {}
        self.consumers: dict[str, dict[str, Any]] = {}
        """mid → consumer object of the subscribe offers."""
        self.closed: asyncio.Future[tuple[int | None, str]] = asyncio.get_running_loop().create_future()
        self._waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._changed = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self._refs = 0
        self._sub_lock = asyncio.Lock()
        self.pc_sub.on("track", self._on_track)
        self.published: dict[str, Any] = {}
        """Source (keyword of `publish`) → the track published for it: published again on `reconnect`."""
        self._published_sources: dict[str, str] = {}
        """mid → source of every track published so far (a re-offer names them all)."""
        self.generation = 0
        """Bumped on every `reconnect`: subscribe offers of an earlier generation are stale."""
        self.reconnected: asyncio.Future[None] | None = None
        """The latest reconnection (new peer connections, tracks published again); None if none yet."""
        self._relay = MediaRelay()
        self.resuming = False
        """A resuming join was sent: its `joined` says whether to make new peer connections."""
        self.sdp_from_server: Callable[[str], str] = lambda sdp: sdp
        """What the peer connections are given of each SDP the server sends: a test may rewrite the
        worker's candidate there to steer this participant's media through a relay of its own."""
        self.sdp_to_server: Callable[[str, str | None], str] = lambda sdp, offer: sdp
        """What the server is sent of each local SDP (a publish offer: `offer` None; a subscribe answer:
        `offer` is the server's offer it answers): a benchmark may add what a browser would say there
        and aiortc does not (simulcast layers, transport-cc)."""

    # -- connecting --

    @classmethod
    async def connect(
        cls, server: PodiumServer, url: str | None = None, sdp_from_server: Callable[[str], str] | None = None
    ) -> Participant:
        """`url`: where the signaling socket connects, when not straight to the server (a relay);
        `sdp_from_server`: see the attribute."""
        ws = await websockets.connect(url or server.ws_url, max_size=2**22, open_timeout=10, ssl=server.tls)
        participant = cls(server, ws)
        if sdp_from_server is not None:
            participant.sdp_from_server = sdp_from_server
        participant._tasks.append(asyncio.ensure_future(participant._reader()))
        return participant

    @classmethod
    async def join(
        cls,
        server: PodiumServer,
        token: str,
        room_id: str,
        timeout: float = 15,
        url: str | None = None,
        sdp_from_server: Callable[[str], str] | None = None,
        *,
        resume: str | None = None,
        keep_media: bool = False,
    ) -> Participant:
        """`url`, `sdp_from_server`: see `connect`; `resume`: the resume token of an earlier `joined`
        (a reloaded page: new peer connections)."""
        frame: dict[str, Any] = {"type": "join", "token": token, "room_id": room_id}
        if resume is not None:
            frame.update(resume=resume, keep_media=keep_media)
        for redirects in range(MAX_REDIRECTS + 1):
            participant = await cls.connect(server, url, sdp_from_server)
            participant.url = url or server.ws_url
            try:
                participant.joined = await participant.request(frame, timeout=timeout)
                break
            except SignalingError as error:
                await participant.close()
                if error.code != "meeting_elsewhere" or redirects == MAX_REDIRECTS:
                    raise
                url = error.frame["url"]  # another replica runs the meeting: join there
            except BaseException:
                await participant.close()
                raise
        participant.id = participant.joined["participant_id"]
        return participant

    async def cut_signaling(self) -> None:
        """Lose the signaling connection only (no close frame, no `leave`): the peer connections stay,
        as in a network blip that TCP did not survive."""
        transport = getattr(self.ws, "transport", None)
        assert transport is not None
        transport.abort()
        await asyncio.wait_for(asyncio.shield(self.closed), 5)

    async def resume(
        self, token: str, room_id: str, *, keep_media: bool = True, timeout: float = 15, url: str | None = None
    ) -> dict[str, Any]:
        """Join again on a new socket with the resume token of the last `joined` (docs/signaling.md,
        "Resuming"), then follow its `media`: keep both peer connections, or make new ones and
        publish again (`renew`, or a new participant when the token named nobody any more). `url`:
        the signaling URL to try first (default: the server's); a `meeting_elsewhere` refusal is
        followed to the replica it names."""
        url = url or self.server.ws_url
        for redirects in range(MAX_REDIRECTS + 1):
            self.ws = await websockets.connect(url, max_size=2**22, open_timeout=10)
            self.url = url
            self.closed = asyncio.get_running_loop().create_future()
            self.resuming = True
            self._tasks.append(asyncio.ensure_future(self._reader()))
            try:
                reply = await self.request(
                    {
                        "type": "join",
                        "token": token,
                        "room_id": room_id,
                        "resume": self.joined["resume_token"],
                        "keep_media": keep_media,
                    },
                    timeout=timeout,
                )
                break
            except SignalingError as error:
                with contextlib.suppress(Exception):
                    await self.ws.close()
                if error.code != "meeting_elsewhere" or redirects == MAX_REDIRECTS:
                    raise
                url = error.frame["url"]  # another replica runs the meeting: resume there
        self.joined, self.id = reply, reply["participant_id"]
        if not reply["resumed"] or reply.get("media") == "renew":
            assert self.reconnected is not None  # the reader made new peer connections on `joined`
            async with asyncio.timeout(timeout):
                await self.reconnected
        return reply

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.ws.close()
        for pc in (self.pc_pub, self.pc_sub):
            with contextlib.suppress(Exception):
                await pc.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def drop(self) -> None:
        """Lose the connection abruptly: the TCP connection is cut without a WebSocket close or a
        `leave` (as when a laptop lid closes); the peer connections are closed too."""
        transport = getattr(self.ws, "transport", None)
        if transport is not None:
            transport.abort()
        await self.close()

    # -- frames --

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(frame))

    async def request(self, frame: dict[str, Any], timeout: float = 15) -> dict[str, Any]:
        """Send a frame with a fresh ref; the reply (or SignalingError for its error frame)."""
        self._refs += 1
        ref = f"r{self._refs}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiters[ref] = future
        await self.send({**frame, "ref": ref})
        try:
            async with asyncio.timeout(timeout):
                reply = await future
        finally:
            self._waiters.pop(ref, None)
        if reply.get("type") == "error":
            raise SignalingError(reply)
        return reply

    async def _reader(self) -> None:
        try:
            async for raw in self.ws:
                frame = json.loads(raw)
                self.events.append(frame)
                ref = frame.get("ref")
                if ref in self._waiters and not self._waiters[ref].done():
                    self._waiters[ref].set_result(frame)
                if frame.get("type") == "subscribe-offer":
                    self._tasks.append(asyncio.ensure_future(self._answer(frame, self.generation)))
                elif frame.get("type") == "reconnect":
                    self._reconnect()
                elif frame.get("type") == "joined" and self.resuming:
                    self.resuming = False
                    if not frame["resumed"] or frame.get("media") == "renew":
                        # new peer connections before the frames that follow (their subscribe offers)
                        self._reconnect()
                self._changed.set()
        except websockets.ConnectionClosed:
            pass
        finally:
            if not self.closed.done():
                rcvd = getattr(self.ws, "close_code", None)
                self.closed.set_result((rcvd, getattr(self.ws, "close_reason", "") or ""))
            for future in self._waiters.values():
                if not future.done():
                    future.set_result({"type": "error", "code": "closed", "message": "socket closed"})
            self._changed.set()

    async def wait_event(
        self,
        type_: str,
        predicate: Callable[[dict[str, Any]], bool] = lambda f: True,
        timeout: float = 10,
        since: int = 0,
    ) -> dict[str, Any]:
        """The first event of that type (from index `since`) matching `predicate`."""
        async with asyncio.timeout(timeout):
            while True:
                for frame in self.events[since:]:
                    if frame.get("type") == type_ and predicate(frame):
                        return frame
                if self.closed.done() and type_ != "__never__":
                    for frame in self.events[since:]:
                        if frame.get("type") == type_ and predicate(frame):
                            return frame
                self._changed.clear()
                await self._changed.wait()

    # -- media --

    async def publish(self, muted: tuple[str, ...] = (), **tracks: Any) -> dict[str, Any]:
        """Publish tracks by source name (microphone=..., camera=..., screen=...)."""
        sources: dict[str, str] = {}
        for track in tracks.values():
            # each connection sends a proxy of the track: aiortc stops a sender's track when its
            # connection dies (its worker was killed, its control plane restarted with it), and the
            # track must live on for the next connection, as a camera does in a browser
            self.pc_pub.addTransceiver(self._relay.subscribe(track, buffered=False), direction="sendonly")
        await self.pc_pub.setLocalDescription(await self.pc_pub.createOffer())
        names = list(tracks)
        for transceiver, source in zip(self.pc_pub.getTransceivers()[-len(names) :], names):
            sources[transceiver.mid] = source.replace("_", "-")
        for transceiver in self.pc_pub.getTransceivers():
            if transceiver.mid not in sources and transceiver.mid in self._published_sources:
                sources[transceiver.mid] = self._published_sources[transceiver.mid]
        pc = self.pc_pub
        reply = await self.request(
            {
                "type": "publish",
                "sdp": self.sdp_to_server(pc.localDescription.sdp, None),
                "sources": sources,
                "muted": list(muted),
            }
        )
        self._published_sources = {**self._published_sources, **sources}
        self.published.update(tracks)
        await pc.setRemoteDescription(RTCSessionDescription(self.sdp_from_server(reply["sdp"]), "answer"))
        return reply

    async def unpublish(self, source: str) -> None:
        """Stop publishing a source (`close-producer`); its m-section goes inactive in later offers."""
        await self.request({"type": "close-producer", "source": source})
        for transceiver in self.pc_pub.getTransceivers():
            if self._published_sources.get(transceiver.mid or "") == source:
                if transceiver.sender.track is not None:
                    transceiver.sender.replaceTrack(_Parked(transceiver.sender.track.kind))
                transceiver.direction = "inactive"
                del self._published_sources[transceiver.mid]
        self.published.pop(source.replace("-", "_"), None)

    async def _answer(self, frame: dict[str, Any], generation: int = 0) -> None:
        async with self._sub_lock:
            if generation != self.generation:
                return  # an offer for the peer connection a `reconnect` replaced
            pc = self.pc_sub
            for consumer in frame["consumers"]:
                self.consumers[consumer["mid"]] = consumer
            await pc.setRemoteDescription(RTCSessionDescription(self.sdp_from_server(frame["sdp"]), "offer"))
            await pc.setLocalDescription(await pc.createAnswer())
            _follow_ssrcs(pc, frame["sdp"])
            with contextlib.suppress(SignalingError, TimeoutError):
                await self.request(
                    {
                        "type": "subscribe-answer",
                        "version": frame["version"],
                        "sdp": self.sdp_to_server(pc.localDescription.sdp, frame["sdp"]),
                    }
                )

    def _reconnect(self) -> None:
        """`reconnect` (docs/signaling.md): the engine worker was lost. Both peer connections are
        replaced at once (later subscribe offers are for the new worker's transports), then every
        published track is offered again on a new publish connection: an ICE restart onto the
        live worker. `await participant.wait_reconnected()` waits for it."""
        self.generation += 1
        old = (self.pc_pub, self.pc_sub)
        for transceiver in old[0].getTransceivers():
            # aiortc stops a sender's track when the sender ends: park it on a stand-in first, so
            # that the published track lives on for the new connection
            if transceiver.sender.track is not None:
                transceiver.sender.replaceTrack(_Parked(transceiver.sender.track.kind))
        self.pc_pub, self.pc_sub = new_peer_connection(), new_peer_connection()
        self.pc_sub.on("track", self._on_track)
        self.consumers = {}
        self._published_sources = {}
        task = asyncio.ensure_future(self._republish(old, self.generation))
        self._tasks.append(task)
        self.reconnected = task

    async def _republish(self, old: tuple[Any, Any], generation: int) -> None:
        for pc in old:
            with contextlib.suppress(Exception):
                await pc.close()
        if self.published and generation == self.generation:
            await self.publish(**self.published)

    async def wait_reconnected(self, timeout: float = 15) -> None:
        """Waits for a `reconnect` frame and for the tracks to be published again after it."""
        await self.wait_event("reconnect", timeout=timeout)
        assert self.reconnected is not None
        async with asyncio.timeout(timeout):
            await self.reconnected

    def _on_track(self, track: Any) -> None:
        mid = next((t.mid for t in self.pc_sub.getTransceivers() if t.receiver.track is track), None)
        self._tasks.append(asyncio.ensure_future(self._collect(track, mid or "", self.pc_sub)))

    def _received(self, mid: str, kind: str) -> Received:
        """Where a frame that arrived on `mid` counts: the consumer the offers put there last (the
        server reuses an inactive m-section for a later consumer of its kind, and aiortc fires no
        new `track` for it); the same track received again after a reconnect counts on."""
        consumer = self.consumers.get(mid, {})
        key = (consumer.get("participant_id", "?"), consumer.get("source", "?"))
        received = self.tracks.get(key)
        if received is None or received.kind != kind:
            received = Received(key[0], key[1], kind)
            self.tracks[key] = received
        return received

    async def _collect(self, track: Any, mid: str, pc: Any) -> None:
        with contextlib.suppress(Exception):
            while True:
                frame = await track.recv()
                if pc is not self.pc_sub:
                    return  # a connection `reconnect` replaced
                received = self._received(mid, track.kind)
                received.frames.append(frame)
                received.times.append(time.monotonic())

    def count(self, publisher: str, source: str) -> int:
        received = self.tracks.get((publisher, source))
        return len(received.frames) if received else 0

    async def frames_grow(self, publisher: str, source: str, by: int = 5, timeout: float = 8) -> bool:
        """Whether at least `by` more frames of that track arrive within `timeout`."""
        start = self.count(publisher, source)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.count(publisher, source) >= start + by:
                return True
            await asyncio.sleep(0.05)
        return False

    async def frames_stopped(self, publisher: str, source: str, settle: float = 0.7, window: float = 1.5) -> bool:
        """Whether no frame of that track arrives during `window` seconds after `settle` seconds
        (for frames in flight and jitter buffers)."""
        await asyncio.sleep(settle)
        before = self.count(publisher, source)
        await asyncio.sleep(window)
        return self.count(publisher, source) == before

    async def moderate(self, action: str, **arguments: Any) -> dict[str, Any]:
        return await self.request({"type": "moderate", "action": action, **arguments})
