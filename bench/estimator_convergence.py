"""Bandwidth estimator benchmark: how long a subscriber transport's estimate takes to follow a link.

    python -m bench.estimator_convergence [--steps N] [--hold SECONDS] [--quick] [--json PATH]

The engine's own transport-cc parser and estimator (engine/twcc.pxi, engine/estimator.pxi, through
engine._testing.TwccEstimator) on a simulated link (bench/link_model.py): a sender paced at the
estimate, 1200-byte packets, a bottleneck queue that drops what would wait over 400 ms, 20 ms of
propagation, feedback every 50 ms. After a first settling period the link steps from 2 Mbit/s to
300 kbit/s and back, --steps times each way, each level held --hold seconds. Convergence time: from
the step until the estimate is at or below 1.25 x 300 kbit/s (down), at or above 0.75 x 2 Mbit/s
(up). Prints p50 and p99 of each direction over the steps, and the mean estimate over the last
5 s of each level as a share of the capacity. Simulated time: the figures do not depend on the
machine, only on the estimator.

Then the same upward step for a subscriber held to a 200 kbit/s layer (application-limited: the
estimate cannot run past 1.5 x what it acknowledges): the link at 300 kbit/s with the sender at the
estimate for a settling period (20 s plus a shift per run, so that the step falls at --steps
different moments), then the sender capped at 200 kbit/s for 2 s, then the link at 2 Mbit/s for
--hold seconds; time until the estimate is at or above 0.75 x 2 Mbit/s, without and with bandwidth
probes (engine/probe.pxi: padding clusters the sender adds, as the engine would), in the same run.

Last, the start of a subscriber that joins a meeting of several cameras: the control plane's budget
gives it layers that fill its starting estimate (1 Mbit/s), so it sends at the estimate from the
first packet (never application-limited); on links from 3 to 8 Mbit/s (--steps of them), the time
until the estimate is at or above 0.75 x the link, without and with probes (start-up probes, sent
whatever the transport sends until one finds nothing more).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from bench.link_model import Bottleneck, LinkRun, converge_time_us

HIGH_BPS = 2_000_000
LOW_BPS = 300_000
LAYER_BPS = 200_000
START_LOW_BPS, START_HIGH_BPS = 3_000_000, 8_000_000
S = 1_000_000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def measure(steps: int, hold_s: float) -> dict:
    hold_us = int(hold_s * S)
    link = Bottleneck(HIGH_BPS)
    run = LinkRun(link)
    run.run(hold_us)
    down: list[float | None] = []
    up: list[float | None] = []
    share_low: list[float] = []
    share_high: list[float] = []
    for _ in range(steps):
        for capacity, times, shares, low, high in (
            (LOW_BPS, down, share_low, 0.0, 1.25 * LOW_BPS),
            (HIGH_BPS, up, share_high, 0.75 * HIGH_BPS, float("inf")),
        ):
            link.capacity_bps = capacity
            start = run.now_us
            run.run(hold_us)
            took = converge_time_us(run.samples, start, low, high)
            times.append(None if took is None else took / S)
            shares.append(run.mean_estimate(run.now_us - 5 * S) / capacity)
    stats = run.estimator.stats()
    return {
        "down": summary(down),
        "up": summary(up),
        "settled_share_low": round(statistics.mean(share_low), 3),
        "settled_share_high": round(statistics.mean(share_high), 3),
        "overuses": stats["overuses"],
        "packets_lost": stats["packets_lost"],
        "packets_acked": stats["packets_acked"],
    }


def measure_held(steps: int, hold_s: float, probing: bool) -> dict:
    """The upward step of a subscriber held to the low layer, `steps` times at shifted moments."""
    runs = []
    for k in range(steps):
        link = Bottleneck(LOW_BPS)
        run = LinkRun(link, probing=probing)
        run.run(20 * S + k * 370_000)
        run.app_limit_bps = LAYER_BPS
        run.run(2 * S)
        link.capacity_bps = HIGH_BPS
        runs.append(finished(run, hold_s, 0.75 * HIGH_BPS))
    return probed_summary(runs)


def measure_start(steps: int, hold_s: float, probing: bool) -> dict:
    """A sender at its estimate from the start, on `steps` links from START_LOW_BPS to START_HIGH_BPS."""
    runs = []
    for k in range(steps):
        capacity = START_LOW_BPS + (START_HIGH_BPS - START_LOW_BPS) * k / max(steps - 1, 1)
        runs.append(finished(LinkRun(Bottleneck(capacity), probing=probing), hold_s, 0.75 * capacity))
    return probed_summary(runs)


def finished(run: LinkRun, hold_s: float, reach_bps: float) -> tuple[float | None, dict]:
    """Runs `run` on for `hold_s`: the seconds until its estimate reached `reach_bps` (None: never),
    and its estimator's stats at the end."""
    start = run.now_us
    run.run(int(hold_s * S))
    took = converge_time_us(run.samples, start, reach_bps, float("inf"))
    return None if took is None else took / S, run.estimator.stats()


