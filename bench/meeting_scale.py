"""CPU time per forwarded packet from 1 to 1,000 concurrent meetings in one engine.

    python -m bench.meeting_scale [--quick] [--json PATH] [--meetings 1,10,100,1000] [--rate 5000]
        [--frame 5] [--variants gso,no-gso] [--rounds N]

Each meeting is a router of its own with one publisher and two subscribers (plain RTP transports,
bench/engine_forwarder.py with one source per meeting); the paced generator (bench/baseline/pacer.c)
sends --rate packets/s in total, round-robin over the meetings' publishers, whatever their number,
--frame packets in a row from each (a video frame's packets, back to back: a 1.4 Mbit/s camera at
30 frames/s sends ~5 of 1,200 B), so only the number of meetings (routers, transports, SSRCs the
engine looks up) changes between levels.
The engine runs pinned alone on the last CPU (bench/paced.py), without the forwarder's loop-lag probe
(its 200 wake-ups a second cost ~25 ms of CPU a second, 2.5 us per packet at every level). CPU time per
forwarded packet is the engine's time on CPU over the window (schedstat, ns) over the packets the sink
received. Goal: flat within 10 % (the largest over the smallest, from 1 to 1,000 meetings).

Each level runs twice: with UDP GSO (the engine's default) and without (--no-gso). With --frame 1 (one
packet per publisher in turn, the load before 2026-12-07) GSO flattered one meeting: the 1 ms ticks
brought ~5 packets of the one publisher into each receive batch, coalesced into one message per
subscriber, while from 10 meetings on they came from 5 publishers and nothing coalesced. With frames,
a receive batch holds one publisher's frame at every level, as a real one does. Without GSO every copy
is a datagram of its own at every level. The C baseline (c-gso: bench/baseline/forwarder.c --gso, a
meeting per source) runs each level too: on one host, sending into more of the sink's sockets costs
the sender's CPU as well (loopback delivers in the sending call), so the spread of the engine's CPU
per packet over the baseline's at the same level is the engine's own cost of more meetings (tables,
cache, periodic work)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from bench.baseline.build import build
from bench.harness import Forwarder, c_forwarder, fmt, python_forwarder
from bench.paced import run_paced

SUBSCRIBERS = 2
GOAL_SPREAD = 0.10
VARIANTS = {
    "gso": Forwarder(
        "engine",
        "Podium engine, plain RTP, UDP GSO (bench/engine_forwarder.py --lag-probe 0)",
        python_forwarder("bench.engine_forwarder", "--lag-probe", "0"),
    ),
    "no-gso": Forwarder(
        "engine-no-gso",
        "Podium engine, plain RTP, one datagram per copy (bench/engine_forwarder.py --lag-probe 0 --no-gso)",
        python_forwarder("bench.engine_forwarder", "--lag-probe", "0", "--no-gso"),
    ),
    "c-gso": Forwarder(
        "c-gso",
        "C baseline, a meeting per source, each consumer's copies as UDP GSO runs (bench/baseline/forwarder.c --gso): "
        "what the generator, loopback and the sink's sockets cost at each level, with no engine",
        c_forwarder("--gso"),
    ),
}
BASELINE = "c-gso"


def spread(rows: list[dict[str, Any]]) -> float | None:
    """The largest CPU per packet over the smallest, less 1."""
    per_packet = [r["cpu_ns_per_packet_exact"] for r in rows if r.get("cpu_ns_per_packet_exact")]
    return max(per_packet) / min(per_packet) - 1 if len(per_packet) > 1 else None


def relative_spread(rows: list[dict[str, Any]], variant: str) -> float | None:
    """The spread of the variant's CPU per packet over the C baseline's at the same level: what more
    meetings cost the engine beyond what they cost the rig (loopback into more sockets, the sink)."""
    base = {r["meetings"]: r.get("cpu_ns_per_packet_exact") for r in rows if r["variant"] == BASELINE}
    ratios = [
        r["cpu_ns_per_packet_exact"] / base[r["meetings"]]
        for r in rows
        if r["variant"] == variant and r.get("cpu_ns_per_packet_exact") and base.get(r["meetings"])
    ]
    return max(ratios) / min(ratios) - 1 if len(ratios) > 1 else None


def per_drain(row: dict[str, Any]) -> float | None:
    """Datagrams the engine read per wake-up (drain), over its whole run: at this light load most of
    the CPU per packet is the wake-up's, shared by this many."""
    engine = (row.get("forwarder_counters") or {}).get("engine") or {}
    return engine["datagrams_in"] / engine["drains"] if engine.get("drains") else None


