"""EngineRegistry over in-memory connections: a scripted worker speaking the wire format, backed
by a real engine through the worker's own TableExecutor."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from contract import framing, handshake, ops
from contract.acks import Ack
from contract.ops import parse_batch
from contract.table import Table
from control.engines import (
    AckTimeout,
    EngineRegistry,
    InvalidOps,
    NoWorkerAvailable,
    UnknownWorker,
    WorkerConnected,
    WorkerDisconnected,
    WorkerLost,
    WorkerLostError,
)
from control.engines.stats import EngineCollector, WorkerStats
from control.metrics import Metrics
from engine import Engine
from engine.worker.executor import TableExecutor

pytestmark = pytest.mark.timeout(30)
SECRET = "unit-test-secret"


class Pipe:
    """One side of an in-memory WebSocket: the registry's `Connection`."""

    def __init__(self) -> None:
        self.inbox: asyncio.Queue[str | bytes | None] = asyncio.Queue()
        self.peer: Pipe | None = None
        self.closed: tuple[int, str] | None = None

    async def recv(self) -> str | bytes | None:
        return None if self.closed else await self.inbox.get()

    async def send(self, frame: str) -> None:
        if self.closed:
            raise ConnectionError("closed")
        assert self.peer is not None
        self.peer.inbox.put_nowait(frame)

    async def close(self, code: int, reason: str) -> None:
        if self.closed is None:
            self.closed = (code, reason)
            self.inbox.put_nowait(None)
            assert self.peer is not None
            self.peer.closed = self.peer.closed or (code, reason)
            self.peer.inbox.put_nowait(None)


class FakeWorker:
    """A worker speaking the protocol by hand; `auto_ack` False lets a test hold acks back."""

    def __init__(
        self,
        registry: EngineRegistry,
        engine: Engine,
        worker_id: str = "w1",
        *,
        secret: str = SECRET,
        executor: TableExecutor | None = None,
        fingerprint: str | None = None,
    ) -> None:
        self.registry, self.worker_id, self.secret = registry, worker_id, secret
        self.fingerprint = fingerprint
        """The DTLS certificate's fingerprint it reports (one per worker process)."""
        self.executor = executor or TableExecutor(engine)
        self.address = engine.address
        self.auto_ack = True
        self.held: list[dict] = []
        self.server: Pipe | None = None
        self.client: Pipe | None = None
        self.task: asyncio.Task | None = None
        self.reader: asyncio.Task | None = None

    async def connect(self) -> dict:
        self.server, self.client = Pipe(), Pipe()
        self.server.peer, self.client.peer = self.client, self.server
        self.task = asyncio.create_task(self.registry.handle(self.server))
        frame = await self.client.recv()
        if frame is None:
            return {"closed": self.client.closed}
        challenge = json.loads(frame)
        nonce = "w" * 32
        await self.client.send(
            json.dumps(
                {
                    "type": "hello",
                    "protocol": framing.PROTOCOL,
                    "worker_id": self.worker_id,
                    "nonce": nonce,
                    "proof": handshake.hello_proof(self.secret, challenge["nonce"], nonce, self.worker_id),
                    "address": list(self.address),
                    "capabilities": ["plain"],
                    "dtls_fingerprints": [["sha-256", self.fingerprint]] if self.fingerprint else [],
                    "table": self.executor.report(),
                }
            )
        )
        welcome = await self.client.recv()
        if welcome is None:
            return {"closed": self.client.closed}
        self.reader = asyncio.create_task(self._read())
        return json.loads(welcome)

    async def _read(self) -> None:
        while (frame := await self.client.recv()) is not None:
            message = json.loads(frame)
            if message["type"] == "ops":
                if self.auto_ack:
                    await self.ack(message)
                else:
                    self.held.append(message)

    async def ack(self, message: dict) -> None:
        results = self.executor.apply_batch(parse_batch(message))
        await self.client.send(json.dumps(Ack(message["version"], results).to_wire()))

    async def disconnect(self) -> None:
        await self.client.close(1006, "gone")
        await asyncio.gather(self.task, self.reader, return_exceptions=True)


@pytest.fixture
async def engine() -> AsyncIterator[Engine]:
    async with Engine(host="127.0.0.1", port=0) as eng:
        yield eng


@pytest.fixture
async def registry() -> AsyncIterator[EngineRegistry]:
    reg = EngineRegistry(SECRET, grace=0.2, ack_timeout=2.0)
    yield reg
    await reg.close()


ROUTER: list[ops.Operation] = [ops.CreateRouter("r1")]


