"""The engine channel alone: one gate operation from EngineRegistry.apply to the worker's ack, with no
HTTP, authentication, database or meeting policy in the way: the floor under a revocation's latency.

An in-process EngineRegistry on uvicorn and a real `python -m engine.worker` process dialling it
(tests/control/engines/engine_channel_support.py), one plain-RTP producer and consumer; `gate_op()`
alternately pauses and resumes the producer and returns the seconds the ack took.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO / "tests" / "control" / "engines") not in sys.path:
    sys.path.insert(0, str(REPO / "tests" / "control" / "engines"))

from engine_channel_support import ControlServer, Peer, WorkerProcess, free_port, pub_sub_ops  # noqa: E402

from contract import ops  # noqa: E402

WORKER_ID = "w1"


class ChannelFloor:
    def __init__(self) -> None:
        self.control = ControlServer(free_port())
        self.worker: WorkerProcess | None = None
        self.peers: list[Peer] = []
        self._paused = False

    async def start(self) -> None:
        await self.control.start()
        self.worker = WorkerProcess(self.control.url, worker_id=WORKER_ID)
        await asyncio.to_thread(self.worker.start)
        assert self.control.registry is not None
        await self.control.registry.wait_for_worker(WORKER_ID, timeout=10)
        self.peers = [Peer(), Peer()]
        for op in pub_sub_ops(*self.peers):
            await self.control.registry.apply(WORKER_ID, [op])

    async def gate_op(self) -> float:
        """Seconds from apply() to the ack of one pause_producer or resume_producer."""
        assert self.control.registry is not None
        op = ops.ResumeProducer("r1/mic") if self._paused else ops.PauseProducer("r1/mic")
        started = time.perf_counter()
        await self.control.registry.apply(WORKER_ID, [op])
        elapsed = time.perf_counter() - started
        self._paused = not self._paused
        return elapsed

    async def stop(self) -> None:
        # its worker going away at the end is expected: no "disconnected; lost unless back" warning
        logging.getLogger("podium.engines").setLevel(logging.ERROR)
        await self.control.stop()
        if self.worker is not None:
            await asyncio.to_thread(self.worker.stop)
        for peer in self.peers:
            peer.close()