def measure(
    levels: list[int],
    variants: list[str],
    rate: float,
    size: int,
    window: float,
    warmup: float,
    rounds: int = 1,
    frame: int = 1,
) -> dict[str, Any]:
    """Every (level, variant) `rounds` times, the rounds one after the other over all levels (so that a
    busy spell of the shared machine hits every level alike); each keeps its round of median CPU per
    packet."""
    binaries = build()
    runs: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for round_ in range(rounds):
        for meetings in levels:
            for variant in variants:
                forwarder = VARIANTS[variant]
                row = run_paced(
                    forwarder, meetings, meetings * SUBSCRIBERS, size, rate, warmup, window, binaries, frame=frame
                )
                row["meetings"], row["variant"] = meetings, variant
                runs.setdefault((meetings, variant), []).append(row)
                status = row.get("error") or (
                    f"{row['output_pps']:,.0f} out pps, engine CPU {row['forwarder_cpu_percent']:.0f} %, "
                    f"{fmt(row.get('cpu_ns_per_packet_exact'), ',.0f')} ns per packet, "
                    f"started in {row['startup_seconds']} s"
                )
                print(f"  [{round_ + 1}/{rounds}] {meetings:>5} meetings, {variant:<6}: {status}", flush=True)
    rows = []
    for tries in runs.values():
        measured = sorted(
            (r for r in tries if r.get("cpu_ns_per_packet_exact")), key=lambda r: r["cpu_ns_per_packet_exact"]
        )
        row = measured[len(measured) // 2] if measured else tries[0]
        row["rounds_ns_per_packet"] = [r.get("cpu_ns_per_packet_exact") for r in tries]
        rows.append(row)
    spreads = {v: spread([r for r in rows if r["variant"] == v]) for v in variants}
    relative = {v: relative_spread(rows, v) for v in variants if v != BASELINE and BASELINE in variants}
    return {
        "rate": rate,
        "size": size,
        "frame": frame,
        "subscribers_per_meeting": SUBSCRIBERS,
        "rounds": rounds,
        "levels": rows,
        "spread": spreads[variants[0]],
        "spreads": spreads,
        "spreads_over_baseline": relative,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1, 100 meetings, short windows (CI smoke run)")
    parser.add_argument("--meetings", help="levels, comma-separated (default 1,10,100,1000; quick 1,100)")
    parser.add_argument("--rate", type=float, default=5000, help="input packets/s in total, at every level")
    parser.add_argument("--size", type=int, default=1200)
    parser.add_argument(
        "--frame", type=int, default=5, help="packets each publisher sends in a row, a frame (1: one per turn)"
    )
    parser.add_argument("--window", type=float, help="seconds measured per level (default 5, quick 1)")
    parser.add_argument(
        "--variants",
        default="gso,no-gso,c-gso",
        help="forwarders, comma-separated: gso, no-gso (the engine's sends), c-gso (the C baseline); "
        "headline: the first",
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="runs of every level; each reports its median CPU per packet"
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    levels = [int(x) for x in (args.meetings or ("1,100" if args.quick else "1,10,100,1000")).split(",")]
    variants = args.variants.split(",")
    if not variants or any(v not in VARIANTS for v in variants):
        parser.error(f"--variants: some of {', '.join(VARIANTS)}")
    started = time.time()
    if args.frame < 1:
        parser.error("--frame: 1 or more packets")
    result = measure(
        levels,
        variants,
        args.rate,
        args.size,
        args.window or (1.0 if args.quick else 5.0),
        1.0,
        max(1, args.rounds),
        args.frame,
    )
    print(
        f"{'meetings':>8} {'sends':>6} {'out pps':>9} {'CPU':>10} {'ns/packet':>10} {'loss':>6} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'in/drain':>8}"
    )
    for r in result["levels"]:
        offered = r.get("offered_output_pps") or 0
        loss = 1 - r["output_pps"] / offered if offered and "output_pps" in r else None
        print(
            f"{r['meetings']:>8} {r['variant']:>6} {fmt(r.get('output_pps'), ',.0f'):>9} "
            f"{fmt(r.get('forwarder_cpu_percent'), '.1f'):>9}% "
            f"{fmt(r.get('cpu_ns_per_packet_exact'), ',.0f'):>10} {fmt(loss and 100 * loss, '.1f'):>5}% "
            f"{fmt(r.get('latency_ms_p50'), '.2f'):>7} {fmt(r.get('latency_ms_p99'), '.2f'):>7} "
            f"{fmt(per_drain(r), '.1f'):>8}"
        )
    spread = result["spread"]
    head = {
        "name": f"CPU per forwarded packet, largest / smallest - 1, {levels[0]} to {levels[-1]} meetings "
        f"({variants[0]})",
        "value": spread,
        "goal": f"<= {100 * GOAL_SPREAD:.0f} %",
        "met": None if spread is None else spread <= GOAL_SPREAD,
        "spreads": result["spreads"],
        "spreads_over_baseline": result["spreads_over_baseline"],
    }
    others = "".join(f"; {v}: {fmt(s and 100 * s, '.1f')} %" for v, s in result["spreads"].items() if v != variants[0])
    others += "".join(
        f"; {v} over {BASELINE}: {fmt(s and 100 * s, '.1f')} %" for v, s in result["spreads_over_baseline"].items()
    )
    print(
        f"headline: {head['name']}: {fmt(spread and 100 * spread, '.1f')} % (goal {head['goal']}){others}; "
        f"{time.time() - started:.0f} s"
    )
    if args.json:
        command = " ".join(["python", "-m", "bench.meeting_scale", *(argv if argv is not None else sys.argv[1:])])
        args.json.write_text(
            json.dumps({"benchmark": "meeting_scale", "command": command, **result, "headline": head}, indent=2)
        )
    errors = [r for r in result["levels"] if "error" in r]
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
