"""Event-loop fairness under a backlog: how late a 5 ms timer fires while the engine works off a burst.

    python -m bench.drain_fairness [--fanout 50] [--burst 1500] [--rounds 5] [--size 1200] [--json PATH]

The forwarding benchmarks feed the engine closed-loop, so its socket rarely holds more than one
receive batch; a real worker meets backlogs (a publisher's burst, a keyframe, the loop busy with a
DTLS handshake). This scenario makes one on purpose: one Engine in this process (public API only, as
bench/engine_forwarder.py builds it), one publisher and --fanout subscriber sockets on 127.0.0.1; each
round the publisher sends --burst RTP packets while the loop cannot run (so they all queue in the
engine's socket), then the loop runs and the engine forwards the backlog (burst x fan-out datagrams)
while a 5 ms asyncio timer keeps measuring how late it fires. Printed per round: the time to forward
the backlog, the timer's worst and mean lateness meanwhile, and the drains it took; each drain is one
uninterrupted stretch of the fast path (engine/io.pxi: its budget decides how long the loop waits).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import struct
import sys
import time
from pathlib import Path

from bench.engine_forwarder import INPUT_SSRC, PROBE_INTERVAL, probe_loop_lag
from engine import Engine

IDLE_BASELINE_SECONDS = 1.0


def _udp_drops(port: int) -> int:
    """Datagrams the kernel dropped at the local UDP socket on `port` (its receive buffer was full)."""
    total = 0
    for path in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    if int(parts[1].rsplit(":", 1)[1], 16) == port:
                        total += int(parts[-1])
        except OSError:
            pass
    return total


async def scenario(fanout: int, burst: int, rounds: int, size: int) -> dict:
    engine = Engine(host="127.0.0.1", port=0)
    await engine.start()
    publisher = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    publisher.bind(("127.0.0.1", 0))
    publisher.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
    sinks = []
    for _ in range(fanout):  # nobody reads them: once full, the kernel drops what the engine sends
        sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sink.bind(("127.0.0.1", 0))
        sinks.append(sink)
    router = engine.create_router()
    producer = router.create_plain_transport(remote=publisher.getsockname()).produce(
        kind="video", ssrc=INPUT_SSRC, payload_type=96, app_data={"source": "camera"}, clock_rate=90000
    )
    for sink in sinks:
        router.create_plain_transport(remote=sink.getsockname()).consume(producer)
    await engine.wait_version(engine.version)
    lags: list[float] = []
    probe = asyncio.create_task(probe_loop_lag(lags))
    await asyncio.sleep(0.05)
    lags.clear()  # baseline, same process and loop: the timer's lateness with the engine idle
    await asyncio.sleep(IDLE_BASELINE_SECONDS)
    idle = {
        "timer_late_max_ms": 1000 * max(lags, default=0.0),
        "timer_late_mean_ms": 1000 * sum(lags) / max(len(lags), 1),
        "timer_samples": len(lags),
    }

    payload = bytes(j & 0xFF for j in range(12, size))
    port = engine.address[1]
    results = []
    seq = 0
    for _ in range(rounds):
        before = engine.stats()
        drops_before = _udp_drops(port)
        for _ in range(burst):  # no await: the loop cannot run, the burst queues in the engine's socket
            publisher.sendto(
                struct.pack("!BBHII", 0x80, 96, seq & 0xFFFF, seq * 3000 & 0xFFFFFFFF, INPUT_SSRC) + payload,
                ("127.0.0.1", port),
            )
            seq += 1
        lags.clear()
        started = time.perf_counter()
        queued = burst - (_udp_drops(port) - drops_before)
        deadline = started + 30
        while engine.stats()["datagrams_in"] - before["datagrams_in"] < queued and time.perf_counter() < deadline:
            await asyncio.sleep(0.001)
        elapsed = time.perf_counter() - started
        after = engine.stats()
        await asyncio.sleep(2 * PROBE_INTERVAL)
        results.append(
            {
                "burst_queued": queued,
                "forwarded": after["packets_out"] - before["packets_out"],
                "seconds": elapsed,
                "timer_late_max_ms": 1000 * max(lags, default=0.0),
                "timer_late_mean_ms": 1000 * sum(lags) / max(len(lags), 1),
                "timer_samples": len(lags),
                "drains": after["drains"] - before["drains"],
                "recv_calls": after["recv_calls"] - before["recv_calls"],
            }
        )
        await asyncio.sleep(0.05)
    probe.cancel()
    engine.close()
    for s in (publisher, *sinks):
        s.close()
    return {"fanout": fanout, "burst": burst, "size": size, "idle": idle, "rounds": results}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fanout", type=int, default=50)
    parser.add_argument("--burst", type=int, default=1500, help="input packets queued at once (fit 4 MiB)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--size", type=int, default=1200)
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args(argv)
    report = asyncio.run(scenario(args.fanout, args.burst, args.rounds, args.size))
    print(
        f"fan-out {args.fanout}, bursts of {args.burst} x {args.size} B "
        f"({args.fanout * args.burst:,} datagrams out each)"
    )
    print(
        f"{'round':>5} {'queued':>6} {'sent':>8} {'ms':>7} {'late max ms':>11} {'late mean ms':>12} "
        f"{'drains':>6} {'sends/drain':>11}"
    )
    for i, r in enumerate(report["rounds"], 1):
        print(
            f"{i:>5} {r['burst_queued']:>6} {r['forwarded']:>8} {1000 * r['seconds']:>7.1f} "
            f"{r['timer_late_max_ms']:>11.1f} {r['timer_late_mean_ms']:>12.2f} {r['drains']:>6} "
            f"{r['forwarded'] / max(r['drains'], 1):>11,.0f}"
        )
    idle = report["idle"]
    print(
        f"{'idle':>5} {'':>6} {'':>8} {'':>7} {idle['timer_late_max_ms']:>11.1f} "
        f"{idle['timer_late_mean_ms']:>12.2f}   (baseline: the same timer with the engine idle)"
    )
    worst = max(r["timer_late_max_ms"] for r in report["rounds"])
    mean = sum(r["timer_late_mean_ms"] for r in report["rounds"]) / len(report["rounds"])
    ratio = mean / max(idle["timer_late_mean_ms"], 0.01)
    report["mean_lateness_over_idle"] = ratio
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"headline: timer lateness while forwarding a backlog: mean {mean:.2f} ms, worst {worst:.1f} ms; "
        f"mean / idle mean = {ratio:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
