"""The engine under test as a forwarder process, built only through its public API (docs/engine-api.md).

    python -m bench.engine_forwarder --source PORT --dest PORT,PORT,... [--max-seconds S] [--srtp PROFILE]
        [--rewrite-extensions [--no-transport-cc]] [--simulcast] [--no-gso] [--pacing BPS] [--lag-probe S]
        [--flush-sends N]

One Engine on 127.0.0.1 with one router: a plain transport whose remote is the publisher
(127.0.0.1:--source) producing one video track (SSRC 1111, the load generator's), and one plain
transport per destination, each consuming that producer. With several --source ports (bench.meeting_scale),
one router per source, a meeting each: publisher i's producer has SSRC 1111 + i (bench/baseline/pacer.c)
and the destinations are split evenly among them, in order. With --srtp (RFC 5764 profile number: 7 GCM,
1 SHA1-80, 2 SHA1-32) every transport is SRTP, keyed with the benchmark's fixed keys (bench/srtp.py):
the publisher's remote key is the load generator's, subscriber i's local key the one the benchmark
decrypts the sink's samples with. With --rewrite-extensions every transport is told its header
extension ids as a browser meeting's would be (the publisher's: mid 4, abs-send-time 2, transport-cc 3,
as bench.loadgen --extensions 1 writes them; each subscriber's: our offer's, mid 1, abs-send-time 2,
transport-cc 3) and each consumer its own MID, so every copy is rewritten (engine/extensions.pxi), and
each subscriber transport numbers every packet it is sent with its own transport-wide sequence number
into its send history (engine/twcc.pxi); --no-transport-cc leaves transport-cc out of the subscribers'
ids: the same rewrite without that numbering.
With --simulcast the track is a simulcast one: three layer producers
(codec VP9, whose descriptor the load generator's payload bytes happen to open as a keyframe), the
load on the top one; every consumer starts on the silent lowest layer and is switched to the top one
at its keyframe (engine/simulcast.pxi), so it forwards the top layer like a subscriber that shows the
track large. Prints "port N" once the forwarding table is
in force, and engine.stats() as one JSON line when stopped (SIGTERM, SIGINT or --max-seconds), with
"loop_lag_ms": how late a 5 ms asyncio timer fired (at most, on average) while the fast path forwarded:
how long timers, control-plane updates and signals waited for the loop (--lag-probe 0: not measured;
the probe's own wake-ups, 200 a second, cost ~25 ms of CPU a second, which bench.meeting_scale must
not count as the engine's).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal

import uvloop

from bench import srtp
from engine import Engine, _testing

INPUT_SSRC = 1111
PROBE_INTERVAL = 0.005


async def probe_loop_lag(lags: list[float], interval: float = PROBE_INTERVAL) -> None:
    loop = asyncio.get_running_loop()
    while True:
        start = loop.time()
        await asyncio.sleep(interval)
        lags.append(loop.time() - start - interval)


async def main(args: argparse.Namespace) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signo in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signo, stop.set)

    engine = Engine(host="127.0.0.1", port=args.port, gso=args.gso)
    if args.flush_sends is not None:
        _testing.set_flush_sends(engine._core, args.flush_sends)
    await engine.start()
    sources = [int(p) for p in str(args.source).split(",")]
    dests = [int(p) for p in args.dest.split(",")]
    if len(dests) % len(sources):
        raise SystemExit("--dest must hold the same number of subscribers for every --source")
    per_meeting = len(dests) // len(sources)
    codec = "vp9" if args.simulcast else None
    producers, consumers, publishers = [], [], []
    for meeting, source in enumerate(sources):  # one router per meeting, as the control plane makes them
        router = engine.create_router()
        publisher = router.create_plain_transport(remote=("127.0.0.1", source))
        if args.rewrite_extensions:
            publisher.set_header_extensions(mid=4, abs_send_time=2, transport_cc=3)
        producer = publisher.produce(
            kind="video",
            ssrc=INPUT_SSRC + meeting,
            payload_type=96,
            app_data={"source": "camera"},
            clock_rate=90000,
            codec=codec,
        )
        if args.srtp is not None:
            publisher.set_srtp(
                args.srtp, srtp.key_salt("engine-to-publisher", 0, args.srtp), srtp.key_salt("publisher", 0, args.srtp)
            )
        lowest = producer
        if args.simulcast:  # two lower layers, silent (the load generator sends the top one)
            lowest, _ = (
                publisher.produce(
                    kind="video",
                    ssrc=INPUT_SSRC + meeting + 0x10000 * n,
                    payload_type=96,
                    clock_rate=90000,
                    codec=codec,
                )
                for n in (1, 2)
            )
        for index in range(meeting * per_meeting, (meeting + 1) * per_meeting):
            subscriber = router.create_plain_transport(remote=("127.0.0.1", dests[index]))
            if args.srtp is not None:
                subscriber.set_srtp(
                    args.srtp,
                    srtp.key_salt("subscriber", index, args.srtp),
                    srtp.key_salt("subscriber-to-engine", index, args.srtp),
                )
            if args.rewrite_extensions:
                subscriber.set_header_extensions(
                    mid=1, abs_send_time=2, transport_cc=None if args.no_transport_cc else 3
                )
            if args.pacing:
                subscriber.set_pacing(args.pacing)
            consumer = subscriber.consume(lowest, mid=str(index))
            if lowest is not producer:
                consumer.switch(producer, at_keyframe=True)
            consumers.append(consumer)
        producers.append(producer)
        publishers.append(publisher)
    producer, publisher = producers[0], publishers[0]
    await engine.wait_version(engine.version)
    lags: list[float] = []
    probe = asyncio.create_task(probe_loop_lag(lags, args.lag_probe)) if args.lag_probe > 0 else None
    print(f"port {engine.address[1]}", flush=True)

    try:
        await asyncio.wait_for(stop.wait(), args.max_seconds)
    except TimeoutError:
        pass
    if probe is not None:
        probe.cancel()
    stats = {
        "engine": engine.stats(),
        "producer": producer.stats(),
        "publisher": publisher.stats(),
        "loop_lag_ms": {"max": 1000 * max(lags, default=0.0), "mean": 1000 * sum(lags) / max(len(lags), 1)},
    }
    if consumers:
        stats["consumer0"] = consumers[0].stats()
    engine.close()
    print(json.dumps(stats, default=str), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--source",
        required=True,
        help="the publisher's UDP port on 127.0.0.1; several, comma-separated: one meeting (router) each",
    )
    parser.add_argument(
        "--dest",
        required=True,
        help="subscribers' UDP ports on 127.0.0.1, comma-separated (with several sources: split evenly, in order)",
    )
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--max-seconds", type=float, default=60.0)
    parser.add_argument(
        "--srtp", type=int, choices=sorted(srtp.PROFILES), help="SRTP profile of every transport (default: plain RTP)"
    )
    parser.add_argument(
        "--rewrite-extensions", action="store_true", help="rewrite header extensions per consumer (see above)"
    )
    parser.add_argument(
        "--no-transport-cc", action="store_true", help="with --rewrite-extensions: subscribers without transport-cc"
    )
    parser.add_argument("--simulcast", action="store_true", help="a three-layer simulcast track (see above)")
    parser.add_argument(
        "--lag-probe",
        type=float,
        default=PROBE_INTERVAL,
        help="seconds between two loop-lag probes (0: none, loop_lag_ms stays 0)",
    )
    parser.add_argument(
        "--flush-sends",
        type=int,
        help="copies queued that flush the send queue mid-batch (engine/io.pxi; default the engine's "
        "FLUSH_SENDS; 0: only after each receive batch, as before issue 16)",
    )
    parser.add_argument("--no-gso", dest="gso", action="store_false", help="send without UDP GSO (engine/gso.pxi)")
    parser.add_argument(
        "--pacing", type=int, default=0, help="pace every subscriber's video at this many bit/s (engine/pace.pxi)"
    )
    parser.add_argument(
        "--asyncio-loop",
        action="store_true",
        help="run on asyncio's own event loop instead of uvloop, which the engine worker runs on",
    )
    args = parser.parse_args()
    if args.asyncio_loop:
        asyncio.run(main(args))
    else:
        uvloop.run(main(args))