def probed_summary(runs: list[tuple[float | None, dict]]) -> dict:
    """summary() of the runs' times, with the probes they started and those that raised."""
    return {
        **summary([took for took, _ in runs]),
        "probes_started": sum(stats["probes_started"] for _, stats in runs),
        "probes_raised": sum(stats["probes_raised"] for _, stats in runs),
    }


def summary(times: list[float | None]) -> dict:
    done = [t for t in times if t is not None]
    return {
        "steps": len(times),
        "converged": len(done),
        "p50_s": round(percentile(done, 0.5), 3) if done else None,
        "p99_s": round(percentile(done, 0.99), 3) if done else None,
        "max_s": round(max(done), 3) if done else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, help="steps each way (default 20, quick 4)")
    parser.add_argument("--hold", type=float, help="seconds each level is held (default 40, quick 30)")
    parser.add_argument("--quick", action="store_true", help="a short run")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    steps = args.steps or (4 if args.quick else 20)
    hold = args.hold or (30.0 if args.quick else 40.0)
    began = time.perf_counter()
    result = measure(steps, hold)
    result["held_up"] = measure_held(steps, hold, probing=False)
    result["held_up_probing"] = measure_held(steps, hold, probing=True)
    result["start"] = measure_start(steps, hold, probing=False)
    result["start_probing"] = measure_start(steps, hold, probing=True)
    result.update(steps=steps, hold_s=hold, high_bps=HIGH_BPS, low_bps=LOW_BPS, layer_bps=LAYER_BPS)
    down, up = result["down"], result["up"]
    print(f"link steps {HIGH_BPS / 1e6:g} Mbit/s <-> {LOW_BPS / 1e3:g} kbit/s, {steps} each way, {hold:g} s held")
    print(f"{'step':>20} {'converged':>9} {'p50 s':>7} {'p99 s':>7} {'max s':>7} {'settled/capacity':>16}")
    for name, row, share in (
        ("2 Mbit/s -> 300 kbit/s", down, "settled_share_low"),
        ("300 kbit/s -> 2 Mbit/s", up, "settled_share_high"),
    ):
        print(
            f"{name:>20} {row['converged']:>4}/{row['steps']:<4} {row['p50_s'] or float('nan'):>7.2f} "
            f"{row['p99_s'] or float('nan'):>7.2f} {row['max_s'] or float('nan'):>7.2f} {result[share]:>16.2f}"
        )
    held, probed = result["held_up"], result["held_up_probing"]
    start, started = result["start"], result["start_probing"]
    held_what = f"300 kbit/s -> 2 Mbit/s sending a {LAYER_BPS / 1e3:g} kbit/s layer"
    start_what = (
        f"1 Mbit/s start on {START_LOW_BPS / 1e6:g}-{START_HIGH_BPS / 1e6:g} Mbit/s links, sending at the estimate"
    )
    for name, row, what in (
        ("held, no probes", held, held_what),
        ("held, probes", probed, held_what),
        ("start, no probes", start, start_what),
        ("start, probes", started, start_what),
    ):
        print(
            f"{name:>20} {row['converged']:>4}/{row['steps']:<4} {row['p50_s'] or float('nan'):>7.2f} "
            f"{row['p99_s'] or float('nan'):>7.2f} {row['max_s'] or float('nan'):>7.2f} "
            f"({what}; probes {row['probes_started']}, raised {row['probes_raised']})"
        )
    print(
        f"headline: estimator convergence after a step, p50/p99: down {down['p50_s']}/{down['p99_s']} s, "
        f"up {up['p50_s']}/{up['p99_s']} s; up held to a {LAYER_BPS / 1e3:g} kbit/s layer: "
        f"{held['converged']}/{held['steps']} without probes, with probes p50/p99 "
        f"{probed['p50_s']}/{probed['p99_s']} s; start at the estimate: without probes p50/p99 "
        f"{start['p50_s']}/{start['p99_s']} s, with {started['p50_s']}/{started['p99_s']} s "
        f"(simulated time; {time.perf_counter() - began:.1f} s to run)",
        flush=True,
    )
    if args.json:
        args.json.write_text(
            json.dumps({"benchmark": "estimator_convergence", "argv": argv or sys.argv[1:], **result}, indent=2)
        )
    converged = all(row["converged"] == row["steps"] for row in (down, up, probed, started))
    return 0 if converged else 1


if __name__ == "__main__":
    sys.exit(main())
