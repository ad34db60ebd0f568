"""Pipe cost: CPU per forwarded packet for subscribers reached through a pipe, against subscribers on
the publisher's worker, in one run.

    python -m bench.pipe_cost [--quick] [--json PATH] [--cases 1x1200,10x1200,...]

Two rows per case (fan-out x RTP packet size), through the forwarding benchmark's harness
(bench/harness.py: a C load generator, one publisher; a C sink, one socket per subscriber; a warm-up,
then a fixed window):

- direct: one engine worker, the publisher's and the subscribers' transports on it
  (bench/engine_forwarder.py);
- piped: two engine workers in one process (bench/pipe_forwarder.py): the publisher on A, A's pipe
  consumer sending to B, B's pipe producer consumed by every subscriber on B, as in a meeting that
  spans workers (control.meetings.pipes).

CPU time per forwarded packet is the forwarder process's user + system time over the window divided
by the datagrams the sink received; the piped row's process holds both workers. The ratio piped /
direct per case is the pipe's cost; its extra work is one more send (A → B) and one more receive and
routing per published packet, shared by all the subscribers behind the pipe, so it falls with the
fan-out. The last line is the headline: the ratio at fan-out 10, 1200-byte packets.
"""

from __future__ import annotations

import argparse
import sys

from bench.harness import Forwarder, Run, add_arguments, fmt, print_results, python_forwarder, ratio

HEADLINE_CASE = (10, 1200)
ALL_CASES = [(fanout, size) for fanout in (1, 10, 50) for size in (100, 1200)]
QUICK_CASES = [(1, 1200), HEADLINE_CASE]

FORWARDERS: dict[str, Forwarder] = {
    f.name: f
    for f in (
        Forwarder(
            "direct", "one worker: subscribers on the publisher's worker", python_forwarder("bench.engine_forwarder")
        ),
        Forwarder(
            "piped",
            "two workers: subscribers on another worker, through a pipe (bench/pipe_forwarder.py)",
            python_forwarder("bench.pipe_forwarder"),
        ),
    )
}


def ratios(results: list[dict], cases: list[tuple[int, int]]) -> list[dict]:
    by_key = {(r["forwarder"], r["fanout"], r["size"]): r for r in results if "error" not in r}
    out = []
    for fanout, size in cases:
        direct, piped = (by_key.get((name, fanout, size), {}) for name in ("direct", "piped"))
        out.append(
            {
                "fanout": fanout,
                "size": size,
                "piped_over_direct_cpu_per_packet": ratio(
                    piped.get("cpu_ns_per_packet"), direct.get("cpu_ns_per_packet")
                ),
                "piped_over_direct_pps": ratio(piped.get("output_pps"), direct.get("output_pps")),
            }
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser, FORWARDERS, "1,10,50 x 100,1200")
    args = parser.parse_args(argv)
    run = Run.from_arguments("pipe cost benchmark", parser, args, FORWARDERS, ALL_CASES, QUICK_CASES)
    results = run.measure()
    case_ratios = ratios(results, run.cases)
    print_results(results)
    print(f"{'fan-out':>7} {'size':>5} {'piped/direct CPU per packet':>28} {'piped/direct pps':>17}")
    for r in case_ratios:
        print(
            f"{r['fanout']:>7} {r['size']:>5} {fmt(r['piped_over_direct_cpu_per_packet'], '>28.2f')} "
            f"{fmt(r['piped_over_direct_pps'], '>17.2f')}"
        )
    print()
    pick = next((r for r in case_ratios if (r["fanout"], r["size"]) == HEADLINE_CASE), case_ratios[0])
    value = pick["piped_over_direct_cpu_per_packet"]
    line = (
        f"headline: CPU per forwarded packet through a pipe / on the publisher's worker at fan-out "
        f"{pick['fanout']}, {pick['size']} B = {fmt(value, '.2f')}"
    )
    run.finish("pipe_cost", argv, results, {"ratios": case_ratios, "headline": pick}, args.json)
    print(line, flush=True)
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