def transport(tid: str, router: str = "r1") -> ops.Operation:
    port = 10000 + int(tid.lstrip("t"))  # the engine wants one remote address per transport
    return ops.CreatePlainTransport(tid, router, ("127.0.0.1", port))


def scrape_text(registry: EngineRegistry) -> str:
    """GET /metrics as the application renders the registry's series."""
    metrics = Metrics()
    metrics.add(EngineCollector(registry, WorkerStats()))
    return metrics.render().decode()


async def test_no_secret_means_no_worker(engine: Engine) -> None:
    registry = EngineRegistry(None)
    worker = FakeWorker(registry, engine)
    result = await worker.connect()
    assert result == {"closed": (framing.CLOSE_AUTH_FAILED, "engine channel disabled: no secret configured")}
    assert registry.workers() == []


async def test_apply_to_unknown_worker_and_invalid_ops(registry: EngineRegistry, engine: Engine) -> None:
    with pytest.raises(UnknownWorker):
        await registry.apply("nope", ROUTER)
    with pytest.raises(NoWorkerAvailable):
        registry.pick_worker()
    await FakeWorker(registry, engine).connect()
    with pytest.raises(InvalidOps, match="not a table operation"):
        await registry.apply("w1", [{"op": "create_router", "id": "r"}])  # type: ignore[list-item]
    with pytest.raises(InvalidOps, match="creates and connects only"):
        await registry.replace_table("w1", [ops.CreateRouter("r"), ops.CloseRouter("r")])
    with pytest.raises(InvalidOps, match="no router 'r'"):
        await registry.replace_table("w1", [transport("t1", "r")])


async def test_the_ack_carries_results_and_the_tables_agree(registry: EngineRegistry, engine: Engine) -> None:
    worker = FakeWorker(registry, engine)
    await worker.connect()
    await registry.wait_for_worker("w1", 5)
    ack = await registry.apply(
        "w1",
        ROUTER
        + [
            transport("t1"),
            ops.Produce("p", "t1", "video", 96, ssrc=1, rtx_ssrc=2, rtx_payload_type=97),
            ops.Consume("c", "t1", "p", 4242),
        ],
    )
    assert isinstance(ack, Ack) and ack.latency > 0
    rtx_ssrc = ack.results[-1]["rtx_ssrc"]  # allocated by the worker's engine
    assert ack.results[-1] == {"ok": True, "ssrc": 4242, "rtx_ssrc": rtx_ssrc}
    consumer = registry.table("w1")[-1]
    assert isinstance(consumer, ops.Consume) and (consumer.ssrc, consumer.rtx_ssrc) == (4242, rtx_ssrc)
    assert registry.table("w1") == worker.executor.table.dump()


async def test_a_late_ack_times_out_but_the_batch_stays_in_order(registry: EngineRegistry, engine: Engine) -> None:
    worker = FakeWorker(registry, engine)
    await worker.connect()
    await registry.apply("w1", [])  # an empty batch: a barrier behind the resync
    worker.auto_ack = False
    with pytest.raises(AckTimeout):
        await registry.apply("w1", ROUTER, timeout=0.1)
    second = asyncio.create_task(registry.apply("w1", [transport("t1")]))
    await asyncio.sleep(0.05)
    assert [m["ops"][0]["op"] for m in worker.held] == ["create_router", "create_plain_transport"]
    for message in worker.held:
        await worker.ack(message)
    assert (await second).ok
    assert registry.worker("w1").counts["transports"] == 1


async def test_a_router_resync_never_undoes_a_batch_queued_before_it(registry: EngineRegistry, engine: Engine) -> None:
    worker = FakeWorker(registry, engine)
    await worker.connect()
    await registry.apply("w1", [ops.CreateRouter("r1"), ops.CreateRouter("r2"), transport("t1"), transport("t2", "r2")])
    worker.auto_ack = False
    other = asyncio.create_task(registry.apply("w1", [transport("t3", "r2")]))  # another meeting, in flight
    await asyncio.sleep(0.01)
    resync = registry.resync_router("w1", "r1", [ops.CreateRouter("r1")])  # r1 without t1
    await asyncio.sleep(0.01)
    assert len(worker.held) == 1  # the resync waits for the batch before it to be acked
    await worker.ack(worker.held.pop())
    await other
    while not worker.held:
        await asyncio.sleep(0.01)
    message = worker.held.pop()
    assert message["sync"] is True
    assert [op["id"] for op in message["ops"]] == ["r2", "r1", "t2", "t3"]
    await worker.ack(message)
    assert (await resync).ok
    assert sorted(op.id for op in registry.table("w1")) == ["r1", "r2", "t2", "t3"]
    assert Table.from_ops(registry.table("w1")) == worker.executor.table


