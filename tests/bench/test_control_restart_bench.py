"""The control-plane restart benchmark runs end to end (one restart, in each mode) and writes sane
figures: a smoke test, not a speed test. What it checks is what it observed: after the restart
every participant resumed and received media again (kept with a separate worker, renewed with
`podium serve`'s own)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(200)
@pytest.mark.parametrize(("options", "media"), [((), "renew"), (("--separate-worker",), "kept")])
def test_a_restart_is_resumed_from(tmp_path: Path, options: tuple[str, ...], media: str) -> None:
    out = tmp_path / "control-restart.json"
    result = subprocess.run(
        [sys.executable, "-m", "bench.control_restart", "--restarts", "1", *options, "--json", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=190,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "control-plane restart (" in result.stdout
    [r] = json.loads(out.read_text())["rounds"]
    assert r["media"] == media and r["stop"] > 0 and r["back"] > 0 and r["fresh_join"] > 0
