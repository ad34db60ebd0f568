"""The forwarding benchmark runs end to end (--quick) and writes sane figures: a smoke test, not a speed test."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(180)
def test_quick_run_writes_figures_for_every_forwarder(tmp_path: Path) -> None:
    out = tmp_path / "forwarding.json"
    result = subprocess.run(
        [sys.executable, "-m", "bench.forwarding", "--quick", "--json", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("headline: engine/C output pps at fan-out 10, 1200 B = ")

    report = json.loads(out.read_text())
    rows = {row["forwarder"]: row for row in report["results"]}
    assert set(rows) == {
        "c",
        "python",
        "engine",
        "simulcast",
        "simulcast-ext",
        "simulcast-twcc",
        "simulcast-twcc-paced",
    }
    for name, row in rows.items():
        assert "error" not in row, f"{name}: {row.get('error')}"
        assert (row["fanout"], row["size"]) == (10, 1200)
        assert row["output_pps"] > 0, name
        assert row["cpu_ns_per_packet"] > 0, name
        # every datagram the sink got was a rewritten RTP packet of the expected size (1200 B, or less the
        # transport-cc element the subscribers of simulcast-ext did not negotiate)
        assert row["bad_packets"] == 0, name
    (ratios,) = report["ratios"]
    assert ratios["engine_over_c_pps"] > 0 and ratios["engine_over_python_pps"] > 0
    assert ratios["simulcast_over_c_pps"] > 0 and ratios["simulcast_over_engine_cpu_per_packet"] > 0
    assert ratios["twcc_over_c_pps"] > 0 and ratios["twcc_over_ext_cpu_per_packet"] > 0
    assert report["headline"]["value"] == ratios["engine_over_c_pps"]
