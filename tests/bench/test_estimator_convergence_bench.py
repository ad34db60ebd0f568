"""The estimator convergence benchmark runs end to end (--quick) and writes its figures; it runs in
simulated time, so every step converges whatever the machine's load."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(120)
def test_quick_run_writes_convergence_percentiles(tmp_path: Path) -> None:
    out = tmp_path / "estimator.json"
    result = subprocess.run(
        [sys.executable, "-m", "bench.estimator_convergence", "--quick", "--steps", "2", "--json", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=100,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("headline: estimator convergence after a step")
    report = json.loads(out.read_text())
    assert report["benchmark"] == "estimator_convergence" and report["steps"] == 2
    for direction in ("down", "up"):
        row = report[direction]
        assert row["converged"] == row["steps"] == 2
        assert 0 < row["p50_s"] <= row["p99_s"] <= row["max_s"]
    assert 0.5 < report["settled_share_low"] < 1.5 and 0.5 < report["settled_share_high"] < 1.5
    # a subscriber sending at its starting estimate: its start-up probes find the link sooner than
    # the rate controller alone (simulated time: the same figures on any machine)
    start, started = report["start"], report["start_probing"]
    assert started["converged"] == start["converged"] == 2 and started["probes_raised"] >= 2
    assert started["max_s"] < start["max_s"] and start["probes_started"] == 0
