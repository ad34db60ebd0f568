"""The hostile-input benchmark runs end to end and writes sane figures: a smoke test, not a speed test.
What it does check: every hostile request got its refusal, and every revoke completed."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(180)
def test_a_short_run_measures_revocations_quiet_and_under_hostile_load(tmp_path: Path) -> None:
    out = tmp_path / "hostile.json"
    result = subprocess.run(
        [sys.executable, "-m", "bench.hostile_input", "--revocations", "3", "--copies", "1", "--json", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=160,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("headline: revoke under paced hostile load p50 ")

    report = json.loads(out.read_text())
    for name in ("quiet", "paced", "flood"):
        figures = report[name]
        assert figures["n"] == 3 and figures["failed"] == [], name
        assert 0 < figures["p50"] <= figures["p99"] <= figures["max"], (name, figures)
    assert report["ratios"]["paced_p50_over_quiet"] > 0 and report["ratios"]["flood_p99_over_quiet"] > 0
    for name in ("paced", "flood"):
        answers = report[name]["answers"]
        assert set(answers["declared_200mb"]) == {"413"}
        assert set(answers["many_keys_5mb"]) <= {"413", "cut"}
        assert set(answers["many_keys_200kb_authenticated"]) == {"422"}
        assert set(answers["deep_5000"]) == {"422"}
