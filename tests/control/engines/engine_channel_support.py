"""Helpers of the engine channel tests: a control plane on a real uvicorn server, real engine worker
processes, UDP peers and RTP packets on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from starlette.applications import Starlette

from contract import ops
from control import engines, metrics
from control.engines import EngineRegistry
from control.engines.stats import EngineCollector, WorkerStats
from control.metrics import Metrics

SECRET = "test-engine-secret-0123456789abcdef"


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rtp(seq: int, ssrc: int, pt: int = 111, payload: bytes = b"\x01" * 40) -> bytes:
    return struct.pack("!BBHII", 0x80, pt, seq & 0xFFFF, (960 * seq) & 0xFFFFFFFF, ssrc) + payload


class Peer:
    """A UDP endpoint on loopback: a plain-RTP publisher or subscriber."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.address = self.sock.getsockname()

    def send(self, data: bytes, to: tuple[str, int]) -> None:
        self.sock.sendto(data, to)

    async def receive_ssrcs(self, count: int, timeout: float = 1.0) -> list[int]:
        """SSRCs of the RTP packets received (RTCP skipped) until `count` or the timeout."""
        out: list[int] = []
        deadline = time.monotonic() + timeout
        while len(out) < count and time.monotonic() < deadline:
            try:
                data = self.sock.recv(2048)
            except BlockingIOError:
                await asyncio.sleep(0.005)
                continue
            if len(data) >= 12 and not 192 <= data[1] <= 223:
                out.append(struct.unpack("!I", data[8:12])[0])
        return out

    def drain(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while True:
                self.sock.recv(2048)

    def close(self) -> None:
        self.sock.close()


async def media_flows(
    pub: Peer, sub: Peer, to: tuple[str, int], ssrc: int, *, count: int = 5, timeout: float = 1.0
) -> bool:
    sub.drain()
    for i in range(count):
        pub.send(rtp(i, 1111), to)
    got = await sub.receive_ssrcs(count, timeout)
    return len(got) == count and set(got) == {ssrc}


CONSUMER_SSRC = 5555
"""The SSRC `pub_sub_ops` gives its consumer."""


def pub_sub_ops(pub: Peer, sub: Peer, router: str = "r1") -> list[ops.Operation]:
    return [
        ops.CreateRouter(router),
        ops.CreatePlainTransport(f"{router}/pub", router, pub.address),
        ops.CreatePlainTransport(f"{router}/sub", router, sub.address),
        ops.Produce(f"{router}/mic", f"{router}/pub", "audio", 111, ssrc=1111),
        ops.Consume(f"{router}/mic@sub", f"{router}/sub", f"{router}/mic", CONSUMER_SSRC),
    ]


METRICS_TOKEN = "metrics-token"


class ControlServer:
    """The engine channel on a real uvicorn server; `restart` keeps the port, not the registry."""

    def __init__(self, port: int, *, secret: str | None = SECRET, grace: float = 5.0) -> None:
        self.port = port
        self.secret = secret
        self.grace = grace
        self.registry: EngineRegistry | None = None
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}{engines.CHANNEL_PATH}"

    def _app(self) -> Starlette:
        @asynccontextmanager
        async def lifespan(app: Starlette) -> AsyncIterator[None]:
            registry = EngineRegistry(self.secret, grace=self.grace, ack_timeout=5.0)
            self.registry = app.state.engines = registry
            app.state.metrics, app.state.metrics_token = Metrics(), METRICS_TOKEN
            stats = WorkerStats()
            registry.add_listener(stats.on_event)
            app.state.metrics.add(EngineCollector(registry, stats))
            try:
                yield
            finally:
                await registry.close()

        return Starlette(routes=[*engines.routes(), *metrics.routes()], lifespan=lifespan)

    async def start(self) -> None:
        config = uvicorn.Config(
            self._app(), host="127.0.0.1", port=self.port, log_level="warning", lifespan="on", ws_ping_interval=None
        )
        self._server = uvicorn.Server(config)
        self._server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self._task = asyncio.create_task(self._server.serve())
        deadline = time.monotonic() + 10
        while not self._server.started:
            assert not self._task.done(), "uvicorn failed to start"
            assert time.monotonic() < deadline, "uvicorn did not start"
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await asyncio.wait_for(self._task, 10)
            self._server = self._task = None


class WorkerProcess:
    """`python -m engine.worker --control ...` on a fixed UDP port (so a restart keeps its address)."""

    def __init__(
        self, control_url: str, *, worker_id: str = "w1", secret: str = SECRET, udp_port: int | None = None
    ) -> None:
        self.control_url = control_url
        self.worker_id = worker_id
        self.secret = secret
        self.udp_port = udp_port or free_port(socket.SOCK_DGRAM)
        self.process: subprocess.Popen[str] | None = None
        self.address: tuple[str, int] | None = None
        self.stderr = ""

    def start(self) -> None:
        env = {**os.environ, "PODIUM_ENGINE_SECRET": self.secret}
        self._log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - a file, not a pipe nobody drains; closed in stop()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "engine.worker",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.udp_port),
                "--control",
                self.control_url,
                "--worker-id",
                self.worker_id,
                "--reconnect-max",
                "0.2",
                "--stats-interval",
                "0.2",
                "--log-level",
                "INFO",
            ],
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env=env,
        )
        assert self.process.stdout is not None
        host, port = self.process.stdout.readline().split()
        self.address = (host, int(port))

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
            self._collect()

    def stop(self) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._collect()
        return self.process.returncode

    def _collect(self) -> None:
        assert self.process is not None
        if self.process.stdout is not None:
            self.process.stdout.close()
        if not self._log.closed:
            self._log.seek(0)
            self.stderr += self._log.read()
            self._log.close()
