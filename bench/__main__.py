"""The whole benchmark suite, or named parts of it, in one command.

    python -m bench [PART ...] [--quick] [--json PATH] [--plots DIR] [--list]

Runs each part (bench/suite.py: forwarding, srtp_forwarding, peer_sfu, peer_sfu_sha1, engine_latency,
estimator_convergence, meeting_scale, browser_join)
as its own process, its progress shown as it goes; writes one JSON (--json, default
bench-results.json) holding every part's figures, the command of each and the machine; draws PNG plots
into --plots (default bench-plots/: throughput.png, latency.png, memory.png) and prints a summary table
of the headline figures. --quick runs every part briefly (a CI smoke run: under 5 minutes). The
README's performance section is regenerated from the JSON: `python -m bench.report bench-results.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from bench.plots import plot_all
from bench.suite import PARTS, describe_machine, machine, run_part
from bench.summary import format_table, headlines

PART_TIMEOUT = 1800.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("parts", nargs="*", metavar="PART", help=f"which parts (default all): {', '.join(PARTS)}")
    parser.add_argument("--quick", action="store_true", help="every part briefly (CI smoke run, under 5 minutes)")
    parser.add_argument("--json", type=Path, default=Path("bench-results.json"), help="the report to write")
    parser.add_argument("--plots", type=Path, default=Path("bench-plots"), help="folder for the PNG plots")
    parser.add_argument("--timeout", type=float, default=PART_TIMEOUT, help="seconds one part may take")
    parser.add_argument(
        "--update",
        action="store_true",
        help="keep the other parts of an existing --json report and replace only the parts run now",
    )
    parser.add_argument("--list", action="store_true", help="list the parts and exit")
    args = parser.parse_args(argv)
    if args.list:
        for part in PARTS.values():
            print(f"{part.name:<16} {part.description}")
        return 0
    unknown = [name for name in args.parts if name not in PARTS]
    if unknown:
        parser.error(f"unknown part(s) {', '.join(unknown)}; known: {', '.join(PARTS)}")
    names = args.parts or list(PARTS)
    shown_argv = argv if argv is not None else sys.argv[1:]
    report: dict = {
        "benchmark": "suite",
        "arguments": " ".join(shown_argv),
        "quick": args.quick,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        "parts": {},
    }
    if args.update and args.json.exists():
        previous = json.loads(args.json.read_text())
        report["parts"] = {name: record for name, record in previous["parts"].items() if name not in names}
        report["updated_parts"] = names
        # the first run's command, start and machine are kept; each part records its own
        report.update({key: previous[key] for key in ("arguments", "started", "machine") if key in previous})
        report["updated"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    started = time.monotonic()
    args.json.parent.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names):
        part = PARTS[name]
        print(f"[{i + 1}/{len(names)}] {name}: {' '.join(part.argv(args.quick))}", flush=True)
        if part.needs_root and os.geteuid() != 0:
            report["parts"][name] = {
                "command": " ".join(part.argv(args.quick)),
                "description": part.description,
                "error": "needs root (it creates a network interface)",
            }
            print(f"[{i + 1}/{len(names)}] {name}: skipped, needs root", flush=True)
            continue
        record = run_part(part, args.quick, args.timeout)
        report["parts"][name] = record
        status = "ok" if record.get("returncode") == 0 else record.get("error") or f"exit {record['returncode']}"
        print(f"[{i + 1}/{len(names)}] {name}: {status}, {record['seconds']:.0f} s", flush=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")  # after each part: a later failure loses nothing
    report["seconds"] = round(sum(r.get("seconds", 0) for r in report["parts"].values()), 1)
    report["parts"] = {name: report["parts"][name] for name in PARTS if name in report["parts"]}
    report["machine"].setdefault("load_average_after", os.getloadavg())
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    written = plot_all(report, args.plots)
    print()
    print(format_table(headlines(report)))
    print(
        f"machine: {describe_machine(report['machine'])}; load average {report['machine']['load_average'][0]:.2f} "
        f"before, {report['machine']['load_average_after'][0]:.2f} after (shared machine: figures are noisy)"
    )
    print(f"{time.monotonic() - started:.0f} s; JSON {args.json}; plots {', '.join(str(p) for p in written)}")
    failed = [n for n, r in report["parts"].items() if r.get("returncode") != 0]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