async def test_a_router_resync_refuses_what_is_not_a_table(registry: EngineRegistry, engine: Engine) -> None:
    await FakeWorker(registry, engine).connect()
    with pytest.raises(InvalidOps, match="creates and connects only"):
        registry.resync_router("w1", "r1", [ops.CreateRouter("r1"), ops.CloseRouter("r1")])
    with pytest.raises(UnknownWorker):
        registry.resync_router("nope", "r1", [])


async def test_pick_worker_takes_the_least_loaded(registry: EngineRegistry, engine: Engine) -> None:
    async with Engine(host="127.0.0.1", port=0) as other:
        await FakeWorker(registry, engine, "a").connect()
        await FakeWorker(registry, other, "b").connect()
        await registry.wait_for_worker("b", 5)
        await registry.apply("a", ROUTER + [transport("t1")])
        assert registry.pick_worker() == "b"
        await registry.apply("b", ROUTER + [transport("t1"), transport("t2")])
        assert registry.pick_worker() == "a"
        assert registry.pick_worker(exclude=["a"]) == "b"
        with pytest.raises(NoWorkerAvailable, match="with webrtc"):
            registry.pick_worker(require=["webrtc"])


async def test_a_second_connection_replaces_the_first(registry: EngineRegistry, engine: Engine) -> None:
    first = FakeWorker(registry, engine)
    await first.connect()
    executor = first.executor
    await registry.apply("w1", ROUTER)
    events: list = []
    registry.add_listener(events.append)
    second = FakeWorker(registry, engine, executor=executor)
    welcome = await second.connect()
    assert welcome["type"] == "welcome"
    await asyncio.sleep(0.05)
    assert first.server.closed == (framing.CLOSE_REPLACED, "replaced")
    assert events == [WorkerConnected("w1", resynced=False, address_changed=False)]
    assert (await registry.apply("w1", [transport("t1")])).ok


async def test_a_reconnect_in_time_resends_what_was_not_acked(registry: EngineRegistry, engine: Engine) -> None:
    worker = FakeWorker(registry, engine)
    await worker.connect()
    await registry.apply("w1", ROUTER)
    worker.auto_ack = False
    pending = asyncio.create_task(registry.apply("w1", [transport("t1")]))
    await asyncio.sleep(0.05)
    assert len(worker.held) == 1
    await worker.disconnect()
    again = FakeWorker(registry, engine, executor=worker.executor)
    await again.connect()
    assert (await pending).ok
    assert worker.executor.table.counts()["transports"] == 1
    assert registry.table("w1") == worker.executor.table.dump()


async def test_a_lost_worker_coming_back_is_emptied(registry: EngineRegistry, engine: Engine) -> None:
    worker = FakeWorker(registry, engine)
    await worker.connect()
    await registry.apply("w1", ROUTER + [transport("t1")])
    lost: list = []
    registry.add_listener(lambda e: isinstance(e, WorkerLost) and lost.append(e))
    await worker.disconnect()
    await asyncio.sleep(0.4)
    assert lost == [WorkerLost("w1", ["r1"], ["t1"])]
    assert registry.lifecycle() == {"w1": "lost"}
    assert 'podium_engine_workers{state="lost"} 1' in scrape_text(registry)
    # its participants moved on: the table it still has is closed when it returns
    again = FakeWorker(registry, engine, executor=worker.executor)
    await again.connect()
    await asyncio.sleep(0.05)
    assert len(worker.executor.table) == 0 and registry.table("w1") == []


async def test_a_worker_that_exited_is_lost_at_once(engine: Engine) -> None:
    registry = EngineRegistry(SECRET, grace=3600)  # the supervisor knows: no grace period
    try:
        worker = FakeWorker(registry, engine)
        await worker.connect()
        await registry.apply("w1", ROUTER + [transport("t1")])
        events: list = []
        registry.add_listener(events.append)
        worker.auto_ack = False
        pending = asyncio.create_task(registry.apply("w1", [transport("t2")]))
        await asyncio.sleep(0.05)
        registry.worker_exited("w1", restarting=True)
        assert events == [WorkerLost("w1", ["r1"], ["t1"])]
        with pytest.raises(WorkerLostError):
            await pending
        assert registry.workers() == [] and registry.lifecycle() == {"w1": "restarting"}
        assert registry.restarting()
        text = scrape_text(registry)
        assert 'podium_engine_workers{state="restarting"} 1' in text
        assert 'podium_engine_worker_state{state="restarting",worker="w1"} 1' in text
        # the restarted process (an empty table) is a new worker of the same id
        await FakeWorker(registry, engine).connect()
        await registry.wait_for_worker("w1", 5)
        assert registry.lifecycle() == {"w1": "connected"} and not registry.restarting()
        assert registry.table("w1") == []
    finally:
        await registry.close()


