"""Header extension rewrite benchmark: what writing each subscriber's own extension ids and MID costs,
as a ratio to plain forwarding, in one run.

    python -m bench.extension_rewrite [--quick] [--json PATH] [--cases 10x1200,...] [--forwarders ...]

The same harness as bench/forwarding.py (bench/harness.py: one C load generator, the forwarder pinned
alone on the last CPU, a C sink with N sockets, a warm-up then a measured window, rounds interleaved,
median round per row). Every row's input carries a browser video's header extensions (sdes:mid,
abs-send-time, transport-cc: `loadgen --extensions 1`), and there are three rows per case:

- c: the C baseline (recvmmsg -> fixed-header rewrite -> sendmmsg), extensions untouched;
- engine: the engine forwarding them unchanged (transports never told their extension ids);
- engine-rewrite: every transport told its ids (the publisher's differ from the subscribers') and
  every consumer its MID, so each copy gets an extension block of its own (engine/extensions.pxi):
  the packet's elements read once, then written per consumer, its payload still borrowed from the
  receive buffer.

Both blocks are 16 bytes, so every copy has the input's size and the sink checks it as usual.
Printed: output packets/s and CPU time per forwarded packet per row; per case the ratios
rewrite / plain engine and rewrite / C. The last line is the headline: CPU time per forwarded packet,
rewrite / plain engine, at fan-out 10 with 1200-byte packets.
"""

from __future__ import annotations

import argparse
import sys

from bench.harness import Forwarder, Run, add_arguments, c_forwarder, fmt, print_results, python_forwarder, ratio

HEADLINE_CASE = (10, 1200)
ALL_CASES = [(1, 1200), (10, 1200), (50, 1200), (10, 100)]
QUICK_CASES = [HEADLINE_CASE]
EXTENSIONS = ("--extensions", "1")

FORWARDERS: dict[str, Forwarder] = {
    f.name: f
    for f in (
        Forwarder(
            "c",
            "C baseline: recvmmsg -> header rewrite -> sendmmsg (bench/baseline/forwarder.c), extensions untouched",
            c_forwarder(),
            loadgen_args=EXTENSIONS,
        ),
        Forwarder(
            "engine",
            "Podium engine, plain RTP transports, header extensions forwarded unchanged",
            python_forwarder("bench.engine_forwarder"),
            loadgen_args=EXTENSIONS,
        ),
        Forwarder(
            "engine-rewrite",
            "Podium engine, header extensions rewritten per consumer (ids and MID of each subscriber)",
            python_forwarder("bench.engine_forwarder", "--rewrite-extensions"),
            loadgen_args=EXTENSIONS,
        ),
    )
}


def ratios(results: list[dict], cases: list[tuple[int, int]]) -> list[dict]:
    by_key = {(r["forwarder"], r["fanout"], r["size"]): r for r in results if "error" not in r}
    out = []
    for fanout, size in cases:
        rewrite, plain, c = (by_key.get((name, fanout, size), {}) for name in ("engine-rewrite", "engine", "c"))
        out.append(
            {
                "fanout": fanout,
                "size": size,
                "rewrite_over_plain_pps": ratio(rewrite.get("output_pps"), plain.get("output_pps")),
                "rewrite_over_plain_cpu_per_packet": ratio(
                    rewrite.get("cpu_ns_per_packet"), plain.get("cpu_ns_per_packet")
                ),
                "rewrite_over_c_pps": ratio(rewrite.get("output_pps"), c.get("output_pps")),
                "plain_over_c_pps": ratio(plain.get("output_pps"), c.get("output_pps")),
            }
        )
    return out


def print_tables(results: list[dict], case_ratios: list[dict]) -> None:
    print_results(results)
    print(
        f"{'fan-out':>7} {'size':>5} {'rewrite/plain pps':>17} {'rewrite/plain CPU/pkt':>21} "
        f"{'rewrite/C pps':>13} {'plain/C pps':>11}"
    )
    for r in case_ratios:
        print(
            f"{r['fanout']:>7} {r['size']:>5} {fmt(r['rewrite_over_plain_pps'], '>17.2f')} "
            f"{fmt(r['rewrite_over_plain_cpu_per_packet'], '>21.2f')} {fmt(r['rewrite_over_c_pps'], '>13.2f')} "
            f"{fmt(r['plain_over_c_pps'], '>11.2f')}"
        )
    print()


def headline(case_ratios: list[dict]) -> tuple[str, dict]:
    pick = next((r for r in case_ratios if (r["fanout"], r["size"]) == HEADLINE_CASE), case_ratios[0])
    cpu, pps = pick["rewrite_over_plain_cpu_per_packet"], pick["rewrite_over_plain_pps"]
    name = f"CPU time per forwarded packet, rewrite / plain engine, at fan-out {pick['fanout']}, {pick['size']} B"
    if cpu is None:
        return f"headline: {name} = n/a (a row failed)", {"name": name, "value": None}
    line = f"headline: {name} = {cpu:.2f} (output packets/s rewrite / plain = {fmt(pps, '.2f')})"
    return line, {"name": name, "value": cpu, "pps": pps, "fanout": pick["fanout"], "size": pick["size"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser, FORWARDERS, "1x1200,10x1200,50x1200,10x100")
    args = parser.parse_args(argv)
    run = Run.from_arguments("extension rewrite benchmark", parser, args, FORWARDERS, ALL_CASES, QUICK_CASES)
    results = run.measure()
    case_ratios = ratios(results, run.cases)
    print_tables(results, case_ratios)
    line, head = headline(case_ratios)
    run.finish("extension_rewrite", argv, results, {"ratios": case_ratios, "headline": head}, args.json)
    print(line, flush=True)
    return 1 if any("error" in r or r.get("failed_rounds") for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
