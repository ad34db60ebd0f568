"""The worker restart benchmark runs end to end (two kills) and writes sane figures: a smoke test,
not a speed test. What it checks is the recovery it observes: after every `kill -9` of the worker,
every participant was told to reconnect and received media again."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.live_meeting import percentile

REPO = Path(__file__).resolve().parents[2]


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile([1.0, 2.0], 0.99) == pytest.approx(1.99)
    assert percentile([5.0], 0.99) == 5.0


@pytest.mark.timeout(180)
def test_two_kills_are_recovered_from(tmp_path: Path) -> None:
    out = tmp_path / "restart.json"
    result = subprocess.run(
        [sys.executable, "-m", "bench.worker_restart", "--kills", "2", "--quick", "--json", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=170,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "worker kill -9 -> media flowing again for every participant: p50" in result.stdout
    report = json.loads(out.read_text())
    assert len(report["rounds"]) == 2
    for r in report["rounds"]:
        assert 0 < r["reconnect"] <= r["recovery"] and r["fresh_join"] > 0
        assert r["restarts"] == 2
