"""Worker scaling: total forwarded packets/s with 1, 2, … N engine workers on one host, as a ratio to
N × one worker, printed per N.

    python -m bench.worker_scaling [--quick] [--json PATH] [--workers 1,2,...] [--case 10x1200]

Each worker is an engine process (bench/engine_forwarder.py, the fast path a `podium serve` worker
runs: one socket, one asyncio loop) forwarding one publisher to --case's fan-out of subscribers, fed
by its own C load generator and drained by its own C sink (bench/harness.py's run_case, one per
worker, all started at once in threads, so their windows overlap). For N workers the figure is the sum
of the N sinks' packets/s; the ratio is that sum over N × the one-worker figure of the same run.
Workers are not pinned: the scheduler spreads them, as it spreads `podium serve --workers N`.

Default N: 1 to the number of CPUs this process may use (at least 2). The generators and sinks run on
the same host and take CPU too (the `gen+sink` column): on a host with few cores they, not the
workers, limit the total, and the ratio says so rather than the workers' scaling. The same command
runs unchanged on a 16-core host. Every N runs --rounds times, interleaved; the median round counts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from bench.baseline.build import build
from bench.harness import Forwarder, Settings, fmt, parse_cases, python_forwarder, run_case

ENGINE = Forwarder(
    "engine", "Podium engine worker (bench/engine_forwarder.py)", python_forwarder("bench.engine_forwarder")
)
TARGET = 0.85


def measure_n(n: int, fanout: int, size: int, settings: Settings, binaries: dict) -> dict:
    """N workers at once; their summed figures (or an "error")."""
    with ThreadPoolExecutor(max_workers=n) as pool:
        rows = list(pool.map(lambda _: run_case(ENGINE, fanout, size, settings, binaries), range(n)))
    errors = [r["error"] for r in rows if "error" in r]
    if errors:
        return {"workers": n, "error": errors[0]}
    return {
        "workers": n,
        "output_pps": sum(r["output_pps"] for r in rows),
        "per_worker_pps": [r["output_pps"] for r in rows],
        "worker_cpu_percent": sum(r["forwarder_cpu_percent"] for r in rows),
        "gen_sink_cpu_percent": sum(r["loadgen_cpu_percent"] + r["sink_cpu_percent"] for r in rows),
        "cpu_ns_per_packet": statistics.fmean(r["cpu_ns_per_packet"] for r in rows if r["cpu_ns_per_packet"]),
        "input_drops": sum(r["input_drops"] for r in rows),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cpus = max(2, len(os.sched_getaffinity(0)))
    parser.add_argument("--quick", action="store_true", help="N = 1 and 2, one round, short windows")
    parser.add_argument("--json", metavar="PATH", help="write every figure there")
    parser.add_argument("--workers", help=f"comma-separated N (default 1..{cpus}: this host's CPUs)")
    parser.add_argument("--case", type=parse_cases, default=[(10, 1200)], help="FANOUTxSIZE (default 10x1200)")
    parser.add_argument("--rounds", type=int, help="rounds per N, interleaved; the median counts (default 3, quick 1)")
    parser.add_argument("--warmup", type=float, help="seconds before each window (default 0.7, quick 0.3)")
    parser.add_argument("--window", type=float, help="seconds measured (default 1.5, quick 1.0)")
    args = parser.parse_args(argv)
    ns = (
        [int(n) for n in args.workers.split(",")]
        if args.workers
        else ([1, 2] if args.quick else list(range(1, cpus + 1)))
    )
    if 1 not in ns:
        ns = [1, *ns]
    fanout, size = args.case[0]
    settings = Settings(
        warmup=args.warmup if args.warmup is not None else (0.3 if args.quick else 0.7),
        window=args.window if args.window is not None else (1.0 if args.quick else 1.5),
        credit=None,
        burst=32,
        pin=False,
    )
    rounds = args.rounds or (1 if args.quick else 3)
    binaries = build()
    load_before, started = os.getloadavg(), time.time()
    print(
        f"worker scaling: N = {ns} engine workers, fan-out {fanout}, {size} B, {rounds} round(s); "
        f"{len(os.sched_getaffinity(0))} CPUs; load average {load_before[0]:.2f}",
        flush=True,
    )
    runs: dict[int, list[dict]] = {}
    for round_ in range(rounds):
        for n in ns:
            row = measure_n(n, fanout, size, settings, binaries)
            runs.setdefault(n, []).append(row)
            status = row.get("error") or f"{row['output_pps']:,.0f} pps"
            print(f"  [{round_ + 1}/{rounds}] N={n:<3} {status}", flush=True)
    results = []
    for n in ns:
        good = sorted((r for r in runs[n] if "error" not in r), key=lambda r: r["output_pps"])
        results.append(good[len(good) // 2] if good else runs[n][0])
    one = results[ns.index(1)].get("output_pps")
    one_cpu = results[ns.index(1)].get("cpu_ns_per_packet")
    print()
    print(
        f"{'N':>3} {'total pps':>12} {'N x one':>12} {'ratio':>6} {'workers CPU':>11} "
        f"{'gen+sink CPU':>12} {'CPU/pkt vs one':>14} {'in drops':>8}"
    )
    for r in results:
        if "error" in r:
            print(f"{r['workers']:>3} error: {r['error'].splitlines()[0]}")
            continue
        r["ratio_to_n_times_one"] = r["output_pps"] / (r["workers"] * one) if one else None
        r["cpu_per_packet_over_one"] = r["cpu_ns_per_packet"] / one_cpu if one_cpu else None
        print(
            f"{r['workers']:>3} {r['output_pps']:>12,.0f} {r['workers'] * one if one else 0:>12,.0f} "
            f"{fmt(r['ratio_to_n_times_one'], '>6.2f')} {r['worker_cpu_percent']:>10.0f}% "
            f"{r['gen_sink_cpu_percent']:>11.0f}% {fmt(r['cpu_per_packet_over_one'], '>14.2f')} {r['input_drops']:>8}"
        )
    load_after = os.getloadavg()
    print(
        f"{time.time() - started:.0f} s; load average {load_before[0]:.2f} before, {load_after[0]:.2f} after "
        "(other processes on this machine make figures noisy)"
    )
    if args.json:
        import json
        from pathlib import Path

        Path(args.json).write_text(
            json.dumps(
                {
                    "benchmark": "worker_scaling",
                    "command": " ".join(
                        ["python", "-m", "bench.worker_scaling", *(argv if argv is not None else sys.argv[1:])]
                    ),
                    "cpus": len(os.sched_getaffinity(0)),
                    "case": {"fanout": fanout, "size": size},
                    "results": results,
                    "load_average": [load_before, load_after],
                },
                indent=2,
            )
            + "\n"
        )
    top = results[-1]
    print(
        f"headline: {top['workers']} workers forward {fmt(top.get('ratio_to_n_times_one'), '.2f')} x "
        f"{top['workers']} x one worker (target {TARGET} x N)",
        flush=True,
    )
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
