"""What the engine registry keeps of each worker: its public view (`WorkerInfo`), its connection
(`Connection`), the batches awaiting its acknowledgement (`PendingBatch`) and the record tying them
together (`WorkerRecord`). The registry (control.engines.registry) owns the behaviour."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from contract.acks import Ack
from contract.handshake import Hello
from contract.ops import Operation
from contract.table import Table
from control.engines.load import PacketRate


@dataclass(frozen=True)
class WorkerInfo:
    worker_id: str
    address: tuple[str, int]
    candidates: list[tuple[str, int]]
    dtls_fingerprints: list[tuple[str, str]]
    capabilities: list[str]
    connected: bool
    version: int
    """The last version the worker acked."""
    counts: dict[str, int]
    """Objects in its desired table: routers, transports, producers, consumers."""
    stats: dict[str, Any] | None
    """The engine's counters as last reported (every few seconds)."""
    state: str = "connected"
    """"connected", or "disconnected" while it is away within the grace period (`LIFECYCLE`)."""


class Connection(Protocol):
    """One worker's WebSocket, as the registry sees it."""

    async def recv(self) -> str | bytes | None:
        """The next frame; None once the connection is closed."""

    async def send(self, frame: str) -> None: ...

    async def close(self, code: int, reason: str) -> None: ...


@dataclass(eq=False)
class PendingBatch:
    ops: list[Operation]
    sync: bool
    future: asyncio.Future[Ack]
    started: float
    internal: bool = False
    """A resync the registry sent by itself (nobody awaits it)."""
    version: int = 0
    sent: bool = False
    build: Callable[[Table], list[Operation]] | None = None
    """A sync whose operations are built only once it heads the queue, from the table every earlier
    batch left: built sooner, it would undo the batches queued before it."""


@dataclass(eq=False)
class WorkerRecord:
    worker_id: str
    hello: Hello
    table: Table = field(default_factory=Table)
    """Desired table: what the worker acked."""
    version: int = 0
    """Last version assigned."""
    acked: int = 0
    pending: deque[PendingBatch] = field(default_factory=deque)
    """Batches not yet acked, in order (the sent ones first)."""
    conn: Connection | None = None
    ready: bool = False
    """Handshake done and the resync queued: batches may be sent."""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    """Held while assigning versions and sending, so versions go out in order."""
    lost_timer: asyncio.TimerHandle | None = None
    stats: dict[str, Any] | None = None
    rate: PacketRate = field(default_factory=PacketRate)
    """Its measured load, from its stats reports (placement)."""

    def is_new_process(self, hello: Hello) -> bool:
        """Whether `hello` comes from another process than the previous one: each worker process
        makes its own DTLS certificate, so a changed fingerprint means a restart."""
        return bool(hello.dtls_fingerprints) and hello.dtls_fingerprints != self.hello.dtls_fingerprints

    def info(self) -> WorkerInfo:
        hello = self.hello
        return WorkerInfo(
            self.worker_id,
            hello.address,
            hello.candidates,
            hello.dtls_fingerprints,
            hello.capabilities,
            self.conn is not None,
            self.acked,
            self.table.counts(),
            self.stats,
            "connected" if self.conn is not None else "disconnected",
        )
