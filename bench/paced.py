"""One paced case: a forwarder under a fixed offered load (bench/baseline/pacer.c, open loop, send
times in the payload) from one or many publishers, with the sink timing every copy it receives.

The setup is bench/harness.py's (the forwarder pinned alone on the last CPU, pacer and sink on the
others, a warm-up then a measured window, the same figures from /proc and the counter page), with two
differences: the load is a rate, not "as fast as the forwarder goes", and the sink keeps a histogram of
one-way latency (send time in the payload to the sink's receive time, same clock) over the window.
bench.engine_latency and bench.meeting_scale are built on it."""

from __future__ import annotations

import mmap
import os
import signal
import struct
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.harness import _COUNTERS, Child, Forwarder, _figures, _last_json, _sample, cpus

LATENCY_BUCKET_MS = 0.01
LATENCY_BUCKETS = 10000
"""As sink.c writes them: 10 µs buckets, the last one holds the rest."""


def cpu_ns(pid: int) -> int:
    """Nanoseconds on CPU of all a process's threads (/proc/PID/task/*/schedstat): exact, where
    /proc/PID/stat counts 10 ms ticks (too coarse for a light load over a few seconds)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pass  # a thread that just ended
    return total


def percentiles(histogram: list[int], quantiles: tuple[float, ...] = (0.5, 0.99)) -> list[float | None]:
    """Milliseconds (bucket upper edges) at each quantile of a sink.c latency histogram."""
    total = sum(histogram)
    out: list[float | None] = []
    for q in quantiles:
        if not total:
            out.append(None)
            continue
        rank, seen = q * total, 0
        for bucket, count in enumerate(histogram):
            seen += count
            if count and seen >= rank:
                out.append((bucket + 1) * LATENCY_BUCKET_MS)
                break
    return out


def run_paced(
    forwarder: Forwarder,
    publishers: int,
    subscribers: int,
    size: int,
    rate: float,
    warmup: float,
    window: float,
    binaries: dict[str, Path],
    pin: bool = True,
    frame: int = 1,
) -> dict[str, Any]:
    """`publishers` meetings (sources) whose `subscribers` sink sockets are split evenly among them,
    `rate` input packets/s in total; returns the harness's figures plus latency percentiles (or an "error")."""
    result: dict[str, Any] = {
        "forwarder": forwarder.name,
        "publishers": publishers,
        "subscribers": subscribers,
        "size": size,
        "rate": rate,
    }
    lifetime = int(warmup + window + forwarder.startup_timeout + 30)
    forwarder_cpus, helper_cpus = cpus(pin)
    sink = pacer = process = None
    shm_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
    with tempfile.NamedTemporaryFile(dir=shm_dir, prefix="podium-paced-") as page:
        page.write(bytes(_COUNTERS.size))
        page.flush()
        counters = mmap.mmap(page.fileno(), _COUNTERS.size)
        histogram_path = Path(page.name + ".latency")
        try:
            pacer = Child(
                [
                    str(binaries["pacer"]),
                    "--size",
                    str(size),
                    "--rate",
                    str(int(rate)),
                    "--sources",
                    str(publishers),
                    "--frame",
                    str(frame),
                    "--counters",
                    page.name,
                    "--max-seconds",
                    str(lifetime),
                ],
                helper_cpus,
                stdin=True,
            )
            sources = pacer.read_line(10).split()[1]
            process_started = time.monotonic()
            timed = False
            sink = Child(
                [
                    str(binaries["sink"]),
                    "--sockets",
                    str(subscribers),
                    "--size",
                    str(size),
                    "--counters",
                    page.name,
                    "--max-seconds",
                    str(lifetime),
                    "--latency",
                    str(histogram_path),
                ],
                helper_cpus,
                stdin=False,
            )
            dests = [int(p) for p in sink.read_line(10).split()[1].split(",")]
            process = Child(
                forwarder.command(binaries, sources, dests, lifetime),  # type: ignore[arg-type]
                forwarder_cpus,
            )
            port = int(process.read_line(forwarder.startup_timeout).split()[1])
            result["startup_seconds"] = round(time.monotonic() - process_started, 2)
            pacer.send_line(f"127.0.0.1 {port}")
            time.sleep(warmup)
            os.kill(sink.pid, signal.SIGUSR1)  # the sink's latency histogram starts now
            timed = True
            before = _sample(counters, process, pacer, sink, forwarder_cpus)
            on_cpu = cpu_ns(process.pid)
            time.sleep(window)
            after = _sample(counters, process, pacer, sink, forwarder_cpus)
            on_cpu = cpu_ns(process.pid) - on_cpu
            for child in (sink, pacer, process):
                if child.process.poll() is not None:
                    raise RuntimeError(f"{' '.join(child.argv[:3])} exited during the measurement" + child.error_tail())
            result.update(_figures(before, after, port, dests))
            output = after["sink_packets"] - before["sink_packets"]
            result["cpu_ns_per_packet_exact"] = on_cpu / output if output else None
            result["offered_output_pps"] = rate * subscribers / publishers
        except Exception as error:
            result["error"] = str(error)
        finally:
            if pacer is not None:
                pacer.stop()
            if process is not None:
                result["forwarder_counters"] = _last_json(process.stop())
            if sink is not None:
                sink.stop()
            counters.close()
            if histogram_path.exists():
                data = histogram_path.read_bytes()
                histogram = list(struct.unpack(f"<{len(data) // 8}Q", data))
                if "error" not in result and timed:
                    p50, p99 = percentiles(histogram)
                    result["latency_ms_p50"], result["latency_ms_p99"] = p50, p99
                    result["latency_samples"] = sum(histogram)
                histogram_path.unlink()
    return result
