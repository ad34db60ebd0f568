"""Two engine workers joined by a pipe, in one process, as a forwarder for the harness (bench/pipe_cost.py).

    python -m bench.pipe_forwarder --source PORT --dest PORT,PORT,... [--max-seconds S]

Worker A (an Engine on 127.0.0.1) receives the publisher (127.0.0.1:--source, SSRC 1111, plain RTP)
and consumes its producer on a pipe transport to worker B; worker B produces it from its pipe transport
to A and has one plain subscriber transport per destination consuming that: the path of a subscriber
on another worker than its publisher (control.meetings.pipes), built through the engine's public API
as the control plane's operations build it. Both engines run in this process, so its CPU time is both
workers' (the harness divides it by the packets the subscribers received). Prints "port N" (A's port)
once both tables are in force, and both engines' stats as one JSON line when stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal

from bench.engine_forwarder import INPUT_SSRC
from engine import Engine

PIPE_SSRC = 5555


async def main(args: argparse.Namespace) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signo in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signo, stop.set)

    a, b = Engine(host="127.0.0.1", port=0), Engine(host="127.0.0.1", port=0)
    await a.start()
    await b.start()
    meeting_a, meeting_b = a.create_router(), b.create_router()
    pipe_a = a.create_router().create_plain_transport(remote=b.address, pipe=True)
    pipe_b = b.create_router().create_plain_transport(remote=a.address, pipe=True)
    publisher = meeting_a.create_plain_transport(remote=("127.0.0.1", args.source))
    producer = publisher.produce(
        kind="video", ssrc=INPUT_SSRC, payload_type=96, app_data={"source": "camera"}, clock_rate=90000
    )
    pipe_a.consume(producer, ssrc=PIPE_SSRC)
    piped = pipe_b.produce(kind="video", ssrc=PIPE_SSRC, payload_type=96, clock_rate=90000)
    for port in (int(p) for p in args.dest.split(",")):
        meeting_b.create_plain_transport(remote=("127.0.0.1", port)).consume(piped)
    await a.wait_version(a.version)
    await b.wait_version(b.version)
    print(f"port {a.address[1]}", flush=True)
    try:
        await asyncio.wait_for(stop.wait(), args.max_seconds)
    except TimeoutError:
        pass
    stats = {"engine": a.stats(), "engine_b": b.stats(), "producer": producer.stats(), "piped": piped.stats()}
    a.close()
    b.close()
    print(json.dumps(stats, default=str), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=int, required=True, help="the publisher's UDP port on 127.0.0.1")
    parser.add_argument("--dest", required=True, help="subscribers' UDP ports on 127.0.0.1, comma-separated")
    parser.add_argument("--max-seconds", type=float, default=60.0)
    asyncio.run(main(parser.parse_args()))
