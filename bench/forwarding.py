"""Forwarding benchmark: the engine against a C and a plain-Python forwarder, in one run.

    python -m bench.forwarding [--quick] [--json PATH] [--cases 10x1200,...] [--forwarders c,python,engine]

One publisher, fan-out 1, 10 and 50, 100-byte and 1200-byte RTP packets, on 127.0.0.1. The engine
runs as plain forwarding, simulcast, and simulcast with the extensions rewritten per consumer with and
without transport-cc (each subscriber transport numbering its packets into its send history: the
per-packet cost of bandwidth estimation, as a ratio "transport-cc on/off"). For every case
and forwarder it starts three processes: the sink (C, N subscriber sockets), the forwarder under test
and the load generator (C, one publisher), lets them run a warm-up, then measures a fixed window
(bench/harness.py: how, and the columns that check the forwarder was the bottleneck):

- output packets/s: datagrams the sink received per second (all N sockets);
- CPU time per forwarded packet: the forwarder process's user + system time over the window (from
  /proc/PID/stat), divided by those datagrams. On loopback the kernel delivers each datagram into the
  receiving socket in the sender's context, so this includes the delivery to the sink's sockets;

and prints them with the ratios engine / C baseline and engine / Python baseline per case. The last
line is the headline: engine / C output packets/s at fan-out 10 with 1200-byte packets.

Every row runs --rounds times (default 3), rows interleaved, so that background load hits all three
forwarders alike; the figures are those of each row's median round.

A new forwarder row is one more entry in FORWARDERS; bench/srtp_forwarding.py is the same benchmark
with SRTP rows.
"""

from __future__ import annotations

import argparse
import sys

from bench.harness import Forwarder, Run, add_arguments, c_forwarder, fmt, print_results, python_forwarder, ratio

HEADLINE_CASE = (10, 1200)
TARGET = 1.1
PACED_BPS = 1_000_000_000
"""The paced forwarder's rate per subscriber: above what one is sent here, as a subscriber's pacing
rate (2.5 times its estimate) is above what its layers need; the pacer holds bursts only."""
HELD_BPS = 100_000_000
"""The holding forwarder's: a 5 ms burst is 52 datagrams of 1200 bytes, less than a receive batch of
64, so copies of every batch are held and released on the pace timer."""
ALL_CASES = [(fanout, size) for fanout in (1, 10, 50) for size in (100, 1200)]
QUICK_CASES = [HEADLINE_CASE]

FORWARDERS: dict[str, Forwarder] = {
    f.name: f
    for f in (
        Forwarder(
            "c", "C baseline: recvmmsg -> header rewrite -> sendmmsg (bench/baseline/forwarder.c)", c_forwarder()
        ),
        Forwarder(
            "python",
            "Python baseline: asyncio DatagramProtocol + sendto (bench/baseline/asyncio_forwarder.py)",
            python_forwarder("bench.baseline.asyncio_forwarder"),
        ),
        Forwarder(
            "engine",
            "Podium engine, plain RTP transports, on uvloop as the worker runs (bench/engine_forwarder.py)",
            python_forwarder("bench.engine_forwarder"),
        ),
        Forwarder(
            "engine-asyncio",
            "diagnostic: the engine row on asyncio's own event loop (bench/engine_forwarder.py --asyncio-loop)",
            python_forwarder("bench.engine_forwarder", "--asyncio-loop"),
            default=False,
        ),
        Forwarder(
            "simulcast",
            "Podium engine, the track in three simulcast layers, consumers switched to the top one "
            "(bench/engine_forwarder.py --simulcast)",
            python_forwarder("bench.engine_forwarder", "--simulcast"),
        ),
        Forwarder(
            "simulcast-ext",
            "Podium engine, simulcast, extensions rewritten per consumer, subscribers without transport-cc "
            "(bench/engine_forwarder.py --simulcast --rewrite-extensions --no-transport-cc)",
            python_forwarder("bench.engine_forwarder", "--simulcast", "--rewrite-extensions", "--no-transport-cc"),
            loadgen_args=("--extensions", "1"),
            size_change=-4,  # the publisher's 16-byte block (mid, abs-send-time, transport-cc) less transport-cc
        ),
        Forwarder(
            "simulcast-twcc",
            "Podium engine, simulcast, extensions rewritten and each subscriber transport numbering its packets "
            "for transport-cc into its send history (bench/engine_forwarder.py --simulcast --rewrite-extensions)",
            python_forwarder("bench.engine_forwarder", "--simulcast", "--rewrite-extensions"),
            loadgen_args=("--extensions", "1"),
        ),
        Forwarder(
            "simulcast-twcc-paced",
            f"simulcast-twcc with each subscriber transport paced at {PACED_BPS // 1_000_000} Mbit/s, above what "
            "it is sent: the bucket pays for every datagram and holds only bursts past 5 ms of the rate "
            "(engine/pace.pxi; bench/engine_forwarder.py --simulcast --rewrite-extensions --pacing)",
            python_forwarder(
                "bench.engine_forwarder", "--simulcast", "--rewrite-extensions", "--pacing", str(PACED_BPS)
            ),
            loadgen_args=("--extensions", "1"),
        ),
        Forwarder(
            "simulcast-twcc-held",
            f"simulcast-twcc paced at {HELD_BPS // 1_000_000} Mbit/s per subscriber, below what it could be sent: "
            "copies of every receive batch are held, numbered as they leave on the pace timer (output capped by "
            "the rate; bench/engine_forwarder.py --simulcast --rewrite-extensions --pacing)",
            python_forwarder(
                "bench.engine_forwarder", "--simulcast", "--rewrite-extensions", "--pacing", str(HELD_BPS)
            ),
            loadgen_args=("--extensions", "1"),
            default=False,
        ),
        Forwarder(
            "c-gso",
            "diagnostic: the C baseline sending each destination's copies of a receive batch as UDP GSO runs "
            "(bench/baseline/forwarder.c --gso), as the engine sends by default",
            c_forwarder("--gso"),
            default=False,
        ),
        Forwarder(
            "c-engsock",
            "diagnostic: the C baseline on the engine's socket setup (dual-stack AF_INET6, registered in epoll)",
            c_forwarder("--ipv6", "--epoll"),
            default=False,
        ),
    )
}


