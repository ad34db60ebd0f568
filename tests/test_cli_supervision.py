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


async def test_the_worker_imports_what_serve_found_not_the_working_directory(
    module: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `pip install . && podium serve` in a checkout: `python -m engine.worker` put the working
    # directory first and imported the checkout's engine/, which has no compiled fast path, and
    # every worker died at once. Here a decoy of the same name waits in the working directory.
    decoy = tmp_path / "checkout"
    decoy.mkdir()
    (decoy / f"{module}.py").write_text("print('decoy 1', flush=True)\nimport time\ntime.sleep(30)\n")
    monkeypatch.chdir(decoy)
    worker = cli.EngineWorker(module=module)
    await worker.start()
    try:
        assert worker.address == "127.0.0.1 4242"
    finally:
        await worker.stop()


async def test_a_worker_that_exits_at_start_is_reported_with_its_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "failing_worker.py").write_text("import sys\nsys.exit(3)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    worker = cli.EngineWorker(module="failing_worker")
    with caplog.at_level("ERROR", logger="podium"):
        await worker.start()
        await worker.stop()
    assert worker.address is None
    assert worker.process is not None
    pid = worker.process.pid
    assert f"engine worker (pid {pid}) exited with status 3 before it printed its address" in caplog.text
    assert "printed no address within" not in caplog.text
