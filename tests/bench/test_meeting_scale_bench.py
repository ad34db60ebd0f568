"""The meeting-scale benchmark runs briefly at two levels, with UDP GSO and without, and the C baseline:
every meeting is a router of its own in one engine (a source of its own in the C forwarder), the paced
generator sends from one publisher per meeting, and every meeting's two subscribers receive rewritten
copies. Figures are not asserted."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(60)
def test_one_engine_forwards_for_every_meeting_at_each_level(tmp_path: Path) -> None:
    out = tmp_path / "scale.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.meeting_scale",
            "--meetings",
            "1,50",
            "--rate",
            "2000",
            "--window",
            "0.5",
            "--json",
            str(out),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=50,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "headline: CPU per forwarded packet" in result.stdout
    report = json.loads(out.read_text())
    assert report["benchmark"] == "meeting_scale" and report["subscribers_per_meeting"] == 2
    # each level with UDP GSO and without, and the C baseline
    assert [(r["meetings"], r["variant"]) for r in report["levels"]] == [
        (1, "gso"),
        (1, "no-gso"),
        (1, "c-gso"),
        (50, "gso"),
        (50, "no-gso"),
        (50, "c-gso"),
    ]
    for row in report["levels"]:
        assert "error" not in row, row
        assert row["subscribers"] == 2 * row["meetings"]
        # copies arrived rewritten (the sink counts a copy still carrying a publisher's SSRC as bad)
        assert row["output_pps"] > 0 and row["bad_packets"] == 0, row
        assert row["cpu_ns_per_packet_exact"] > 0, row
    assert report["spread"] is not None and "value" in report["headline"]
    assert report["spreads"]["gso"] == report["spread"] and report["spreads"]["no-gso"] is not None
    assert set(report["spreads_over_baseline"]) == {"gso", "no-gso"}
    assert all(s is not None for s in report["spreads_over_baseline"].values())
