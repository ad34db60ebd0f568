"""The engine channel server: engine workers dial in, `EngineRegistry` keeps each one's desired
table, sends it versioned batches of operations and awaits their acks, resyncs a worker that
(re)connects, declares lost a worker gone longer than a grace period, and places new meetings on
the least loaded live worker.

The wire format is the engine's public `engine.channel_protocol` (the only part of the engine the
control plane touches). Where the desired state lives: in this process's memory, one `Table` per
worker, equal to what the worker acked. When the control plane restarts, a worker that reconnects
reports its table and the fresh registry adopts it as the desired state (meetings keep flowing);
the meetings layer, once it has rebuilt its own state, calls `EngineRegistry.replace_table` with
the table it wants, and whatever it no longer knows about is closed.

Usage (the meetings layer)::

    registry = request.app.state.engines
    worker_id = registry.pick_worker()
    applied = await registry.apply(worker_id, [{"op": "create_router", "id": "r1"}, ...])
    registry.add_listener(on_event)     # WorkerLost(worker_id, routers, transports): ICE-restart them
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from control import metrics
from engine import channel_protocol as proto
from engine.channel_protocol import ROUTER, TRANSPORT, Ack, Hello, ProtocolError, Table, TableError

log = logging.getLogger("podium.engines")

CHANNEL_PATH = "/engine/v1/channel"
METRICS_PATH = "/metrics"

DEFAULT_GRACE = 15.0
"""Seconds a disconnected worker may take to come back before its participants are moved."""
DEFAULT_ACK_TIMEOUT = 5.0
HANDSHAKE_TIMEOUT = 10.0
MAX_MALFORMED_FRAMES = 20
"""Malformed frames tolerated on one connection (each answered by an error frame) before closing it."""


# ---- errors ----------------------------------------------------------------------------------


class EngineChannelError(Exception):
    """Base of the registry's errors."""


class UnknownWorker(EngineChannelError):
    """No worker of that id is known (never connected, or lost)."""


class NoWorkerAvailable(EngineChannelError):
    """No live worker to place a meeting on."""


class WorkerLostError(EngineChannelError):
    """The worker was lost before it acked the batch."""


class RegistryClosed(EngineChannelError):
    """The control plane is shutting down."""


class InvalidOps(EngineChannelError, ValueError):
    """An operation does not follow the wire format (nothing was sent)."""


class AckTimeout(EngineChannelError, TimeoutError):
    """No ack in time. The batch stays queued, in order, and is applied when the worker acks it."""

    def __init__(self, worker_id: str, seconds: float) -> None:
        super().__init__(f"engine worker {worker_id!r} did not ack within {seconds:g} s")
        self.worker_id = worker_id


class OpsRefused(EngineChannelError):
    """The worker applied the batch but refused some of its operations (the others are in force)."""

    def __init__(self, worker_id: str, applied: Applied, ops: Sequence[dict[str, Any]]) -> None:
        details = "; ".join(f"{ops[i]['op']} {ops[i].get('id')!r}: {r.get('error')}: {r.get('message')}"
                            for i, r in applied.errors())
        super().__init__(f"engine worker {worker_id!r} refused: {details}")
        self.worker_id = worker_id
        self.applied = applied


# ---- values ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Applied:
    """A batch the worker acked."""

    version: int
    """The table version it is in force as."""
    results: list[dict[str, Any]]
    """One per operation: {"ok": true, ...} (a consume's carries its "ssrc") or {"ok": false, "error", "message"}."""
    latency: float
    """Seconds from the call (or its `started` time) to the ack."""

    @property
    def ok(self) -> bool:
        return all(r.get("ok") for r in self.results)

    def errors(self) -> list[tuple[int, dict[str, Any]]]:
        return [(i, r) for i, r in enumerate(self.results) if not r.get("ok")]


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


