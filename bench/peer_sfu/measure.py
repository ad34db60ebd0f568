"""One measurement window of a meeting load through an SFU: packets forwarded per CPU-second of the
SFU's processes (from /proc), output packets/s, loss, one-way latency and resident memory.

Two generators: `measure_compiled` (the default: bench/baseline/meeting_media.c sends and receives over
the sockets aiortc keyed, see compiled_media) and `measure_python` (media.Sender: this Python process
sends through aiortc's SRTP sessions; kept to show what the generator itself cost before)."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from .compiled_media import CompiledMedia, latency_percentiles
from .loads import Load
from .media import AUDIO, AUDIO_RATE, FRAME_RATE, MAX_PAYLOAD, VIDEO, Sender, Stream

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
DRAIN = 0.5
"""Seconds to wait after the last packet before counting what arrived (for loss)."""


def cpu_seconds(pid: int | str) -> float:
    """utime + stime of a process, all its threads (/proc/<pid>/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


async def measure_python(load: Load, pids: dict[str, int], seconds: float, video_bitrate: int) -> dict[str, Any]:
    """Sends for a warm-up, waits until every stream flows, then measures for `seconds`."""
    sender = Sender(load.streams, video_bitrate)
    task = asyncio.ensure_future(sender.run())
    try:
        try:
            await load.wait_flowing()
        except TimeoutError:
            raise RuntimeError(f"streams not flowing: {load.missing()[:10]} ...") from None
        await asyncio.sleep(1.0)
        sent0 = [s.sent for s in load.streams]
        cpu0 = {name: cpu_seconds(pid) for name, pid in pids.items()}
        counts0 = dict(load.recorder.counts)
        own0, got0, late0, ticks0, t0 = (
            cpu_seconds("self"),
            load.recorder.total(),
            sender.late_ticks,
            sender.ticks,
            time.monotonic(),
        )
        await asyncio.sleep(seconds)
        t1 = time.monotonic()
        cpu1 = {name: cpu_seconds(pid) for name, pid in pids.items()}
        got1, own1 = load.recorder.total(), cpu_seconds("self")
        flowing = sum(1 for pair in load.shape.pairs() if load.recorder.counts.get(pair, 0) > counts0.get(pair, 0))
        sent1 = [s.sent for s in load.streams]
        late = sender.late_ticks - late0
        ticks = sender.ticks - ticks0
    finally:
        sender.running = False
        await task
    await asyncio.sleep(DRAIN)
    got2 = load.recorder.total()
    wall = t1 - t0
    expected = sum(
        (b - a) * load.shape.receivers(s.publisher) for s, a, b in zip(load.streams, sent0, sent1) if s.forwarded
    )
    sfu_cpu = cpu1["sfu"] - cpu0["sfu"]
    sent_pps = sum(b - a for a, b in zip(sent0, sent1)) / wall
    return {
        "seconds": wall,
        "streams_flowing": flowing,
        "input_pps": sent_pps,
        "target_input_pps": sender.target_pps(),
        "output_pps": (got1 - got0) / wall,
        "target_output_pps": sender.target_forwarded_pps() * (load.shape.size - 1),
        "loss": max(0.0, 1 - (got2 - got0) / expected) if expected else None,
        "sfu_cpu_s": sfu_cpu,
        "sfu_cpu_share": sfu_cpu / wall,
        "other_cpu_s": {name: cpu1[name] - cpu0[name] for name in pids if name != "sfu"},
        "packets_per_cpu_s": (got1 - got0) / sfu_cpu if sfu_cpu > 0 else None,
        "generator_cpu_share": (own1 - own0) / wall,
        "generator_late_ticks": late,
        "generator_bound": sent_pps < 0.95 * sender.target_pps() or late > ticks // 50,
        "foreign_packets": load.recorder.foreign,
        "send_errors": sum(s.errors for s in load.streams),
    }


def rss_kib(pid: int | str) -> int:
    """Resident memory of a process (VmRSS, KiB)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def wait_receivers_connected(load: Load, timeout: float = 30.0) -> None:
    """Until every participant's subscribe transport is hooked and its DTLS handshake is done."""
    expected = load.shape.rooms * load.shape.size
    async with asyncio.timeout(timeout):
        while len(load.recorder.receivers) < expected or any(
            dtls.state != "connected" for _, dtls, _ in load.recorder.receivers
        ):
            await asyncio.sleep(0.02)


def _delta(after: dict[Any, int], before: dict[Any, int]) -> dict[Any, int]:
    return {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)}


