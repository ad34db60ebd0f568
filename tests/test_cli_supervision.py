"""`podium serve`'s supervision of its local engine worker (podium.cli.EngineWorker), over a stand-in
worker module: a process that prints an address and waits, as `python -m engine.worker` does."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from podium import cli

pytestmark = pytest.mark.timeout(60)

STAND_IN = """
import signal, sys, time
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
print("127.0.0.1 4242", flush=True)
while True:
    time.sleep(1)
"""


@pytest.fixture
def module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "standin_worker.py").write_text(STAND_IN)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path), *sys.path]))
    return "standin_worker"


def test_restart_delays_grow_to_a_cap() -> None:
    delays = [cli.restart_delay(n) for n in range(10)]
    assert delays[:5] == [0.0, 0.5, 1.0, 2.0, 4.0]
    assert delays == sorted(delays) and delays[-1] == cli.RESTART_MAX_DELAY


async def _until(condition, timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


async def test_a_worker_that_dies_is_reported_and_started_again(module: str) -> None:
    exits: list[bool] = []
    worker = cli.EngineWorker(on_exit=exits.append, module=module)
    await worker.start()
    try:
        first = worker.process
        assert first is not None and worker.address == "127.0.0.1 4242"
        os.kill(first.pid, signal.SIGKILL)
        await _until(lambda: worker.restarts == 1)
        assert exits == [True]
        assert worker.process is not first and worker.process.returncode is None
        # a second quick death waits for the backoff's first step before the next start
        os.kill(worker.process.pid, signal.SIGKILL)
        await _until(lambda: len(exits) == 2)
        assert worker.restarts == 1
        await _until(lambda: worker.restarts == 2)
    finally:
        await worker.stop()
    # stopping it is no crash: not reported, not restarted
    assert worker.process.returncode == 0 and len(exits) == 2 and worker.restarts == 2