@dataclass(frozen=True)
class WorkerConnected:
    worker_id: str
    resynced: bool
    """A sync batch was sent (the worker restarted, the control plane did, or acks were missing)."""
    address_changed: bool
    """The worker's UDP address differs from before: its WebRTC peers need new candidates."""


@dataclass(frozen=True)
class WorkerDisconnected:
    worker_id: str


@dataclass(frozen=True)
class WorkerLost:
    """The worker stayed away longer than the grace period; its table is forgotten. The meetings
    layer tells the participants of these transports to reconnect (ICE restart) to a live worker."""

    worker_id: str
    routers: list[str]
    transports: list[str]


@dataclass(frozen=True)
class EngineEvent:
    """An event a worker reported (transport state changed, SSRC learned, transport failed...)."""

    worker_id: str
    event: str
    data: dict[str, Any]


RegistryEvent = WorkerConnected | WorkerDisconnected | WorkerLost | EngineEvent
Listener = Callable[[RegistryEvent], None]


class Connection(Protocol):
    """One worker's WebSocket, as the registry sees it."""

    async def recv(self) -> str | bytes | None:
        """The next frame; None once the connection is closed."""

    async def send(self, frame: str) -> None: ...

    async def close(self, code: int, reason: str) -> None: ...


# ---- the registry ----------------------------------------------------------------------------


@dataclass(eq=False)
class _Batch:
    ops: list[dict[str, Any]]
    sync: bool
    future: asyncio.Future[Applied]
    started: float
    internal: bool = False
    """A resync the registry sent by itself (nobody awaits it)."""
    version: int = 0
    sent: bool = False


@dataclass(eq=False)
class _Worker:
    worker_id: str
    hello: Hello
    table: Table = field(default_factory=Table)
    """Desired table: what the worker acked."""
    version: int = 0
    """Last version assigned."""
    acked: int = 0
    pending: deque[_Batch] = field(default_factory=deque)
    """Batches not yet acked, in order (the sent ones first)."""
    conn: Connection | None = None
    ready: bool = False
    """Handshake done and the resync queued: batches may be sent."""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    """Held while assigning versions and sending, so versions go out in order."""
    lost_timer: asyncio.TimerHandle | None = None
    stats: dict[str, Any] | None = None

    def info(self) -> WorkerInfo:
        hello = self.hello
        return WorkerInfo(self.worker_id, hello.address, hello.candidates, hello.dtls_fingerprints,
                          hello.capabilities, self.conn is not None, self.acked, self.table.counts(), self.stats)