async def test_a_worker_back_with_a_new_certificate_is_a_new_worker(engine: Engine) -> None:
    registry = EngineRegistry(SECRET, grace=3600)
    try:
        worker = FakeWorker(registry, engine, fingerprint="AA:01")
        await worker.connect()
        await registry.apply("w1", ROUTER + [transport("t1")])
        events: list = []
        registry.add_listener(events.append)
        # the same process reconnecting (same certificate) keeps its table: nothing is lost
        await worker.disconnect()
        again = FakeWorker(registry, engine, executor=worker.executor, fingerprint="AA:01")
        await again.connect()
        await registry.wait_for_worker("w1", 5)
        assert [type(e) for e in events] == [WorkerDisconnected, WorkerConnected]
        assert len(registry.table("w1")) == 2
        # restarted within the grace period: a new DTLS certificate, and no DTLS state with it
        events.clear()
        await again.disconnect()
        assert registry.lifecycle() == {"w1": "disconnected"}
        async with Engine(host="127.0.0.1", port=0) as fresh:
            restarted = FakeWorker(registry, fresh, fingerprint="BB:02")
            await restarted.connect()
            await registry.wait_for_worker("w1", 5)
            assert [type(e) for e in events] == [WorkerDisconnected, WorkerLost, WorkerConnected]
            assert events[1] == WorkerLost("w1", ["r1"], ["t1"])
            assert registry.table("w1") == []
            assert registry.worker("w1").dtls_fingerprints == [("sha-256", "BB:02")]
            assert (await registry.apply("w1", ROUTER)).ok
    finally:
        await registry.close()


async def test_a_new_registry_adopts_the_table_of_a_worker(engine: Engine) -> None:
    old = EngineRegistry(SECRET)
    worker = FakeWorker(old, engine)
    await worker.connect()
    await old.apply("w1", ROUTER + [transport("t1")])
    await old.close()
    new = EngineRegistry(SECRET)
    again = FakeWorker(new, engine, executor=worker.executor)
    await again.connect()
    await new.wait_for_worker("w1", 5)
    assert new.table("w1") == worker.executor.table.dump() and len(new.table("w1")) == 2
    await asyncio.sleep(0.05)
    assert worker.executor.epoch == new.epoch
    await new.close()


async def test_metrics_text(registry: EngineRegistry, engine: Engine) -> None:
    await FakeWorker(registry, engine, 'we"ird').connect()
    await registry.apply('we"ird', ROUTER)
    metrics = Metrics()
    metrics.add(EngineCollector(registry, WorkerStats()))
    text = metrics.render().decode()
    assert "# TYPE podium_engine_apply_seconds histogram" in text
    assert 'podium_engine_apply_seconds_bucket{le="+Inf"} 1.0' in text
    assert "podium_engine_apply_seconds_count 1.0" in text
    assert 'podium_engine_table_version{worker="we\\"ird"} 2.0' in text


async def test_pick_worker_weighs_the_packet_rate_the_workers_report(registry: EngineRegistry, engine: Engine) -> None:
    async with Engine(host="127.0.0.1", port=0) as other:
        a, b = FakeWorker(registry, engine, "a"), FakeWorker(registry, other, "b")
        await a.connect()
        await b.connect()
        await registry.wait_for_worker("b", 5)
        await registry.apply("a", ROUTER + [transport("t1"), transport("t2")])
        await registry.apply("b", ROUTER + [transport("t1")])

        async def report(worker: FakeWorker, packets: int) -> None:
            frame = {"type": "stats", "table": {}, "traffic": {"datagrams_in": packets, "packets_out": packets}}
            await worker.client.send(json.dumps(frame))

        for worker in (a, b):
            await report(worker, 0)
        await asyncio.sleep(0.05)
        await report(a, 10)  # two quiet transports
        await report(b, 100_000)  # one busy one
        await asyncio.sleep(0.05)
        assert registry.pick_worker() == "a"  # by transports alone it would be "b"
