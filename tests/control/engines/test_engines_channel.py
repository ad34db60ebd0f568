"""The engine channel end to end: a real uvicorn control plane, real `python -m engine.worker`
processes dialling it, real RTP over loopback UDP."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from engine_channel_support import (
    METRICS_TOKEN,
    SECRET,
    ControlServer,
    Peer,
    WorkerProcess,
    free_port,
    media_flows,
    pub_sub_ops,
    rtp,
)
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from contract import acks, framing, handshake, ops
from control.engines import EngineEvent, OpsRefused, WorkerLost, WorkerLostError

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def control() -> AsyncIterator[ControlServer]:
    server = ControlServer(free_port(), grace=5.0)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def worker_factory(control: ControlServer) -> AsyncIterator:
    made: list[WorkerProcess] = []

    def make(**kwargs) -> WorkerProcess:
        worker = WorkerProcess(control.url, **kwargs)
        worker.start()
        made.append(worker)
        return worker

    yield make
    for worker in made:
        assert await asyncio.to_thread(worker.stop) in (0, -9), worker.stderr  # -9: killed by the test
        assert "Traceback" not in worker.stderr, worker.stderr


@pytest.fixture
def peers() -> Iterator:
    made: list[Peer] = []

    def make() -> Peer:
        made.append(Peer())
        return made[-1]

    yield make
    for peer in made:
        peer.close()


async def test_ops_are_acked_in_order_and_media_flows(control: ControlServer, worker_factory, peers) -> None:
    worker = worker_factory()
    registry = control.registry
    info = await registry.wait_for_worker("w1", timeout=10)
    assert info.address == worker.address and "plain" in info.capabilities
    assert registry.pick_worker() == "w1"
    pub, sub = peers(), peers()
    path = pub_sub_ops(pub, sub)
    applied = [await registry.apply("w1", [op]) for op in path]
    assert [a.version for a in applied] == sorted(a.version for a in applied)
    assert len({a.version for a in applied}) == len(path)
    consumer_ssrc = applied[-1].results[0]["ssrc"]
    assert registry.table("w1")[-1].ssrc == consumer_ssrc
    assert await media_flows(pub, sub, worker.address, consumer_ssrc)

    # a batch is atomic and in order: pause then resume in one batch leaves it running
    await registry.apply("w1", [ops.PauseProducer("r1/mic"), ops.ResumeProducer("r1/mic")])
    assert await media_flows(pub, sub, worker.address, consumer_ssrc)
    await registry.apply("w1", [ops.PauseConsumer("r1/mic@sub")])
    assert not await media_flows(pub, sub, worker.address, consumer_ssrc, timeout=0.3)

    # concurrent callers: versions are assigned in call order and every batch is acked
    results = await asyncio.gather(*[registry.apply("w1", [ops.ResumeConsumer("r1/mic@sub")]) for _ in range(20)])
    assert [a.version for a in results] == list(range(results[0].version, results[0].version + 20))
    assert await media_flows(pub, sub, worker.address, consumer_ssrc)

    # a refused operation: the others of its batch are in force, the worker and versions go on
    with pytest.raises(OpsRefused) as info_:
        await registry.apply("w1", [ops.PauseProducer("r1/mic"), ops.Consume("x", "nope", "r1/mic", 9)])
    assert info_.value.ack.results[1]["error"] == acks.E_UNKNOWN_ID
    assert registry.table("w1")[3].paused is True  # type: ignore[attr-defined]
    assert (await registry.apply("w1", [ops.ResumeProducer("r1/mic")])).version == info_.value.ack.version + 1

    # the ack latency is exported
    [histogram] = registry.apply_latency.collect()
    assert [s.value for s in histogram.samples if s.name.endswith("_count")] == [len(path) + 24]
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{control.port}") as client:
        response = await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    assert f"podium_engine_apply_seconds_count {len(path) + 24}" in response.text
    assert 'podium_engine_workers{state="connected"} 1' in response.text

    # stats arrive periodically
    for _ in range(50):
        if registry.worker("w1").stats is not None:
            break
        await asyncio.sleep(0.05)
    assert registry.worker("w1").stats["version"] > 0


async def test_a_restarted_worker_is_a_new_worker(control: ControlServer, worker_factory, peers) -> None:
    """A worker restarted under the same id within the grace period has a new DTLS certificate and
    none of its predecessor's DTLS state: the old one is lost (its meetings reconnect), the new one
    starts empty, and a table sent to it forwards."""
    worker = worker_factory()
    registry = control.registry
    await registry.wait_for_worker("w1", timeout=10)
    before = registry.worker("w1").dtls_fingerprints
    pub, sub = peers(), peers()
    applied = await registry.apply("w1", pub_sub_ops(pub, sub))
    ssrc = applied.results[-1]["ssrc"]
    assert await media_flows(pub, sub, worker.address, ssrc)
    events: list = []
    registry.add_listener(events.append)

    worker.kill()
    assert not await media_flows(pub, sub, worker.address, ssrc, timeout=0.3)
    # a change made while the worker is away waits for it, and fails when it turns out lost
    pending = asyncio.create_task(
        registry.apply("w1", [ops.PauseConsumer("r1/mic@sub"), ops.ResumeConsumer("r1/mic@sub")], timeout=15)
    )
    await asyncio.sleep(0.2)
    assert not pending.done()
    restarted = worker_factory(udp_port=worker.udp_port)
    with pytest.raises(WorkerLostError):
        await pending
    await registry.wait_for_worker("w1", timeout=10)
    lost = [e for e in events if isinstance(e, WorkerLost)]
    assert len(lost) == 1 and lost[0].routers == ["r1"] and sorted(lost[0].transports) == ["r1/pub", "r1/sub"]
    assert registry.worker("w1").dtls_fingerprints != before
    assert registry.worker("w1").counts == {"routers": 0, "transports": 0, "producers": 0, "consumers": 0}
    applied = await registry.apply("w1", pub_sub_ops(pub, sub))
    assert await media_flows(pub, sub, restarted.address, applied.results[-1]["ssrc"])


async def test_control_restart_keeps_media_and_the_table(control: ControlServer, worker_factory, peers) -> None:
    worker = worker_factory()
    await control.registry.wait_for_worker("w1", timeout=10)
    pub, sub = peers(), peers()
    applied = await control.registry.apply("w1", pub_sub_ops(pub, sub))
    ssrc = applied.results[-1]["ssrc"]
    table = control.registry.table("w1")

    await control.stop()
    assert await media_flows(pub, sub, worker.address, ssrc)  # the worker forwards on its own
    await control.start()
    registry = control.registry
    await registry.wait_for_worker("w1", timeout=10)
    assert registry.table("w1") == table  # adopted from the worker
    await registry.apply("w1", [ops.PauseProducer("r1/mic")])
    assert not await media_flows(pub, sub, worker.address, ssrc, timeout=0.3)
    await registry.apply("w1", [ops.ResumeProducer("r1/mic")])
    assert await media_flows(pub, sub, worker.address, ssrc)
    # the meetings layer rebuilt its state without this meeting: replace_table closes it
    await registry.replace_table("w1", [ops.CreateRouter("r2")])
    assert registry.worker("w1").counts == {"routers": 1, "transports": 0, "producers": 0, "consumers": 0}
    assert not await media_flows(pub, sub, worker.address, ssrc, timeout=0.3)


async def test_a_control_plane_that_connects_is_told_every_steady_bitrate(
    control: ControlServer, worker_factory, peers
) -> None:
    """A bitrate is told only when it moves, and events are not kept while the channel is down: a
    restarted control plane would never hear of a camera that sends steadily. Each connection is
    told every video bitrate once (engine/bitrates.pxi bw_retell)."""
    worker = worker_factory()
    await control.registry.wait_for_worker("w1", timeout=10)
    pub = peers()
    camera = [
        ops.CreateRouter("r1"),
        ops.CreatePlainTransport("r1/pub", "r1", pub.address),
        ops.Produce("r1/cam", "r1/pub", "video", 96, ssrc=2222),
    ]
    await control.registry.apply("w1", camera)
    told: list[tuple[float, int]] = []

    def listen(event: object) -> None:
        if isinstance(event, EngineEvent) and event.event == "producer_bitrate_changed":
            if event.data.get("producer_id") == "r1/cam":
                told.append((time.monotonic(), event.data["bitrate_bps"]))

    async def steady() -> None:  # 100 packets of 1,000 bytes a second, caught up to the clock
        sent, began = 0, time.monotonic()
        while True:
            while sent < (time.monotonic() - began) * 100:
                pub.send(rtp(sent, 2222, pt=96, payload=bytes(988)), worker.address)
                sent += 1
            await asyncio.sleep(0.005)

    control.registry.add_listener(listen)
    sender = asyncio.create_task(steady())
    try:
        await wait_for(lambda: told, 6)
        await asyncio.sleep(3)
        quiet_since = time.monotonic() - 2
        assert not [at for at, _ in told if at > quiet_since], told  # steady: nothing more told
        await control.stop()
        await control.start()
        told.clear()
        control.registry.add_listener(listen)
        await control.registry.wait_for_worker("w1", timeout=10)
        await wait_for(lambda: told, 4)
        assert 700_000 < told[0][1] < 900_000, told
    finally:
        sender.cancel()


async def wait_for(check, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_a_lost_worker_is_reported_with_its_transports(control: ControlServer, worker_factory, peers) -> None:
    control.registry.grace = 0.3
    worker = worker_factory()
    registry = control.registry
    await registry.wait_for_worker("w1", timeout=10)
    pub, sub = peers(), peers()
    await registry.apply("w1", pub_sub_ops(pub, sub))
    lost = asyncio.get_running_loop().create_future()
    registry.add_listener(lambda e: isinstance(e, WorkerLost) and not lost.done() and lost.set_result(e))
    worker.kill()
    waiting = asyncio.create_task(registry.apply("w1", [ops.CloseRouter("r1")], timeout=10))
    event = await asyncio.wait_for(lost, 10)
    assert event.worker_id == "w1" and event.routers == ["r1"] and sorted(event.transports) == ["r1/pub", "r1/sub"]
    with pytest.raises(WorkerLostError):
        await waiting
    assert registry.workers() == []


async def _authenticated(url: str, worker_id: str = "raw", secret: str = SECRET):
    ws = await connect(url)
    challenge = json.loads(await ws.recv())
    nonce = "n" * 32
    await ws.send(
        json.dumps(
            {
                "type": "hello",
                "protocol": framing.PROTOCOL,
                "worker_id": worker_id,
                "nonce": nonce,
                "proof": handshake.hello_proof(secret, challenge["nonce"], nonce, worker_id),
                "address": ["127.0.0.1", 9],
                "table": {"epoch": None, "version": 0, "ops": []},
            }
        )
    )
    return ws, challenge, nonce


async def test_a_bad_secret_is_refused(control: ControlServer, worker_factory) -> None:
    ws, _, _ = await _authenticated(control.url, secret="wrong")
    with pytest.raises(ConnectionClosed) as info:
        await asyncio.wait_for(ws.recv(), 5)
    assert info.value.rcvd.code == framing.CLOSE_AUTH_FAILED and info.value.rcvd.reason == "authentication failed"
    worker = worker_factory(secret="also-wrong")
    for _ in range(100):
        if control.registry.auth_failures >= 2:
            break
        await asyncio.sleep(0.05)
    assert control.registry.auth_failures >= 2 and control.registry.workers() == []
    assert worker.process.poll() is None  # it keeps forwarding and retrying


async def test_the_control_plane_proves_the_secret_too(control: ControlServer) -> None:
    ws, challenge, nonce = await _authenticated(control.url)
    welcome = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert welcome["type"] == "welcome"
    assert handshake.proofs_match(handshake.welcome_proof(SECRET, challenge["nonce"], nonce, "raw"), welcome["proof"])
    await ws.close()


async def test_malformed_frames_get_error_frames_then_a_close(control: ControlServer) -> None:
    ws, _, _ = await _authenticated(control.url)
    assert json.loads(await ws.recv())["type"] == "welcome"
    sync = json.loads(await ws.recv())
    assert sync["type"] == "ops" and sync["sync"] is True and sync["ops"] == []
    for frame in ("not json", b"\x00\x01", '{"type": "ack", "version": 999, "results": []}', '{"type": "dance"}'):
        await ws.send(frame)
        error = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert error["type"] == "error" and error["code"] == "malformed"
    # still connected and useful: ack the sync
    await ws.send(json.dumps({"type": "ack", "version": sync["version"], "results": []}))
    registry = control.registry
    for _ in range(50):
        if registry.worker("raw").version == sync["version"]:
            break
        await asyncio.sleep(0.02)
    assert registry.worker("raw").version == sync["version"]
    with pytest.raises(ConnectionClosed) as info:
        for _ in range(100):
            await ws.send("garbage")
            await asyncio.wait_for(ws.recv(), 5)
    assert info.value.rcvd.code == framing.CLOSE_TOO_MANY_ERRORS


async def test_a_handshake_that_is_not_a_hello_is_refused(control: ControlServer) -> None:
    async with connect(control.url) as ws:
        await ws.recv()
        await ws.send('{"type": "hello", "protocol": 99}')
        with pytest.raises(ConnectionClosed) as info:
            await asyncio.wait_for(ws.recv(), 5)
    assert info.value.rcvd.code == framing.CLOSE_PROTOCOL_ERROR and "unsupported protocol 99" in info.value.rcvd.reason


async def test_podium_engine_dials_the_control_plane(control: ControlServer) -> None:
    import os
    import subprocess
    import sys

    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "podium.cli",
            "engine",
            "--control",
            control.url,
            "--host",
            "127.0.0.1",
            "--worker-id",
            "remote-1",
            "--log-level",
            "WARNING",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PODIUM_ENGINE_SECRET": SECRET},
    )
    try:
        host, port = (await asyncio.to_thread(process.stdout.readline)).split()
        info = await control.registry.wait_for_worker("remote-1", timeout=10)
        assert info.address == (host, int(port))
        process.terminate()
        assert await asyncio.to_thread(process.wait, 10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
