"""One-way latency the engine adds at 30 %, 70 % and 90 % of one core's capacity, with the C forwarder
as the same-run baseline.

    python -m bench.engine_latency [--quick] [--json PATH] [--loads 0.3,0.7,0.9] [--fanout 10] [--size 1200]

First the engine's capacity on one core: the forwarding benchmark's closed-loop case (bench/harness.py,
the engine pinned alone on the last CPU, as fast as it forwards) gives the output packets/s it reached
in this run. (1 s over its CPU time per packet would be the core's ideal, but on a shared 2-core machine
the generator and sink cannot feed that: the load levels would all be overload.)
Then, at each fraction of that capacity, the engine and the C forwarder (bench/baseline/forwarder.c)
in turn forward the same paced load (bench/paced.py: open loop, send time in every packet, the sink
times every copy). Printed per load: p50/p99 one-way latency of each and the difference, the latency
the engine adds over a minimal forwarder. Goal: the engine's p99 ≤ 1 ms at 70 %."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from bench.baseline.build import build
from bench.forwarding import FORWARDERS
from bench.harness import Settings, fmt, run_case
from bench.paced import run_paced

GOAL_P99_MS = 1.0
GOAL_LOAD = 0.7


def measure(loads: list[float], fanout: int, size: int, window: float, warmup: float) -> dict[str, Any]:
    binaries = build()
    engine, c = FORWARDERS["engine"], FORWARDERS["c"]
    print(f"capacity: the engine at full load, fan-out {fanout}, {size} B ...", flush=True)
    full = run_case(engine, fanout, size, Settings(warmup, window, None, 32, True), binaries)
    if "error" in full or not full.get("cpu_ns_per_packet"):
        raise RuntimeError(f"capacity not measured: {full.get('error', full)}")
    capacity_output = full["output_pps"]
    capacity_input = capacity_output / fanout
    rows = []
    for load in loads:
        rate = load * capacity_input
        pair = {}
        for forwarder in (engine, c):
            row = run_paced(forwarder, 1, fanout, size, rate, warmup, window, binaries)
            pair[forwarder.name] = row
            status = row.get("error") or (
                f"{row['output_pps']:,.0f} out pps, CPU {row['forwarder_cpu_percent']:.0f} %, "
                f"p50 {fmt(row.get('latency_ms_p50'), '.3f')} ms, p99 {fmt(row.get('latency_ms_p99'), '.3f')} ms"
            )
            print(f"  load {100 * load:.0f} %: {forwarder.name:<6} {status}", flush=True)
        e, b = pair["engine"], pair["c"]
        added = {
            q: (e[f"latency_ms_{q}"] - b[f"latency_ms_{q}"])
            if e.get(f"latency_ms_{q}") is not None and b.get(f"latency_ms_{q}") is not None
            else None
            for q in ("p50", "p99")
        }
        rows.append({"load": load, "input_pps": rate, "engine": e, "c": b, "added_ms": added})
    return {
        "fanout": fanout,
        "size": size,
        "capacity": {
            "output_pps": capacity_output,
            "cpu_percent": full["forwarder_cpu_percent"],
            "cpu_ns_per_packet": full["cpu_ns_per_packet"],
        },
        "capacity_case": full,
        "levels": rows,
    }


def headline(result: dict[str, Any]) -> dict[str, Any]:
    at = min(result["levels"], key=lambda lv: abs(lv["load"] - GOAL_LOAD))
    value = at["engine"].get("latency_ms_p99")
    return {
        "name": f"engine p99 one-way latency at {100 * at['load']:.0f} % of a core",
        "value": value,
        "unit": "ms",
        "goal": f"<= {GOAL_P99_MS} ms",
        "met": None if value is None else value <= GOAL_P99_MS,
        "added_p99_ms": at["added_ms"]["p99"],
    }


def print_table(result: dict[str, Any]) -> None:
    print(
        f"{'load':>5} {'in pps':>8} | {'engine CPU':>10} {'p50 ms':>7} {'p99 ms':>7} | {'C CPU':>6} {'p50 ms':>7} "
        f"{'p99 ms':>7} | {'added p50':>9} {'added p99':>9}"
    )
    for lv in result["levels"]:
        e, c = lv["engine"], lv["c"]
        print(
            f"{100 * lv['load']:>4.0f}% {lv['input_pps']:>8,.0f} | {fmt(e.get('forwarder_cpu_percent'), '.0f'):>9}% "
            f"{fmt(e.get('latency_ms_p50'), '.3f'):>7} {fmt(e.get('latency_ms_p99'), '.3f'):>7} | "
            f"{fmt(c.get('forwarder_cpu_percent'), '.0f'):>5}% {fmt(c.get('latency_ms_p50'), '.3f'):>7} "
            f"{fmt(c.get('latency_ms_p99'), '.3f'):>7} | {fmt(lv['added_ms']['p50'], '.3f'):>9} "
            f"{fmt(lv['added_ms']['p99'], '.3f'):>9}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short windows (CI smoke run)")
    parser.add_argument("--loads", default="0.3,0.7,0.9", help="fractions of one core's capacity")
    parser.add_argument("--fanout", type=int, default=10)
    parser.add_argument("--size", type=int, default=1200)
    parser.add_argument("--window", type=float, help="seconds measured per case (default 3, quick 1)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    window = args.window or (1.0 if args.quick else 3.0)
    started = time.time()
    result = measure([float(x) for x in args.loads.split(",")], args.fanout, args.size, window, 0.5)
    print_table(result)
    head = headline(result)
    print(
        f"headline: {head['name']}: {fmt(head['value'], '.3f')} ms (goal {head['goal']}); added over the C "
        f"forwarder {fmt(head['added_p99_ms'], '.3f')} ms; {time.time() - started:.0f} s"
    )
    if args.json:
        command = " ".join(["python", "-m", "bench.engine_latency", *(argv if argv is not None else sys.argv[1:])])
        args.json.write_text(
            json.dumps({"benchmark": "engine_latency", "command": command, **result, "headline": head}, indent=2)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