class EngineRegistry:
    """Every engine worker known to this control plane, and the table each one should have."""

    def __init__(
        self,
        secret: str | None,
        *,
        grace: float = DEFAULT_GRACE,
        ack_timeout: float = DEFAULT_ACK_TIMEOUT,
        handshake_timeout: float = HANDSHAKE_TIMEOUT,
        max_malformed: int = MAX_MALFORMED_FRAMES,
    ) -> None:
        self._secret = secret or None
        self.grace = grace
        self.ack_timeout = ack_timeout
        self.handshake_timeout = handshake_timeout
        self.max_malformed = max_malformed
        self.epoch = secrets.token_hex(8)
        """Names this registry's life: a worker reporting another epoch was set by a previous one."""
        self.apply_latency = metrics.Histogram(
            "podium_engine_apply_seconds",
            "Time from a forwarding-table change (EngineRegistry.apply) to the engine worker's ack.")
        self.resyncs = 0
        self.op_errors = 0
        self.auth_failures = 0
        self.malformed_frames = 0
        self.closed = False
        self._workers: dict[str, _Worker] = {}
        self._listeners: list[Listener] = []
        self._changed = asyncio.Event()

    # -- queries --

    def workers(self) -> list[WorkerInfo]:
        return [w.info() for w in self._workers.values()]

    def worker(self, worker_id: str) -> WorkerInfo:
        return self._get(worker_id).info()

    def table(self, worker_id: str) -> list[dict[str, Any]]:
        """The worker's desired table, as the operations that build it."""
        return self._get(worker_id).table.dump()

    def pick_worker(self, *, exclude: Iterable[str] = (), require: Iterable[str] = ()) -> str:
        """The connected worker with the fewest transports (ties: the fewest routers, then by id),
        among those not excluded and having every required capability."""
        excluded, required = set(exclude), set(require)
        live = [w for w in self._workers.values()
                if w.ready and w.worker_id not in excluded and required <= set(w.hello.capabilities)]
        if not live:
            raise NoWorkerAvailable("no live engine worker" + (" with " + ", ".join(sorted(required))
                                                               if required else ""))

        def load(w: _Worker) -> tuple[int, int, str]:
            counts = w.table.counts()
            return counts["transports"], counts["routers"], w.worker_id

        return min(live, key=load).worker_id

    async def wait_for_worker(self, worker_id: str | None = None, timeout: float = 10.0) -> WorkerInfo:
        """Waits until that worker (or any, when None) is connected and ready."""
        async def ready() -> WorkerInfo:
            while True:
                for w in self._workers.values():
                    if w.ready and (worker_id is None or w.worker_id == worker_id):
                        return w.info()
                self._changed.clear()
                await self._changed.wait()

        async with asyncio.timeout(timeout):
            return await ready()

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        self._listeners.remove(listener)

    # -- changes --

    async def apply(
        self,
        worker_id: str,
        ops: Sequence[dict[str, Any]],
        *,
        timeout: float | None = None,
        started: float | None = None,
    ) -> Applied:
        """Sends `ops` as one batch and returns once the worker acked it.

        A consume without an ssrc gets one here, so a resync recreates it unchanged. While the
        worker is reconnecting the batch waits in the queue. Raises OpsRefused if the worker refused
        an operation (the others are in force), AckTimeout after `timeout` (default: the registry's
        ack timeout; the batch stays queued), WorkerLostError, UnknownWorker, InvalidOps.
        `started` is a `time.perf_counter()` taken when the API call began: the latency recorded in
        `podium_engine_apply_seconds` runs from it."""
        worker = self._get(worker_id)
        try:
            checked = [proto.validate_op(op) for op in ops]
        except ProtocolError as error:
            raise InvalidOps(str(error)) from None
        self._assign_ssrcs(worker, checked)
        return await self._submit(worker, checked, sync=False, timeout=timeout, started=started)

    async def replace_table(
        self,
        worker_id: str,
        ops: Sequence[dict[str, Any]],
        *,
        timeout: float | None = None,
    ) -> Applied:
        """Makes the worker's table exactly the one `ops` build (creates and connects only): what
        is unchanged keeps forwarding, the rest is closed or created. For the meetings layer after
        a control-plane restart, once it knows what it wants."""
        worker = self._get(worker_id)
        try:
            checked = [proto.validate_op(op) for op in ops]
            Table.from_ops(checked)
        except ProtocolError as error:
            raise InvalidOps(str(error)) from None
        except TableError as error:
            raise InvalidOps(error.message) from None
        if any(op["op"] not in proto.SYNC_OPS for op in checked):
            raise InvalidOps("a table is made of creates and connects only")
        self._assign_ssrcs(worker, checked)
        return await self._submit(worker, checked, sync=True, timeout=timeout, started=None)

    async def close(self) -> None:
        """Closes every worker connection (the workers keep forwarding and will reconnect)."""
        self.closed = True
        for worker in list(self._workers.values()):
            if worker.lost_timer is not None:
                worker.lost_timer.cancel()
            self._fail_pending(worker, RegistryClosed("the control plane is shutting down"))
            conn, worker.conn, worker.ready = worker.conn, None, False
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.close(proto.CLOSE_GOING_AWAY, "control plane shutting down")

    # -- metrics --

    def metrics_text(self) -> str:
        connected = sum(1 for w in self._workers.values() if w.conn is not None)
        lines = self.apply_latency.render()
        lines += metrics.samples("podium_engine_workers", "gauge", "Engine workers known, by connection state.",
                                 [({"state": "connected"}, connected),
                                  ({"state": "disconnected"}, len(self._workers) - connected)])
        lines += metrics.samples("podium_engine_table_version", "gauge", "Last table version each worker acked.",
                                 [({"worker": w.worker_id}, w.acked) for w in self._workers.values()])
        lines += metrics.samples("podium_engine_pending_batches", "gauge", "Batches awaiting a worker's ack.",
                                 [({"worker": w.worker_id}, len(w.pending)) for w in self._workers.values()])
        lines += metrics.samples("podium_engine_resyncs_total", "counter", "Whole tables sent to workers.",
                                 [({}, self.resyncs)])
        lines += metrics.samples("podium_engine_op_errors_total", "counter", "Operations workers refused.",
                                 [({}, self.op_errors)])
        lines += metrics.samples("podium_engine_auth_failures_total", "counter",
                                 "Engine channel connections refused for a bad secret.", [({}, self.auth_failures)])
        lines += metrics.samples("podium_engine_malformed_frames_total", "counter",
                                 "Malformed frames received on engine channels.", [({}, self.malformed_frames)])
        return "\n".join(lines) + "\n"

    # -- connections --

    async def handle(self, conn: Connection) -> None:
        """Serves one worker connection, from the challenge until it closes."""
        if self._secret is None or self.closed:
            reason = "engine channel disabled: no secret configured" if self._secret is None else "shutting down"
            await conn.close(proto.CLOSE_AUTH_FAILED if self._secret is None else proto.CLOSE_GOING_AWAY, reason)
            return
        nonce = secrets.token_hex(16)
        await conn.send(proto.encode({"type": "challenge", "protocol": proto.PROTOCOL, "nonce": nonce}))
        try:
            async with asyncio.timeout(self.handshake_timeout):  # not wait_for: it may swallow a cancel (3.11)
                frame = await conn.recv()
        except TimeoutError:
            await conn.close(proto.CLOSE_PROTOCOL_ERROR, "no hello in time")
            return
        if frame is None:
            return
        try:
            hello = proto.parse_hello(proto.decode(frame))
        except ProtocolError as error:
            await conn.close(proto.CLOSE_PROTOCOL_ERROR, str(error)[:120])
            return
        expected = proto.hello_proof(self._secret, nonce, hello.nonce, hello.worker_id)
        if not proto.proofs_match(expected, hello.proof):
            self.auth_failures += 1
            log.warning("engine worker %r failed authentication", hello.worker_id)
            await conn.close(proto.CLOSE_AUTH_FAILED, "authentication failed")
            return
        worker = await self._attach(conn, hello, proto.welcome_proof(self._secret, nonce, hello.nonce,
                                                                     hello.worker_id))
        if worker is None:
            return
        try:
            await self._serve(worker, conn)
        finally:
            self._detach(worker, conn)

    async def _serve(self, worker: _Worker, conn: Connection) -> None:
        malformed = 0
        while True:
            frame = await conn.recv()
            if frame is None:
                return
            try:
                self._on_frame(worker, proto.decode(frame))
            except ProtocolError as error:
                malformed += 1
                self.malformed_frames += 1
                log.warning("malformed frame from engine worker %r: %s", worker.worker_id, error)
                if malformed > self.max_malformed:
                    await conn.close(proto.CLOSE_TOO_MANY_ERRORS, "too many malformed frames")
                    return
                with contextlib.suppress(Exception):
                    await conn.send(proto.error_frame("malformed", str(error)))

    def _on_frame(self, worker: _Worker, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "ack":
            self._on_ack(worker, proto.parse_ack(message))
        elif kind == "stats":
            engine_stats = message.get("engine")
            if not isinstance(engine_stats, dict):
                raise ProtocolError("stats without an engine object")
            worker.stats = engine_stats
        elif kind == "event":
            name = message.get("event")
            if not isinstance(name, str):
                raise ProtocolError('event without a string "event"')
            self._emit(EngineEvent(worker.worker_id, name, message))
        elif kind == "error":
            log.warning("engine worker %r reports: %s %s", worker.worker_id, message.get("code"),
                        message.get("message"))
        else:
            raise ProtocolError(f"unexpected frame type {kind!r}")

    async def _attach(self, conn: Connection, hello: Hello, proof: str) -> _Worker | None:
        worker = self._workers.get(hello.worker_id)
        report = hello.table
        fresh = worker is None
        if worker is None:
            worker = _Worker(hello.worker_id, hello, version=report.version)
            if report.epoch is not None and report.epoch != self.epoch and report.ops:
                worker.table = self._adopt(hello.worker_id, report.ops)
            self._workers[hello.worker_id] = worker
        address_changed = not fresh and worker.hello.address != hello.address
        if worker.lost_timer is not None:
            worker.lost_timer.cancel()
            worker.lost_timer = None
        old = worker.conn
        if old is not None:
            log.warning("engine worker %r connected again: closing its previous connection", hello.worker_id)
            self._disconnected(worker)
            asyncio.get_running_loop().create_task(_close_quietly(old, proto.CLOSE_REPLACED, "replaced"))
        async with worker.lock:
            worker.hello, worker.conn = hello, conn
            try:
                await conn.send(proto.encode({"type": "welcome", "epoch": self.epoch, "proof": proof}))
            except Exception:
                worker.conn = None
                self._start_grace(worker)
                return None
            up_to_date = report.epoch == self.epoch and report.version == worker.acked and not fresh
            for batch in [b for b in worker.pending if b.internal]:
                worker.pending.remove(batch)
                batch.future.cancel()
            if not up_to_date:
                self.resyncs += 1
                future: asyncio.Future[Applied] = asyncio.get_running_loop().create_future()
                worker.pending.appendleft(_Batch(worker.table.dump(), True, future, time.perf_counter(),
                                                 internal=True))
            worker.ready = True
            await self._flush(worker)
        log.info("engine worker %r connected from %s (table version %d, %s)", hello.worker_id, hello.address,
                 report.version, "up to date" if up_to_date else "resync")
        self._emit(WorkerConnected(hello.worker_id, not up_to_date, address_changed))
        return worker

    def _adopt(self, worker_id: str, raw_ops: list[Any]) -> Table:
        """A worker set by a previous control plane: its table becomes the desired one."""
        table = Table()
        for raw in raw_ops:
            try:
                table.apply(proto.validate_op(raw))
            except (ProtocolError, TableError) as error:
                log.warning("engine worker %r reported an unusable table entry: %s", worker_id, error)
        log.info("engine worker %r: adopted its table of %d objects", worker_id, len(table))
        return table

    def _detach(self, worker: _Worker, conn: Connection) -> None:
        if worker.conn is not conn:
            return  # replaced by a newer connection
        self._disconnected(worker)
        if not self.closed:
            log.warning("engine worker %r disconnected; lost unless back within %g s", worker.worker_id, self.grace)
            self._emit(WorkerDisconnected(worker.worker_id))
            self._start_grace(worker)

    def _disconnected(self, worker: _Worker) -> None:
        worker.conn, worker.ready = None, False
        for batch in worker.pending:
            batch.sent = False
        self._changed.set()

    def _start_grace(self, worker: _Worker) -> None:
        if worker.lost_timer is None and not self.closed:
            worker.lost_timer = asyncio.get_running_loop().call_later(self.grace, self._lose, worker)

    def _lose(self, worker: _Worker) -> None:
        worker.lost_timer = None
        if worker.conn is not None or self._workers.get(worker.worker_id) is not worker:
            return
        del self._workers[worker.worker_id]
        self._fail_pending(worker, WorkerLostError(f"engine worker {worker.worker_id!r} was lost"))
        log.error("engine worker %r lost: %d transports must move", worker.worker_id,
                  len(worker.table.ids(TRANSPORT)))
        self._emit(WorkerLost(worker.worker_id, worker.table.ids(ROUTER), worker.table.ids(TRANSPORT)))

    # -- batches --

    def _get(self, worker_id: str) -> _Worker:
        if self.closed:
            raise RegistryClosed("the control plane is shutting down")
        worker = self._workers.get(worker_id)
        if worker is None:
            raise UnknownWorker(f"no engine worker {worker_id!r}")
        return worker

    @staticmethod
    def _assign_ssrcs(worker: _Worker, ops: list[dict[str, Any]]) -> None:
        used = {r["op"].get("ssrc") for r in worker.table.objects.values()}
        used |= {op.get("ssrc") for batch in worker.pending for op in batch.ops}
        used |= {op.get("ssrc") for op in ops}
        for op in ops:
            if op["op"] == "consume" and op["ssrc"] is None:
                ssrc = random.randint(1, 0xFFFFFFFF)
                while ssrc in used:
                    ssrc = random.randint(1, 0xFFFFFFFF)
                op["ssrc"] = ssrc
                used.add(ssrc)

    async def _submit(self, worker: _Worker, ops: list[dict[str, Any]], *, sync: bool, timeout: float | None,
                      started: float | None) -> Applied:
        future: asyncio.Future[Applied] = asyncio.get_running_loop().create_future()
        future.add_done_callback(_retrieve)
        worker.pending.append(_Batch(ops, sync, future, started if started is not None else time.perf_counter()))
        if worker.ready:
            async with worker.lock:
                await self._flush(worker)
        seconds = self.ack_timeout if timeout is None else timeout
        try:
            async with asyncio.timeout(seconds):
                return await asyncio.shield(future)
        except TimeoutError:
            raise AckTimeout(worker.worker_id, seconds) from None

    async def _flush(self, worker: _Worker) -> None:
        """Sends every batch not sent yet, in order; the caller holds worker.lock."""
        conn = worker.conn
        for batch in list(worker.pending):
            if not worker.ready or worker.conn is not conn or conn is None:
                return
            if batch.sent:
                continue
            worker.version += 1
            batch.version, batch.sent = worker.version, True
            frame = proto.encode({"type": "ops", "epoch": self.epoch, "version": batch.version, "sync": batch.sync,
                                  "ops": batch.ops})
            try:
                await conn.send(frame)
            except Exception as error:
                log.warning("engine worker %r: send failed (%s); waiting for it to reconnect", worker.worker_id,
                            error or type(error).__name__)
                await _close_quietly(conn, proto.CLOSE_GOING_AWAY, "send failed")
                self._detach(worker, conn)
                return

    def _on_ack(self, worker: _Worker, ack: Ack) -> None:
        head = worker.pending[0] if worker.pending else None
        if head is None or not head.sent or head.version != ack.version:
            raise ProtocolError(f"ack for version {ack.version}, which is not the oldest batch in flight")
        if len(ack.results) != len(head.ops):
            raise ProtocolError(f"ack for version {ack.version} has {len(ack.results)} results "
                                f"for {len(head.ops)} operations")
        worker.pending.popleft()
        worker.acked = ack.version
        table = Table() if head.sync else worker.table
        desync = False
        for op, result in zip(head.ops, ack.results):
            if not result.get("ok"):
                continue
            if op["op"] == "consume" and op["ssrc"] is None and isinstance(result.get("ssrc"), int):
                op = {**op, "ssrc": result["ssrc"]}
            try:
                table.apply(op)
            except TableError as error:
                log.error("engine worker %r acked %s %r that the table refuses (%s): resyncing",
                          worker.worker_id, op["op"], op["id"], error)
                desync = True
        worker.table = table
        applied = Applied(ack.version, ack.results, time.perf_counter() - head.started)
        errors = applied.errors()
        self.op_errors += len(errors)
        if not head.internal:
            self.apply_latency.observe(applied.latency)
        if head.future.done():
            pass
        elif errors and not head.internal:
            head.future.set_exception(OpsRefused(worker.worker_id, applied, head.ops))
        else:
            if errors:
                log.warning("engine worker %r refused part of its resync: %s", worker.worker_id, errors)
            head.future.set_result(applied)
        if desync:
            self.resyncs += 1
            future: asyncio.Future[Applied] = asyncio.get_running_loop().create_future()
            worker.pending.append(_Batch(worker.table.dump(), True, future, time.perf_counter(), internal=True))
            asyncio.get_running_loop().create_task(self._flush_locked(worker))

    async def _flush_locked(self, worker: _Worker) -> None:
        async with worker.lock:
            await self._flush(worker)

    def _fail_pending(self, worker: _Worker, error: Exception) -> None:
        while worker.pending:
            batch = worker.pending.popleft()
            if not batch.future.done():
                if batch.internal:
                    batch.future.cancel()
                else:
                    batch.future.set_exception(error)

    def _emit(self, event: RegistryEvent) -> None:
        self._changed.set()
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("engine registry listener failed on %r", event)


def _retrieve(future: asyncio.Future[Any]) -> None:
    """Marks an abandoned batch's exception as seen (its caller may have timed out)."""
    if not future.cancelled():
        future.exception()


async def _close_quietly(conn: Connection, code: int, reason: str) -> None:
    with contextlib.suppress(Exception):
        await conn.close(code, reason)


# ---- Starlette ---------------------------------------------------------------------------------


class _WebSocketConnection:
    """A Starlette WebSocket as a `Connection`."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self.closed = False

    async def recv(self) -> str | bytes | None:
        if self.closed:
            return None
        try:
            message = await self.websocket.receive()
        except RuntimeError:
            return None
        if message["type"] == "websocket.disconnect":
            self.closed = True
            return None
        text = message.get("text")
        return text if text is not None else (message.get("bytes") or b"")

    async def send(self, frame: str) -> None:
        await self.websocket.send_text(frame)

    async def close(self, code: int, reason: str) -> None:
        if not self.closed:
            self.closed = True
            with contextlib.suppress(Exception):
                await self.websocket.close(code, reason[:120])


async def channel_endpoint(websocket: WebSocket) -> None:
    """The engine channel: one WebSocket per engine worker (GET /engine/v1/channel)."""
    registry: EngineRegistry | None = getattr(websocket.app.state, "engines", None)
    await websocket.accept()
    conn = _WebSocketConnection(websocket)
    if registry is None:
        await conn.close(1011, "engine registry not running")
        return
    try:
        await registry.handle(conn)
    finally:
        await conn.close(proto.CLOSE_GOING_AWAY, "bye")


async def metrics_endpoint(request: Request) -> Response:
    """Prometheus metrics (GET /metrics): the engine channel's, followed by those of every source
    the application lists at app.state.metrics (callables returning exposition text), when set."""
    sources = getattr(request.app.state, "metrics", None)
    if sources is None:
        registry: EngineRegistry | None = getattr(request.app.state, "engines", None)
        sources = [registry.metrics_text] if registry is not None else []
    return Response("".join(source() for source in sources), media_type=metrics.CONTENT_TYPE)


def routes() -> list[BaseRoute]:
    """The routes the application mounts; the lifespan puts the registry at app.state.engines."""
    return [WebSocketRoute(CHANNEL_PATH, channel_endpoint), Route(METRICS_PATH, metrics_endpoint, methods=["GET"])]
