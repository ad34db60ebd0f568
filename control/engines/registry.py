"""The engine registry: every engine worker dialled in keeps a desired table here. `EngineRegistry`
sends it versioned batches of typed operations and awaits their acks, resyncs a worker that
(re)connects, and declares lost a worker gone longer than a grace period.

Where the desired state lives: in this process's memory, one `Table` per worker, equal to what the
worker acked. When the control plane restarts, a worker that reconnects reports its table and the
fresh registry adopts it as the desired state (meetings keep flowing); the meetings layer, once it
has rebuilt its own state, calls `EngineRegistry.replace_table` with the table it wants, and
whatever it no longer knows about is closed.

Usage (the meetings layer)::

    registry = request.app.state.engines
    worker_id = registry.pick_worker()
    ack = await registry.apply(worker_id, [ops.CreateRouter("r1"), ...])
    registry.add_listener(on_event)     # WorkerLost(worker_id, routers, transports): ICE-restart them
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import secrets
import time
from collections.abc import Iterable, Sequence
from typing import Any

from contract import framing, handshake
from contract.acks import Ack, parse_ack
from contract.framing import ProtocolError
from contract.handshake import Hello
from contract.ops import Batch, Consume, Operation, parse_op
from contract.stats import parse_stats
from contract.table import Table, TableError
from contract.vocabulary import ROUTER, TRANSPORT
from control import metrics
from control.engines.checks import check_table, check_types
from control.engines.errors import (
    AckTimeout,
    OpsRefused,
    RegistryClosed,
    UnknownWorker,
    WorkerLostError,
)
from control.engines.events import (
    EngineEvent,
    Listener,
    RegistryEvent,
    StatsReported,
    WorkerConnected,
    WorkerDisconnected,
    WorkerLost,
)
from control.engines.placement import Load, choose, preference
from control.engines.workers import Connection, PendingBatch, WorkerInfo, WorkerRecord

log = logging.getLogger("podium.engines")

DEFAULT_GRACE = 15.0
"""Seconds a disconnected worker may take to come back before its participants are moved."""
DEFAULT_ACK_TIMEOUT = 5.0
HANDSHAKE_TIMEOUT = 10.0
MAX_GONE = 256
"""Workers gone for good (lost, restarting) kept for `lifecycle` and /metrics until one comes back."""
MAX_MALFORMED_FRAMES = 20
"""Malformed frames tolerated on one connection (each answered by an error frame) before closing it."""


# ---- the registry ----------------------------------------------------------------------------


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
            "Time from a forwarding-table change (EngineRegistry.apply) to the engine worker's ack.",
        )
        self.resyncs = 0
        self.op_errors = 0
        self.auth_failures = 0
        self.malformed_frames = 0
        self.closed = False
        self._workers: dict[str, WorkerRecord] = {}
        self._gone: dict[str, str] = {}
        """Workers no longer in `_workers`, by id: "restarting" or "lost" (until one comes back)."""
        self._listeners: list[Listener] = []
        self._changed = asyncio.Event()

    # -- queries --

    def workers(self) -> list[WorkerInfo]:
        return [w.info() for w in self._workers.values()]

    def worker(self, worker_id: str) -> WorkerInfo:
        return self._get(worker_id).info()

    def lifecycle(self) -> dict[str, str]:
        """Every worker known, live or gone, and its state (`LIFECYCLE`): what /metrics shows."""
        return {**self._gone, **{w.worker_id: w.info().state for w in self._workers.values()}}

    def restarting(self) -> bool:
        """Whether a supervisor is starting a worker again (a new meeting may wait for it)."""
        return "restarting" in self._gone.values()

    def table(self, worker_id: str) -> list[Operation]:
        """The worker's desired table, as the operations that build it."""
        return self._get(worker_id).table.dump()

    def pick_worker(self, *, exclude: Iterable[str] = (), require: Iterable[str] = ()) -> str:
        """The connected worker with the least measured load (`placement.choose`), among those not
        excluded and having every required capability."""
        return choose(self._loads(), exclude=exclude, require=require)

    def preference(self, *, require: Iterable[str] = ()) -> list[str]:
        """The connected workers having every required capability, least loaded first
        (`placement.preference`: where a meeting's participant may spill to)."""
        return preference(self._loads(), require=require)

    def _loads(self) -> list[Load]:
        loads = []
        for w in self._workers.values():
            if w.ready:
                counts = w.table.counts()
                loads.append(
                    Load(w.worker_id, frozenset(w.hello.capabilities), counts, w.rate.estimate(counts["transports"]))
                )
        return loads

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
        ops: Sequence[Operation],
        *,
        timeout: float | None = None,
        started: float | None = None,
    ) -> Ack:
        """Sends `ops` as one batch and returns the worker's ack once it came.

        While the worker is reconnecting the batch waits in the queue. Raises OpsRefused if the
        worker refused an operation (the others are in force), AckTimeout after `timeout` (default:
        the registry's ack timeout; the batch stays queued), WorkerLostError, UnknownWorker,
        InvalidOps. `started` is a `time.perf_counter()` taken when the API call began: the latency
        recorded in `podium_engine_apply_seconds` runs from it."""
        worker = self._get(worker_id)
        check_types(ops)
        return await self._submit(worker, list(ops), sync=False, timeout=timeout, started=started)

    async def replace_table(
        self,
        worker_id: str,
        ops: Sequence[Operation],
        *,
        timeout: float | None = None,
    ) -> Ack:
        """Makes the worker's table exactly the one `ops` build (creates and connects only): what
        is unchanged keeps forwarding, the rest is closed or created. For the meetings layer after
        a control-plane restart, once it knows what it wants."""
        worker = self._get(worker_id)
        check_table(ops)
        return await self._submit(worker, list(ops), sync=True, timeout=timeout, started=None)

    def resync_router(
        self, worker_id: str, router_id: str, ops: Sequence[Operation], *, owned: str | None = None
    ) -> asyncio.Future[Ack]:
        """Queues a sync that makes the router's share of the worker's table exactly what `ops` build
        (creates and connects only) and leaves every other router as the batches before it leave it:
        the meetings layer's repair after a refused or unanswered change. Returns the ack's future
        at once, so that the repair is queued before anything the caller sends next. `owned`: the
        prefix of the ids of objects outside the router that are its share too (a meeting's pipe
        producers and consumers); objects of `ops` the table holds outside that share (the pipe
        transports, shared by every meeting) are kept as they are."""
        worker = self._get(worker_id)
        check_table(ops)
        mine = list(ops)

        def build(table: Table) -> list[Operation]:
            gone = set(table.closing(router_id))
            if owned is not None:
                for oid in [oid for oid in table.objects if oid.startswith(owned)]:
                    gone.update(table.closing(oid))
            kept = [op for op in table.dump() if op.id not in gone]
            ids = {op.id for op in kept}
            return Table.from_ops(kept + [op for op in mine if op.id not in ids]).dump()

        return self._enqueue(worker, PendingBatch([], True, self._future(), time.perf_counter(), build=build))

    def worker_exited(self, worker_id: str, *, restarting: bool) -> None:
        """The process supervising the worker saw it exit (`podium serve` for its local worker): it
        is lost now, without waiting for the grace period: pending batches fail, listeners get
        `WorkerLost`. `restarting`: the supervisor starts it again (reported until it connects)."""
        worker = self._workers.get(worker_id)
        if worker is not None and not self.closed:
            conn = worker.conn
            if conn is not None:
                self._disconnected(worker)
                asyncio.get_running_loop().create_task(_close_quietly(conn, framing.CLOSE_GOING_AWAY, "exited"))
            if worker.lost_timer is not None:
                worker.lost_timer.cancel()
            self._lose(worker, "exited")
        self._mark_gone(worker_id, "restarting" if restarting else "lost")

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
                    await conn.close(framing.CLOSE_GOING_AWAY, "control plane shutting down")

    # -- metrics --

    def pending_batches(self) -> dict[str, int]:
        """worker id → batches awaiting its ack (control.engines.stats exports it)."""
        return {w.worker_id: len(w.pending) for w in self._workers.values()}

    # -- connections --

    async def handle(self, conn: Connection) -> None:
        """Serves one worker connection, from the challenge until it closes."""
        if self._secret is None or self.closed:
            reason = "engine channel disabled: no secret configured" if self._secret is None else "shutting down"
            await conn.close(framing.CLOSE_AUTH_FAILED if self._secret is None else framing.CLOSE_GOING_AWAY, reason)
            return
        nonce = secrets.token_hex(16)
        await conn.send(framing.encode({"type": "challenge", "protocol": framing.PROTOCOL, "nonce": nonce}))
        try:
            async with asyncio.timeout(self.handshake_timeout):  # not wait_for: it may swallow a cancel (3.11)
                frame = await conn.recv()
        except TimeoutError:
            await conn.close(framing.CLOSE_PROTOCOL_ERROR, "no hello in time")
            return
        if frame is None:
            return
        try:
            hello = handshake.parse_hello(framing.decode(frame))
        except ProtocolError as error:
            await conn.close(framing.CLOSE_PROTOCOL_ERROR, str(error)[:120])
            return
        expected = handshake.hello_proof(self._secret, nonce, hello.nonce, hello.worker_id)
        if not handshake.proofs_match(expected, hello.proof):
            self.auth_failures += 1
            log.warning("engine worker %r failed authentication", hello.worker_id)
            await conn.close(framing.CLOSE_AUTH_FAILED, "authentication failed")
            return
        worker = await self._attach(
            conn, hello, handshake.welcome_proof(self._secret, nonce, hello.nonce, hello.worker_id)
        )
        if worker is None:
            return
        try:
            await self._serve(worker, conn)
        finally:
            self._detach(worker, conn)

    async def _serve(self, worker: WorkerRecord, conn: Connection) -> None:
        malformed = 0
        while True:
            frame = await conn.recv()
            if frame is None:
                return
            try:
                self._on_frame(worker, framing.decode(frame))
            except ProtocolError as error:
                malformed += 1
                self.malformed_frames += 1
                log.warning("malformed frame from engine worker %r: %s", worker.worker_id, error)
                if malformed > self.max_malformed:
                    await conn.close(framing.CLOSE_TOO_MANY_ERRORS, "too many malformed frames")
                    return
                with contextlib.suppress(Exception):
                    await conn.send(framing.error_frame("malformed", str(error)))

    def _on_frame(self, worker: WorkerRecord, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "ack":
            self._on_ack(worker, parse_ack(message))
        elif kind == "stats":
            report = parse_stats(message)
            worker.stats = report.engine
            worker.rate.update(report.traffic, time.monotonic(), worker.table.counts()["transports"])
            self._emit(StatsReported(worker.worker_id, report))
        elif kind == "event":
            name = message.get("event")
            if not isinstance(name, str):
                raise ProtocolError('event without a string "event"')
            self._emit(EngineEvent(worker.worker_id, name, message))
        elif kind == "error":
            log.warning(
                "engine worker %r reports: %s %s", worker.worker_id, message.get("code"), message.get("message")
            )
        else:
            raise ProtocolError(f"unexpected frame type {kind!r}")

    async def _attach(self, conn: Connection, hello: Hello, proof: str) -> WorkerRecord | None:
        worker = self._workers.get(hello.worker_id)
        if worker is not None and worker.is_new_process(hello):
            # its DTLS certificate changed: the process restarted, and with it every DTLS
            # association and SRTP key of its transports. A resync would recreate transports that
            # no peer can reach: the old worker is lost (its meetings reconnect), this one is new.
            log.warning("engine worker %r came back as a new process (new DTLS certificate)", hello.worker_id)
            old_conn = worker.conn
            if old_conn is not None:
                self._disconnected(worker)
                asyncio.get_running_loop().create_task(_close_quietly(old_conn, framing.CLOSE_REPLACED, "replaced"))
            if worker.lost_timer is not None:
                worker.lost_timer.cancel()
            self._lose(worker, "restarted")
            worker = None
        self._gone.pop(hello.worker_id, None)
        report = hello.table
        fresh = worker is None
        if worker is None:
            worker = WorkerRecord(hello.worker_id, hello, version=report.version)
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
            asyncio.get_running_loop().create_task(_close_quietly(old, framing.CLOSE_REPLACED, "replaced"))
        async with worker.lock:
            worker.hello, worker.conn = hello, conn
            try:
                await conn.send(framing.encode({"type": "welcome", "epoch": self.epoch, "proof": proof}))
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
                batch = PendingBatch(worker.table.dump(), True, self._future(), time.perf_counter(), internal=True)
                worker.pending.appendleft(batch)
            worker.ready = True
            await self._flush(worker)
        log.info(
            "engine worker %r connected from %s (table version %d, %s)",
            hello.worker_id,
            hello.address,
            report.version,
            "up to date" if up_to_date else "resync",
        )
        self._emit(WorkerConnected(hello.worker_id, not up_to_date, address_changed))
        return worker

    def _adopt(self, worker_id: str, raw_ops: list[Any]) -> Table:
        """A worker set by a previous control plane: its table becomes the desired one."""
        table = Table()
        for raw in raw_ops:
            try:
                table.apply(parse_op(raw))
            except (ProtocolError, TableError) as error:
                log.warning("engine worker %r reported an unusable table entry: %s", worker_id, error)
        log.info("engine worker %r: adopted its table of %d objects", worker_id, len(table))
        return table

    def _detach(self, worker: WorkerRecord, conn: Connection) -> None:
        if worker.conn is not conn:
            return  # replaced by a newer connection
        self._disconnected(worker)
        if not self.closed:
            log.warning("engine worker %r disconnected; lost unless back within %g s", worker.worker_id, self.grace)
            self._emit(WorkerDisconnected(worker.worker_id))
            self._start_grace(worker)

    def _disconnected(self, worker: WorkerRecord) -> None:
        worker.conn, worker.ready = None, False
        for batch in worker.pending:
            batch.sent = False
        self._changed.set()

    def _start_grace(self, worker: WorkerRecord) -> None:
        if worker.lost_timer is None and not self.closed:
            worker.lost_timer = asyncio.get_running_loop().call_later(self.grace, self._lose, worker)

    def _lose(self, worker: WorkerRecord, why: str = "away too long") -> None:
        worker.lost_timer = None
        if worker.conn is not None or self._workers.get(worker.worker_id) is not worker:
            return
        del self._workers[worker.worker_id]
        self._mark_gone(worker.worker_id, "lost")
        self._fail_pending(worker, WorkerLostError(f"engine worker {worker.worker_id!r} was lost ({why})"))
        log.error(
            "engine worker %r lost (%s): %d transports must move",
            worker.worker_id,
            why,
            len(worker.table.ids(TRANSPORT)),
        )
        self._emit(WorkerLost(worker.worker_id, worker.table.ids(ROUTER), worker.table.ids(TRANSPORT)))

    def _mark_gone(self, worker_id: str, state: str) -> None:
        if worker_id in self._workers:
            return
        self._gone.pop(worker_id, None)
        self._gone[worker_id] = state
        while len(self._gone) > MAX_GONE:
            del self._gone[next(iter(self._gone))]

    # -- batches --

    def _get(self, worker_id: str) -> WorkerRecord:
        if self.closed:
            raise RegistryClosed("the control plane is shutting down")
        worker = self._workers.get(worker_id)
        if worker is None:
            raise UnknownWorker(f"no engine worker {worker_id!r}")
        return worker

    async def _submit(
        self, worker: WorkerRecord, ops: list[Operation], *, sync: bool, timeout: float | None, started: float | None
    ) -> Ack:
        future = self._future()
        worker.pending.append(PendingBatch(ops, sync, future, started if started is not None else time.perf_counter()))
        if worker.ready:
            async with worker.lock:
                await self._flush(worker)
        seconds = self.ack_timeout if timeout is None else timeout
        try:
            async with asyncio.timeout(seconds):
                return await asyncio.shield(future)
        except TimeoutError:
            raise AckTimeout(worker.worker_id, seconds) from None

    @staticmethod
    def _future() -> asyncio.Future[Ack]:
        future: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
        future.add_done_callback(_retrieve)
        return future

    def _enqueue(self, worker: WorkerRecord, batch: PendingBatch) -> asyncio.Future[Ack]:
        """Queues `batch` now and sends it from a task (the caller need not await)."""
        worker.pending.append(batch)
        if worker.ready:
            asyncio.get_running_loop().create_task(self._flush_locked(worker))
        return batch.future

    async def _flush(self, worker: WorkerRecord) -> None:
        """Sends every batch not sent yet, in order, up to a sync still to be built that does not
        head the queue (the ack of the batch before it sends it); the caller holds worker.lock."""
        conn = worker.conn
        for batch in list(worker.pending):
            if not worker.ready or worker.conn is not conn or conn is None:
                return
            if batch.sent:
                continue
            if batch.build is not None:
                if batch is not worker.pending[0]:
                    return
                batch.ops = batch.build(worker.table)
            worker.version += 1
            batch.version, batch.sent = worker.version, True
            frame = framing.encode(Batch(self.epoch, batch.version, batch.sync, batch.ops).to_wire())
            try:
                await conn.send(frame)
            except Exception as error:
                log.warning(
                    "engine worker %r: send failed (%s); waiting for it to reconnect",
                    worker.worker_id,
                    error or type(error).__name__,
                )
                await _close_quietly(conn, framing.CLOSE_GOING_AWAY, "send failed")
                self._detach(worker, conn)
                return

    def _on_ack(self, worker: WorkerRecord, ack: Ack) -> None:
        head = worker.pending[0] if worker.pending else None
        if head is None or not head.sent or head.version != ack.version:
            raise ProtocolError(f"ack for version {ack.version}, which is not the oldest batch in flight")
        if len(ack.results) != len(head.ops):
            raise ProtocolError(
                f"ack for version {ack.version} has {len(ack.results)} results for {len(head.ops)} operations"
            )
        worker.pending.popleft()
        worker.acked = ack.version
        table = Table() if head.sync else worker.table
        desync = False
        for op, result in zip(head.ops, ack.results):
            if not result.get("ok"):
                continue
            if isinstance(op, Consume) and op.rtx_ssrc is None and isinstance(result.get("rtx_ssrc"), int):
                op = dataclasses.replace(op, rtx_ssrc=result["rtx_ssrc"])  # the worker's engine allocated it
            try:
                table.apply(op)
            except (TableError, ProtocolError) as error:
                log.error(
                    "engine worker %r acked %s %r that the table refuses (%s): resyncing",
                    worker.worker_id,
                    op.name,
                    op.id,
                    error,
                )
                desync = True
        worker.table = table
        ack = dataclasses.replace(ack, latency=time.perf_counter() - head.started)
        errors = ack.errors()
        self.op_errors += len(errors)
        if not head.internal:
            self.apply_latency.observe(ack.latency)
        if head.future.done():
            pass
        elif errors and not head.internal:
            head.future.set_exception(OpsRefused(worker.worker_id, ack, head.ops))
        else:
            if errors:
                log.warning("engine worker %r refused part of its resync: %s", worker.worker_id, errors)
            head.future.set_result(ack)
        if desync:
            self.resyncs += 1
            self._enqueue(
                worker, PendingBatch([], True, self._future(), time.perf_counter(), internal=True, build=Table.dump)
            )
        elif worker.pending and worker.pending[0].build is not None and not worker.pending[0].sent:
            asyncio.get_running_loop().create_task(self._flush_locked(worker))

    async def _flush_locked(self, worker: WorkerRecord) -> None:
        async with worker.lock:
            await self._flush(worker)

    def _fail_pending(self, worker: WorkerRecord, error: Exception) -> None:
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
