"""The join benchmark runs one join in Debian's headless Chromium: the joining page clicks "Join the
meeting" and decodes a frame of the host's fake camera through Podium. The time is not asserted."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.browser, pytest.mark.chromium_media]


@pytest.mark.timeout(90)
def test_a_joining_browser_decodes_the_hosts_camera(tmp_path: Path) -> None:
    out = tmp_path / "join.json"
    result = subprocess.run(
        [sys.executable, "-m", "bench.browser_join", "--joins", "1", "--json", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=80,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["benchmark"] == "browser_join" and report["joins"] == 1 and report["failures"] == 0
    (frame,) = report["join_to_first_frame_ms"]["values"]
    (joined,) = report["join_to_joined_ms"]["values"]
    assert 0 < joined <= frame
