"""The engine-latency benchmark runs briefly: each forwarder's capacity case, then the engine (as it
ships, and flushing only after each receive batch) and the C forwarder with UDP GSO under the same paced
load, with one-way latency from the send times the pacer wrote into the payload. Figures are not
asserted; what is: each forwarded everything intact and the sink timed their copies."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(60)
def test_engine_and_c_forwarder_are_timed_under_the_same_paced_load(tmp_path: Path) -> None:
    out = tmp_path / "latency.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.engine_latency",
            "--loads",
            "0.3",
            "--window",
            "0.5",
            "--fanout",
            "2",
            "--json",
            str(out),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=50,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "headline: engine p99 one-way latency" in result.stdout
    report = json.loads(out.read_text())
    assert report["benchmark"] == "engine_latency" and report["fanout"] == 2
    assert report["capacity"]["output_pps"] > 0
    (level,) = report["levels"]
    assert level["load"] == 0.3
    assert report["baseline"] == "c-gso" and set(report["capacities"]) == {"engine", "engine-batch", "c-gso"}
    for name in ("engine", "engine-batch", "c-gso"):
        row = level[name]
        assert "error" not in row, row
        assert row["output_pps"] > 0 and row["bad_packets"] == 0, row
        assert row["latency_samples"] > 0, row
        assert 0 < row["latency_ms_p50"] <= row["latency_ms_p99"], row
    assert set(level["added_ms"]) == {"p50", "p99"}
