"""CPU time an engine spends per second with N meetings and no traffic: its periodic work per meeting
(the bandwidth, speaker and REMB ticks), which the meeting-scale benchmark sees as CPU per packet.

    python -m bench.idle_cost [--meetings 1,1000] [--seconds 5]

Each meeting is a router with one plain-RTP publisher (a video producer) and two subscribers, as in
bench/meeting_scale.py; the engine runs on uvloop, as the worker does, and the figure is the process's
CPU time over the window after a settling second. Each level also prints how long one bandwidth pass
(Core.bandwidth_report, engine/bitrates.pxi) holds the loop: the median of PASSES, timed after the
window."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import uvloop

from engine import Engine

SETTLE = 1.5
"""Seconds before the window: the first bandwidth period sees every router once."""
PASSES = 21


async def idle_ms_per_second(meetings: int, seconds: float) -> tuple[float, float]:
    """(CPU ms a second, idle; µs of one bandwidth pass)."""
    engine = Engine(host="127.0.0.1", port=0)
    await engine.start()
    try:
        for i in range(meetings):
            router = engine.create_router()
            remote = ("127.0.0.1", 20000 + i % 30000)
            producer = router.create_plain_transport(remote=remote).produce(
                kind="video", ssrc=1111 + i, payload_type=96
            )
            for k in range(2):
                router.create_plain_transport(remote=("127.0.0.1", 21000 + (2 * i + k) % 30000)).consume(producer)
        await asyncio.sleep(SETTLE)
        start = time.process_time()
        await asyncio.sleep(seconds)
        idle = (time.process_time() - start) / seconds * 1000
        passes = []
        for _ in range(PASSES):
            began = time.perf_counter()
            engine._core.bandwidth_report()
            passes.append(time.perf_counter() - began)
        return idle, statistics.median(passes) * 1e6
    finally:
        engine.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meetings", default="1,1000", help="levels, comma-separated")
    parser.add_argument("--seconds", type=float, default=5.0, help="window per level")
    args = parser.parse_args(argv)
    for meetings in (int(m) for m in args.meetings.split(",")):
        figure, bandwidth_pass = uvloop.run(idle_ms_per_second(meetings, args.seconds))
        print(
            f"{meetings:>6} meetings (bandwidth pass {bandwidth_pass:.0f} us), idle: {figure:.2f} ms of CPU a second",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
