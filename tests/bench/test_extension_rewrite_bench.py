"""The extension rewrite benchmark runs end to end (--quick) and writes sane figures: a smoke test,
not a speed test."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(180)
def test_quick_run_writes_the_rewrite_over_plain_ratio(tmp_path: Path) -> None:
    out = tmp_path / "extension_rewrite.json"
    result = subprocess.run(
        [sys.executable, "-m", "bench.extension_rewrite", "--quick", "--json", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("headline: CPU time per forwarded packet, rewrite / plain engine, at fan-out 10, 1200 B = ")

    report = json.loads(out.read_text())
    rows = {row["forwarder"]: row for row in report["results"]}
    assert set(rows) == {"c", "engine", "engine-rewrite"}
    for name, row in rows.items():
        assert "error" not in row, f"{name}: {row.get('error')}"
        assert row["output_pps"] > 0 and row["cpu_ns_per_packet"] > 0, name
        assert row["bad_packets"] == 0, name  # every copy kept the input's size: 16-byte blocks both ways
    (ratios,) = report["ratios"]
    assert report["headline"]["value"] == ratios["rewrite_over_plain_cpu_per_packet"] > 0
    # the rewrite really ran: the engine row that rewrites counted one rewritten copy per output packet
    assert rows["engine-rewrite"]["forwarder_counters"]["engine"]["ext_rewritten"] > 0
    assert rows["engine"]["forwarder_counters"]["engine"]["ext_rewritten"] == 0
