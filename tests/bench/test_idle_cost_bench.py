"""The idle-cost benchmark builds its meetings in one engine and reports CPU time per second for each
level. Figures are not asserted."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(60)
def test_each_level_reports_idle_cpu() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.idle_cost", "--meetings", "1,50", "--seconds", "0.5"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=50,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["1", "50"]
    assert all(line.endswith("ms of CPU a second") for line in lines)
