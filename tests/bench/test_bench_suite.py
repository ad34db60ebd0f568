"""`python -m bench` runs a named part briefly, writes the one JSON (each part's figures, command and
the machine), the PNG plots and the summary table; `python -m bench.report` rewrites only the README's
generated section from that JSON. Figures are not asserted: this is the structure CI relies on."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from bench.report import BEGIN, END  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.timeout(90)
def test_the_suite_runs_a_named_part_and_the_report_rewrites_only_its_section(tmp_path: Path) -> None:
    out, plots = tmp_path / "results.json", tmp_path / "plots"
    result = subprocess.run(
        [sys.executable, "-m", "bench", "forwarding", "--quick", "--json", str(out), "--plots", str(plots)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=80,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "[1/1] forwarding: python -m bench.forwarding --quick" in result.stdout  # progress
    assert "engine/C output pps at fan-out 10, 1200 B" in result.stdout  # the summary table
    assert "machine: " in result.stdout

    report = json.loads(out.read_text())
    assert report["benchmark"] == "suite" and report["quick"] is True
    assert {"cpus", "cpu_model", "platform", "load_average", "load_average_after"} <= set(report["machine"])
    assert list(report["parts"]) == ["forwarding"]
    part = report["parts"]["forwarding"]
    assert part["command"] == "python -m bench.forwarding --quick" and part["returncode"] == 0
    figures = part["result"]
    assert figures["benchmark"] == "forwarding"
    assert {r["forwarder"] for r in figures["results"]} == {
        "c",
        "python",
        "engine",
        "simulcast",
        "simulcast-ext",
        "simulcast-twcc",
        "simulcast-twcc-paced",
    }
    assert "value" in figures["headline"]
    for name in ("throughput.png", "latency.png", "memory.png"):
        assert (plots / name).read_bytes()[:8] == PNG, name

    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\nbefore, hand-written\n\n{BEGIN}\nold figures\n{END}\n\nafter, hand-written\n")
    rewritten = subprocess.run(
        [sys.executable, "-m", "bench.report", str(out), "--readme", str(readme)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert rewritten.returncode == 0, rewritten.stderr
    text = readme.read_text()
    assert "old figures" not in text
    assert text.startswith("# Title\n\nbefore, hand-written\n\n" + BEGIN)
    assert text.endswith(END + "\n\nafter, hand-written\n")
    assert "`python -m bench.forwarding --quick`" in text  # each figure with its command
    assert "2 CPUs" in text or f"{report['machine']['cpus']} CPUs" in text  # and the machine
    assert "docs/bench/throughput.png" in text


def test_an_unknown_part_is_refused() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench", "no_such_part"], cwd=REPO, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert "unknown part(s) no_such_part" in result.stderr
