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
rewrite / plain engine and rewrite / C. Then the fast path alone, in this process, without syscalls
(`engine._testing.route_batch(..., send=False)`: parse, look up, rewrite, queue, per copy): CPU time
per copy, rewrite / plain, interleaved rounds, median, which the machine's other load barely moves.
The last line is the headline: CPU time per forwarded packet, rewrite / plain engine, at fan-out 10
with 1200-byte packets.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

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


BROWSER_VIDEO_BLOCK = bytes([0xBE, 0xDE, 0, 3, 0x40, ord("0"), 0x22, 1, 2, 3, 0x31, 0, 9, 0, 0, 0])
"""What `loadgen --extensions 1` writes: mid "0" (id 4), abs-send-time (id 2), transport-cc (id 3)."""


def fast_path(fanout: int, size: int, rounds: int = 15, repeat: int = 200) -> dict:
    """CPU ns per copy of the fast path alone, plain and rewriting, and their ratio (median round)."""
    from engine import Engine, _testing

    host, port = "127.0.0.1", 40000  # the injected source: nothing is ever sent (send=False)
    header = bytes([0x90, 96]) + bytes(6) + (1111).to_bytes(4, "big")
    batch = [header[:2] + i.to_bytes(2, "big") + header[4:] + BROWSER_VIDEO_BLOCK + bytes(size - 28) for i in range(64)]
    engines = {}
    for name, rewrite in (("plain", False), ("rewrite", True)):
        engine = Engine(host="127.0.0.1", port=0)
        router = engine.create_router()
        publisher = router.create_plain_transport(remote=(host, port))
        if rewrite:
            publisher.set_header_extensions(mid=4, abs_send_time=2, transport_cc=3)
        producer = publisher.produce(kind="video", ssrc=1111, payload_type=96)
        for i in range(fanout):
            subscriber = router.create_plain_transport(remote=("127.0.0.1", 41000 + i))
            if rewrite:
                subscriber.set_header_extensions(mid=1, abs_send_time=2, transport_cc=3)
            subscriber.consume(producer, mid=str(i))
        engines[name] = engine
    times: dict[str, list[float]] = {"plain": [], "rewrite": []}
    try:
        for _ in range(rounds):
            for name, engine in engines.items():
                start = time.process_time()
                _testing.route_batch(engine._core, batch, host, port, repeat, False)
                times[name].append((time.process_time() - start) / (len(batch) * repeat * fanout) * 1e9)
        rewritten = engines["rewrite"].stats()["ext_rewritten"]
    finally:
        for engine in engines.values():
            engine.close()
    plain, rewrite = statistics.median(times["plain"]), statistics.median(times["rewrite"])
    return {
        "fanout": fanout,
        "size": size,
        "plain_ns_per_copy": plain,
        "rewrite_ns_per_copy": rewrite,
        "rewrite_over_plain": rewrite / plain,
        "copies_rewritten": rewritten,
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
    alone = fast_path(*HEADLINE_CASE, rounds=3 if args.quick else 15)
    print(
        f"fast path alone (fan-out {alone['fanout']}, {alone['size']} B, no syscalls): CPU ns per copy plain "
        f"{alone['plain_ns_per_copy']:.0f}, rewrite {alone['rewrite_ns_per_copy']:.0f}, rewrite / plain = "
        f"{alone['rewrite_over_plain']:.2f}"
    )
    line, head = headline(case_ratios)
    extra = {"ratios": case_ratios, "fast_path": alone, "headline": head}
    run.finish("extension_rewrite", argv, results, extra, args.json)
    print(line, flush=True)
    return 1 if any("error" in r or r.get("failed_rounds") for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