async def measure_compiled(
    load: Load,
    pids: dict[str, int],
    seconds: float,
    video_bitrate: int,
    drop_per_mille: int = 0,
    warmup: float = 1.0,
    receive: str = "tick",
) -> dict[str, Any]:
    """Starts the compiled sender, waits until every stream flows, warms up for `warmup` seconds,
    measures for `seconds`, then stops sending and counts what arrived by DRAIN seconds later."""
    await wait_receivers_connected(load)
    media = await CompiledMedia.start(
        load.streams, load.recorder.receivers, video_bitrate, drop_per_mille, receive=receive
    )
    pairs = load.shape.pairs()
    try:
        async with asyncio.timeout(30):
            while True:
                stats = await media.stats()
                if all(stats["received"].get(pair, 0) >= 3 for pair in pairs):
                    break
                await asyncio.sleep(0.05)
        await asyncio.sleep(warmup)
        s0, t0 = await media.stats(), time.monotonic()
        cpu0 = {name: cpu_seconds(pid) for name, pid in pids.items()}
        gen0, own0 = cpu_seconds(media.pid), cpu_seconds("self")
        await asyncio.sleep(seconds)
        s1, t1 = await media.stats(), time.monotonic()
        cpu1 = {name: cpu_seconds(pid) for name, pid in pids.items()}
        gen1, own1 = cpu_seconds(media.pid), cpu_seconds("self")
        rss = {name: rss_kib(pid) for name, pid in pids.items()}
        await media.pause()
        await asyncio.sleep(DRAIN)
        s2 = await media.stats()
    finally:
        await media.stop()
    # rates over the C program's own interval between the two snapshots: on a loaded machine this
    # process may read a snapshot late, and its clock would stretch the window
    wall = (s1["now_ns"] - s0["now_ns"]) / 1e9
    cpu_wall = t1 - t0
    sent = [b - a for a, b in zip(s0["sent"], s1["sent"])]
    sent_all = [b - a for a, b in zip(s0["sent"], s2["sent"])]
    layers = _delta(s2["layers"], s0["layers"])
    received_layers = _received_layers(layers)
    expected = _expected(load, sent_all, received_layers)
    got_window = sum(_delta(s1["received"], s0["received"]).values())
    got_all = sum(_delta(s2["received"], s0["received"]).values())
    flowing = sum(1 for pair in pairs if s1["received"].get(pair, 0) > s0["received"].get(pair, 0))
    sfu_cpu = cpu1["sfu"] - cpu0["sfu"]
    target = sum(_target_pps(s, video_bitrate) for s in load.streams)
    forwarded = sum(_target_pps(s, video_bitrate) for s in load.streams if s.forwarded)
    late = s1["late"] - s0["late"]
    p50, p99 = latency_percentiles(_delta(s2["latency_10us"], s0["latency_10us"]))
    return {
        "generator": "compiled",
        "seconds": wall,
        "streams_flowing": flowing,
        "input_pps": sum(sent) / wall,
        "target_input_pps": target,
        "output_pps": got_window / wall,
        "target_output_pps": forwarded * (load.shape.size - 1),
        "loss": max(0.0, 1 - got_all / expected) if expected else None,
        "latency_ms_p50": p50,
        "latency_ms_p99": p99,
        "sfu_cpu_s": sfu_cpu,
        "sfu_cpu_share": sfu_cpu / cpu_wall,
        "other_cpu_s": {name: cpu1[name] - cpu0[name] for name in pids if name != "sfu"},
        "rss_kib": rss,
        "packets_per_cpu_s": got_window / sfu_cpu if sfu_cpu > 0 else None,
        "generator_cpu_share": (gen1 - gen0) / cpu_wall,
        "driver_cpu_share": (own1 - own0) / cpu_wall,
        "generator_late_ticks": late,
        # late ticks alone are the scheduler's on a shared machine (the generator skips, never bursts):
        # bound means it sent too little, or it needed a core
        "generator_bound": sum(sent) / wall < 0.97 * target or (gen1 - gen0) / cpu_wall > 0.8,
        "foreign_packets": s2["foreign"],
        "auth_failures": s2["auth_failures"],
        "relayed": s2["relayed"] - s0["relayed"],
        # arrivals timed by the kernel's receive timestamp, or by when the generator read them
        "arrival_stamps": {"kernel": s2["kernel_stamped"], "read": s2["read_stamped"]},
        "send_errors": sum(s2["send_errors"]),
        "simulcast_layers_sent": len({s.layer for s in load.streams if s.kind == VIDEO}),
        # which layer each subscriber received of each camera (video packets per layer, 0 lowest)
        "layers_received": {
            str(layer): sum(n for (_, _, lr), n in layers.items() if lr == layer)
            for layer in sorted(received_layers.values())
        },
        "video_pairs_by_layer": {
            str(layer): sum(1 for v in received_layers.values() if v == layer)
            for layer in set(received_layers.values())
        },
        # what the receivers said back (meeting_media.c): transport-wide feedback and NACKs
        "feedback": {
            name: s2[name] - s0[name]
            for name in (
                "twcc_feedbacks",
                "twcc_reported",
                "nacks_sent",
                "nacked_packets",
                "repaired",
                "duplicates",
                "dropped",
                "padding",
                "feedback_errors",
                "reports_sent",
                "sender_reports",
            )
        },
    }


def _target_pps(stream: Stream, video_bitrate: int) -> float:
    """Packets/s the generator sends on the stream (meeting_media.c's packetization)."""
    if stream.kind == AUDIO:
        return AUDIO_RATE
    frame = max(1, video_bitrate // stream.share // 8 // FRAME_RATE)
    return FRAME_RATE * -(-frame // MAX_PAYLOAD)


def _received_layers(layers: dict[tuple[int, int, int], int]) -> dict[tuple[int, int], int]:
    """(receiver, publisher) → the video layer it received most packets of."""
    best: dict[tuple[int, int], tuple[int, int]] = {}
    for (receiver, publisher, layer), n in layers.items():
        if n > best.get((receiver, publisher), (-1, 0))[0]:
            best[(receiver, publisher)] = (n, layer)
    return {pair: layer for pair, (_, layer) in best.items()}


def _expected(load: Load, sent: list[int], received_layers: dict[tuple[int, int], int]) -> int:
    """Packets the subscribers should have received of what was sent: every audio packet, and of each
    camera the layer each subscriber received (the top one where it received none)."""
    by_layer = {(s.publisher, s.kind, s.layer): n for s, n in zip(load.streams, sent)}
    top = {s.publisher: s.layer for s in load.streams if s.kind == VIDEO and s.forwarded}
    expected = 0
    for receiver, publisher, kind in load.shape.pairs():
        if kind == AUDIO:
            expected += by_layer.get((publisher, AUDIO, 0), 0)
        else:
            layer = received_layers.get((receiver, publisher), top.get(publisher, 0))
            expected += by_layer.get((publisher, VIDEO, layer), 0)
    return expected
