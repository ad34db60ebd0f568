"""The speaker-tick benchmark builds its meetings, feeds their microphones levels and times the tick
at each level, silent and with someone talking. Figures are not asserted."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(60)
def test_each_level_reports_the_ticks_time() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.speaker_tick", "--meetings", "1,20", "--ticks", "3"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=50,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["1", "20", "1", "20"]
    assert ["silent" in line for line in lines] == [True, True, False, False]
    assert all("us per microphone" in line and line.endswith("ms of CPU a second") for line in lines)