def ratios(results: list[dict], cases: list[tuple[int, int]]) -> list[dict]:
    by_key = {(r["forwarder"], r["fanout"], r["size"]): r for r in results if "error" not in r}
    out = []
    for fanout, size in cases:
        engine, c, python, simulcast, ext, twcc, paced, held = (
            by_key.get((name, fanout, size), {})
            for name in (
                "engine",
                "c",
                "python",
                "simulcast",
                "simulcast-ext",
                "simulcast-twcc",
                "simulcast-twcc-paced",
                "simulcast-twcc-held",
            )
        )
        out.append(
            {
                "fanout": fanout,
                "size": size,
                "engine_over_c_pps": ratio(engine.get("output_pps"), c.get("output_pps")),
                "simulcast_over_c_pps": ratio(simulcast.get("output_pps"), c.get("output_pps")),
                "simulcast_over_engine_cpu_per_packet": ratio(
                    simulcast.get("cpu_ns_per_packet"), engine.get("cpu_ns_per_packet")
                ),
                "twcc_over_c_pps": ratio(twcc.get("output_pps"), c.get("output_pps")),
                "paced_over_twcc_pps": ratio(paced.get("output_pps"), twcc.get("output_pps")),
                "paced_over_twcc_cpu_per_packet": ratio(paced.get("cpu_ns_per_packet"), twcc.get("cpu_ns_per_packet")),
                "held_over_twcc_cpu_per_packet": ratio(held.get("cpu_ns_per_packet"), twcc.get("cpu_ns_per_packet")),
                "twcc_over_ext_cpu_per_packet": ratio(twcc.get("cpu_ns_per_packet"), ext.get("cpu_ns_per_packet")),
                "twcc_over_engine_cpu_per_packet": ratio(
                    twcc.get("cpu_ns_per_packet"), engine.get("cpu_ns_per_packet")
                ),
                "engine_over_python_pps": ratio(engine.get("output_pps"), python.get("output_pps")),
                "engine_over_c_cpu_per_packet": ratio(engine.get("cpu_ns_per_packet"), c.get("cpu_ns_per_packet")),
                "engine_over_python_cpu_per_packet": ratio(
                    engine.get("cpu_ns_per_packet"), python.get("cpu_ns_per_packet")
                ),
            }
        )
    return out


