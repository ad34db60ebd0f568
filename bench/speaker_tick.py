"""The engine's dominant-speaker tick (engine/engine.py, contract/speaker.py): how long it holds the
loop, every 200 ms, with N meetings of two microphones each that send RFC 6464 levels, as browsers do.

    python -m bench.speaker_tick [--meetings 1,100,500] [--ticks 30]

Each tick first gives every microphone a tick's ten audio packets (injected into the core, no socket:
engine._testing.inject), all silent, or with the first microphone of every meeting talking; then
times Engine._speaker_tick alone. It prints the median tick, microseconds per microphone, the CPU
that is a second, and per microphone the ratio to the one-meeting level measured in the same run."""

from __future__ import annotations

import argparse
import statistics
import struct
import time

import uvloop

from engine import Engine, _testing

SILENT = 127
"""RFC 6464 -dBov of a silent frame."""
TALKING = 30
TICKS_PER_SECOND = 5


def audio(seq: int, level: int, ssrc: int) -> bytes:
    """An Opus-sized audio packet with its level in one-byte header extension id 1."""
    extension = struct.pack("!HH", 0xBEDE, 1) + bytes([0x10, level, 0, 0])
    return struct.pack("!BBHII", 0x90, 111, seq & 0xFFFF, 960 * seq, ssrc) + extension + bytes(50)


async def tick_seconds(meetings: int, ticks: int, talking: bool) -> float:
    """The median time of one speaker tick."""
    engine = Engine(host="127.0.0.1", port=0)
    await engine.start()
    engine._speaker_timer.cancel()  # ticked by hand
    try:
        microphones = []
        for i in range(meetings):
            router = engine.create_router()
            for k in range(2):
                remote = ("127.0.0.1", 20000 + (2 * i + k) % 40000)
                transport = router.create_plain_transport(remote=remote)
                transport.set_header_extensions(audio_level=1)
                transport.produce(kind="audio", ssrc=1000 + 2 * i + k, payload_type=111)
                microphones.append((remote, 1000 + 2 * i + k, talking and k == 0))
        times = []
        for tick in range(ticks):
            for remote, ssrc, loud in microphones:
                for frame in range(10):
                    packet = audio(tick * 10 + frame, TALKING if loud else SILENT, ssrc)
                    _testing.inject(engine._core, packet, *remote)
            start = time.perf_counter()
            engine._speaker_tick()
            times.append(time.perf_counter() - start)
            engine._speaker_timer.cancel()
        return statistics.median(times)
    finally:
        engine.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meetings", default="1,100,500", help="levels, comma-separated (the first is the baseline)")
    parser.add_argument("--ticks", type=int, default=30, help="ticks timed per level")
    args = parser.parse_args(argv)
    levels = [int(m) for m in args.meetings.split(",")]
    for talking in (False, True):
        base = None
        for meetings in levels:
            tick = uvloop.run(tick_seconds(meetings, args.ticks, talking))
            per_mic = tick / (2 * meetings) * 1e6
            base = base or per_mic
            print(
                f"{meetings:>5} meetings, {'one talking' if talking else 'all silent':<11}: tick {tick * 1e3:6.2f} ms, "
                f"{per_mic:5.1f} us per microphone ({per_mic / base:.2f} x {levels[0]} meeting), "
                f"{tick * TICKS_PER_SECOND * 1e3:5.1f} ms of CPU a second",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
