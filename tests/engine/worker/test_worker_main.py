"""`python -m engine.worker`: prints its address first, forwards, stops cleanly on a signal."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_worker_prints_address_and_stops_on_signal(signum: int) -> None:
    with subprocess.Popen(  # leaving the block closes the pipes
        [sys.executable, "-m", "engine.worker", "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            host, port = proc.stdout.readline().split()
            assert host == "127.0.0.1" and 0 < int(port) < 65536
            proc.send_signal(signum)
            assert proc.wait(timeout=10) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert "Traceback" not in proc.stderr.read()