def print_tables(results: list[dict], case_ratios: list[dict]) -> None:
    print_results(results)
    print(
        f"{'fan-out':>7} {'size':>5} {'engine/C pps':>12} {'engine/Py pps':>13} "
        f"{'engine/C CPU/pkt':>16} {'engine/Py CPU/pkt':>17} {'simulcast/C pps':>15} {'simulcast/engine CPU/pkt':>24}"
    )
    for r in case_ratios:
        print(
            f"{r['fanout']:>7} {r['size']:>5} {fmt(r['engine_over_c_pps'], '>12.2f')} "
            f"{fmt(r['engine_over_python_pps'], '>13.2f')} {fmt(r['engine_over_c_cpu_per_packet'], '>16.2f')} "
            f"{fmt(r['engine_over_python_cpu_per_packet'], '>17.2f')} {fmt(r.get('simulcast_over_c_pps'), '>15.2f')} "
            f"{fmt(r.get('simulcast_over_engine_cpu_per_packet'), '>24.2f')}"
        )
    print(
        f"{'fan-out':>7} {'size':>5} {'simulcast+twcc/C pps':>20} {'twcc on/off CPU/pkt':>19} "
        f"{'simulcast+twcc/plain engine CPU/pkt':>35} {'paced/unpaced pps':>17} {'paced/unpaced CPU/pkt':>21} "
        f"{'held/unpaced CPU/pkt':>20}"
    )
    for r in case_ratios:
        print(
            f"{r['fanout']:>7} {r['size']:>5} {fmt(r.get('twcc_over_c_pps'), '>20.2f')} "
            f"{fmt(r.get('twcc_over_ext_cpu_per_packet'), '>19.2f')} "
            f"{fmt(r.get('twcc_over_engine_cpu_per_packet'), '>35.2f')} "
            f"{fmt(r.get('paced_over_twcc_pps'), '>17.2f')} {fmt(r.get('paced_over_twcc_cpu_per_packet'), '>21.2f')} "
            f"{fmt(r.get('held_over_twcc_cpu_per_packet'), '>20.2f')}"
        )
    print()


def headline(case_ratios: list[dict], results: list[dict]) -> tuple[str, dict]:
    pick = next((r for r in case_ratios if (r["fanout"], r["size"]) == HEADLINE_CASE), case_ratios[0])
    value = pick["engine_over_c_pps"]
    text = f"engine/C output pps at fan-out {pick['fanout']}, {pick['size']} B = "
    if value is None:
        failed = [
            r
            for r in results
            if r["forwarder"] in ("engine", "c")
            and "error" in r
            and (r["fanout"], r["size"]) == (pick["fanout"], pick["size"])
        ]
        reason = failed[0]["error"].splitlines()[0] if failed else "not measured"
        return f"headline: {text}n/a ({reason})", {"name": text.strip(" ="), "value": None}
    verdict = "meets" if value >= TARGET else "below"
    cpu = pick["engine_over_c_cpu_per_packet"]
    line = f"headline: {text}{value:.2f} ({verdict} the {TARGET} target; CPU time per packet engine/C = {cpu:.2f})"
    simulcast = pick.get("simulcast_over_c_pps")
    if simulcast is not None:
        line += (
            f"; simulcast/C output pps = {simulcast:.2f}, simulcast/plain engine CPU per packet = "
            f"{fmt(pick.get('simulcast_over_engine_cpu_per_packet'), '.2f')}"
        )
    twcc = pick.get("twcc_over_c_pps")
    if twcc is not None:
        line += (
            f"; simulcast with transport-cc numbering/C output pps = {twcc:.2f}, CPU per packet transport-cc "
            f"on/off = {fmt(pick.get('twcc_over_ext_cpu_per_packet'), '.2f')}, vs plain engine = "
            f"{fmt(pick.get('twcc_over_engine_cpu_per_packet'), '.2f')}"
        )
    paced = pick.get("paced_over_twcc_cpu_per_packet")
    if paced is not None:
        line += (
            f"; paced/unpaced (simulcast-twcc) CPU per packet = {paced:.2f}, output pps = "
            f"{fmt(pick.get('paced_over_twcc_pps'), '.2f')}"
        )
    return line, {
        "name": text.strip(" ="),
        "value": value,
        "target": TARGET,
        "fanout": pick["fanout"],
        "size": pick["size"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser, FORWARDERS, "1,10,50 x 100,1200")
    args = parser.parse_args(argv)
    run = Run.from_arguments("forwarding benchmark", parser, args, FORWARDERS, ALL_CASES, QUICK_CASES)
    results = run.measure()
    case_ratios = ratios(results, run.cases)
    print_tables(results, case_ratios)
    line, head = headline(case_ratios, results)
    run.finish("forwarding", argv, results, {"ratios": case_ratios, "headline": head}, args.json)
    print(line, flush=True)
    return 1 if any("error" in r or r.get("failed_rounds") for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
