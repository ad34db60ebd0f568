"""Revoke latency: from the REST call that revokes a microphone to the last packet of it the engine forwards.

    python -m bench.revoke_latency [--quick] [--json PATH] [--meetings 20] [--revocations 200] [--span]

Starts `podium serve` (uvicorn + its engine worker over the engine channel) on 127.0.0.1 with a
private data directory, opens --meetings meetings of 3 participants each (the organizer and two users)
and has every participant publish a microphone and subscribe to the two others: real signaling,
ICE-lite and DTLS-SRTP through aiortc, then synthetic SRTP packets at --rate packets/s per publisher
(bench/meeting_load.py: no Opus encoder, no jitter buffer). The peers of --watched meetings run in this
process, where the revocations are measured; those of the other meetings in a background process
(`python -m bench.meeting_load`), so that their packets do not delay this process's clock readings.

Then --revocations times, one after another, cycling over the watched meetings and their two non-organizers:

1. the target's publisher sends every --probe-interval (1 ms) instead of every 1/--rate s, and the
   benchmark waits until both other participants receive those packets;
2. baselines, at the same moment: GET /api/v1/meetings/{id} as the organizer (a cheap authenticated
   API round trip, same HTTP client: the headline's ratio), GET /metrics (HTTP alone: no
   authentication, no database) and one pause/resume_producer through a separate in-process engine
   channel to a worker of its own (bench/channel_floor.py: the channel alone, no HTTP, no database);
3. POST /api/v1/meetings/{id}/actions {"action": "revoke_permission", "capability": "microphone"} as
   the organizer; the reply comes once the engine worker acked the version that closes the gate;
4. the publisher keeps sending for --after ms after the reply, then the benchmark checks what arrived.

Per revocation it records:

- revoke latency (the headline): arrival time of the last forwarded packet of the revoked producer, at
  either subscriber, minus the time the API call was issued (one time.monotonic in this process);
- API call: call issued → 200 received (includes the engine's ack);
- gate bracket: the send times of the last forwarded and the first dropped packet, minus the call
  time: the gate closed in between (resolution: the probe interval, more when this process waits for
  a CPU: the "resolution" row);
- stopped: no packet the publisher sent after the 200 arrived at any subscriber (the guarantee of
  docs/signaling.md), and packets were sent after it (so a gate left open would have been seen).

With --span the meeting spans two workers (`podium serve --workers 2 --worker-capacity 2`, one
meeting): its third participant is on the second worker, so each revocation stops a source whose
subscribers are on both workers, one of them behind a pipe, and the revoke latency is to the last
packet forwarded by either worker.

The permission is then granted again and the participant turns its microphone back on (signaling
`set-source`), so the next revocation of it starts from a forwarding producer. The last line is the
headline: revoke latency p99 against the 5 ms target and against the baseline's p99.

Where the API call's time goes, from the control plane's own histograms (GET /metrics just before
and after each revoke, so each holds exactly that call): podium_engine_apply_seconds (endpoint entered →
engine ack) and podium_moderation_seconds (endpoint entered → audit entry written); the rest of the call
is HTTP, routing and authentication. Every revocation is in the --json report.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.channel_floor import ChannelFloor
from bench.harness import Child, _last_json
from bench.meeting_load import LightPeer, Load, Meeting, PodiumServer, Probe, loopback_only

TARGET_MS = 5.0


@dataclass
class Sample:
    meeting: int
    target: str
    revoke_ms: float
    """last forwarded packet's arrival − call issued."""
    api_ms: float
    """call issued → 200."""
    baseline_ms: float
    http_only_ms: float
    channel_ms: float
    """one pause/resume_producer through a separate in-process engine channel: apply → ack, no HTTP."""
    """GET /metrics round trip: the HTTP stack with a bearer-token check, no database query."""
    gate_after_ms: float
    """send time of the last forwarded packet − call issued (the gate was still open then)."""
    gate_before_ms: float | None
    """send time of the first dropped packet − call issued (the gate was closed then)."""
    sent_after_reply: int
    leaked: int
    """packets sent after the 200 that a subscriber still received (must be 0)."""
    stopped: bool
    version: int | None
    server_to_ack_ms: float | None = None
    """the control plane's own figure: endpoint entered → engine ack (podium_engine_apply_seconds)."""
    server_total_ms: float | None = None
    """endpoint entered → action done, audit entry written (podium_moderation_seconds)."""


def percentile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(values: list[float]) -> dict[str, Any]:
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p99": percentile(values, 99),
        "mean": statistics.fmean(values) if values else None,
        "max": max(values) if values else None,
    }


def _metric_totals(text: str) -> dict[str, float]:
    totals: dict[str, float] = {}
    for line in text.splitlines():
        match = re.match(r"^(podium_(?:moderation|engine_apply)_seconds_(?:sum|count|bucket))(\{[^}]*\})? (\S+)$", line)
        if match:
            totals[match.group(1) + (match.group(2) or "")] = float(match.group(3))
    return totals


def _deltas(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """ms of the one observation each histogram got between two scrapes (absent if not exactly one);
    the engine apply histogram gets one per worker of a spanning meeting (--span): their mean."""
    out = {}
    for name, most in (("podium_moderation_seconds", 1), ("podium_engine_apply_seconds", 2)):
        count = after.get(name + "_count", 0) - before.get(name + "_count", 0)
        if 1 <= count <= most:
            out[name] = 1000 * (after[name + "_sum"] - before.get(name + "_sum", 0)) / count
    return out


def breakdown(before: dict[str, float], after: dict[str, float]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("podium_moderation_seconds", "podium_engine_apply_seconds"):
        count = after.get(name + "_count", 0) - before.get(name + "_count", 0)
        total = after.get(name + "_sum", 0) - before.get(name + "_sum", 0)
        buckets = []
        for key, value in after.items():
            match = re.match(re.escape(name) + r'_bucket\{le="([^"]+)"\}', key)
            if match:
                buckets.append((float(match.group(1)), value - before.get(key, 0)))
        buckets.sort()
        p99_bound = next((bound for bound, cumulative in buckets if count and cumulative >= 0.99 * count), None)
        out[name] = {
            "count": count,
            "mean_ms": 1000 * total / count if count else None,
            "p99_bucket_ms": 1000 * p99_bound if p99_bound is not None else None,
        }
    return out


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its children's threads (its worker subprocess)."""
    total = 0.0
    pids = [pid]
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            pids += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
    for p in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


class Bench:
    """The watched meetings (in this process) and the revocations on them."""

    def __init__(self, args: argparse.Namespace, server: PodiumServer) -> None:
        self.args = args
        self.server = server
        self.load = Load(server, args.rate, args.size)
        self.recorder = self.load.recorder
        self.floor = ChannelFloor()

    @property
    def meetings(self) -> list[Meeting]:
        return self.load.meetings

    # ---- one revocation -----------------------------------------------------------------------

    async def _probe(self, peer: LightPeer) -> None:
        interval = self.args.probe_interval / 1000
        while True:
            await peer.send()
            await asyncio.sleep(interval)

    async def revoke_once(self, client: httpx.AsyncClient, m: int, target: LightPeer) -> Sample:
        meeting = self.meetings[m]
        subscribers = [p.index for p in meeting.peers if p is not target]
        probe = Probe(target.index)
        self.recorder.probes[target.index] = probe
        prober = asyncio.ensure_future(self._probe(target))
        try:
            async with asyncio.timeout(5):
                while not all(len(probe.arrivals[s]) >= 3 for s in subscribers):
                    await asyncio.sleep(0.002)
            channel_s = await self.floor.gate_op()
            b0 = time.monotonic()
            response = await client.get(f"/api/v1/meetings/{meeting.id}")
            b1 = time.monotonic()
            response.raise_for_status()
            m0 = time.monotonic()
            metrics_before = _metric_totals((await client.get("/metrics", headers=self.server.metrics_headers)).text)
            m1 = time.monotonic()
            await asyncio.sleep(0.003)
            if self.args.via == "signaling":  # the organizer's already authenticated WebSocket
                t0 = time.monotonic()
                reply = await meeting.peers[0].participant.moderate(
                    "revoke_permission", target=target.id, capability="microphone"
                )
                t1 = time.monotonic()
            else:
                t0 = time.monotonic()
                response = await client.post(
                    f"/api/v1/meetings/{meeting.id}/actions",
                    json={"action": "revoke_permission", "target": target.id, "capability": "microphone"},
                )
                t1 = time.monotonic()
                response.raise_for_status()
                reply = response.json()
            version = reply.get("version")
            await asyncio.sleep(self.args.after / 1000)
        finally:
            prober.cancel()
            await asyncio.gather(prober, return_exceptions=True)
        await asyncio.sleep(0.02)  # stragglers on the loopback
        del self.recorder.probes[target.index]
        server = _deltas(
            metrics_before, _metric_totals((await client.get("/metrics", headers=self.server.metrics_headers)).text)
        )

        # packets of the normal stream sent before the probe began are not the probe's (not in probe.sent)
        arrivals = [(seq, at) for s in subscribers for seq, at in probe.arrivals[s] if seq in probe.sent]
        strays = [seq for s in subscribers for seq, _ in probe.arrivals[s] if seq not in probe.sent]
        if strays and max(strays) > min(probe.sent):
            print(
                f"warning: {target.id}: packets {strays} arrived but were not sent during the probe "
                f"({min(probe.sent)}..{max(probe.sent)})",
                file=sys.stderr,
            )
        last_seq, last_at = max(arrivals, key=lambda a: a[1])
        forwarded_max = max(seq for seq, _ in arrivals)
        first_dropped = min((seq for seq in probe.sent if seq > forwarded_max), default=None)
        sent_after = sum(1 for at in probe.sent.values() if at > t1)
        leaked = sum(1 for seq, _ in arrivals if probe.sent.get(seq, 0) > t1)
        sample = Sample(
            meeting=m,
            target=target.id,
            revoke_ms=1000 * (last_at - t0),
            api_ms=1000 * (t1 - t0),
            baseline_ms=1000 * (b1 - b0),
            http_only_ms=1000 * (m1 - m0),
            channel_ms=1000 * channel_s,
            gate_after_ms=1000 * (probe.sent[forwarded_max] - t0),
            gate_before_ms=1000 * (probe.sent[first_dropped] - t0) if first_dropped is not None else None,
            sent_after_reply=sent_after,
            leaked=leaked,
            stopped=leaked == 0 and sent_after > 0,
            version=version,
            server_to_ack_ms=server.get("podium_engine_apply_seconds"),
            server_total_ms=server.get("podium_moderation_seconds"),
        )

        # back to forwarding: grant again, the participant turns the microphone on
        response = await client.post(
            f"/api/v1/meetings/{meeting.id}/actions",
            json={"action": "grant_permission", "target": target.id, "capability": "microphone"},
        )
        response.raise_for_status()
        await target.participant.request({"type": "set-source", "source": "microphone", "on": True})
        return sample

    async def revocations(self) -> list[Sample]:
        samples = []
        headers = {"Authorization": f"Bearer {self.load.token}"}
        async with httpx.AsyncClient(base_url=self.server.url, headers=headers, timeout=15) as client:
            await client.get(f"/api/v1/meetings/{self.meetings[0].id}")  # open the keep-alive connection
            for i in range(self.args.revocations):
                m = i % len(self.meetings)
                target = self.meetings[m].peers[1 + (i // len(self.meetings)) % 2]
                samples.append(await self.revoke_once(client, m, target))
        return samples


async def run(args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    loopback_only()
    started = time.monotonic()
    if args.span:  # two workers; a worker takes two participants, so each meeting's third spills
        server = await asyncio.to_thread(
            lambda: PodiumServer.start(data_dir, local_workers=2, options=("--worker-capacity", "2"))
        )
    else:
        server = await asyncio.to_thread(PodiumServer.start, data_dir)
    bench = Bench(args, server)
    spanned: list[list[str]] = []
    watched = min(args.watched, args.meetings)
    background: Child | None = None
    background_report: dict[str, Any] | None = None
    try:
        async with asyncio.timeout(args.max_seconds):
            if args.meetings > watched:
                background = Child(
                    [
                        sys.executable,
                        "-m",
                        "bench.meeting_load",
                        "--url",
                        server.url,
                        "--meetings",
                        str(args.meetings - watched),
                        "--rate",
                        str(args.rate),
                        "--size",
                        str(args.size),
                        "--max-seconds",
                        str(args.max_seconds),
                    ],
                    None,
                )
            await bench.floor.start()
            await bench.load.open(watched)
            await bench.load.wait_flowing()
            if background is not None:
                ready = await asyncio.to_thread(background.read_line, 90)
                if not ready.startswith("ready"):
                    raise RuntimeError(f"background load: {ready}")
            setup_s = time.monotonic() - started
            async with httpx.AsyncClient(
                base_url=server.url, timeout=10, headers={"Authorization": f"Bearer {bench.load.token}"}
            ) as api:
                for meeting in bench.meetings:
                    spanned.append((await api.get(f"/api/v1/meetings/{meeting.id}")).json()["workers"])
            if args.span and any(len(workers) < 2 for workers in spanned):
                raise RuntimeError(f"--span: a meeting does not span two workers: {spanned}")
            async with httpx.AsyncClient(base_url=server.url, timeout=10) as plain:
                metrics_before = _metric_totals((await plain.get("/metrics", headers=server.metrics_headers)).text)
                counts_before = dict(bench.recorder.counts)
                cpu_before, phase_start = _cpu_seconds(server.process.pid), time.monotonic()
                samples = await bench.revocations()
                cpu_after, phase_s = _cpu_seconds(server.process.pid), time.monotonic() - phase_start
                metrics_after = _metric_totals((await plain.get("/metrics", headers=server.metrics_headers)).text)
            pairs = bench.load.pairs()
            forwarded = sum(bench.recorder.counts.get(pair, 0) - counts_before.get(pair, 0) for pair in pairs)
            flowing_after = await bench.load.flowing()
    finally:
        if background is not None:
            background_report = _last_json(await asyncio.to_thread(background.stop))
        await bench.load.close()
        await bench.floor.stop()
        await asyncio.to_thread(server.stop)
    background_report = background_report or {}
    revoke = [s.revoke_ms for s in samples]
    api = [s.api_ms for s in samples]
    baseline = [s.baseline_ms for s in samples]
    summaries = {
        "revoke_ms": summary(revoke),
        "api_call_ms": summary(api),
        "baseline_ms": summary(baseline),
        "http_only_ms": summary([s.http_only_ms for s in samples]),
        "channel_ms": summary([s.channel_ms for s in samples]),
        "gate_after_ms": summary([s.gate_after_ms for s in samples]),
        "gate_before_ms": summary([s.gate_before_ms for s in samples if s.gate_before_ms is not None]),
        "bracket_ms": summary([s.gate_before_ms - s.gate_after_ms for s in samples if s.gate_before_ms is not None]),
        "http_and_auth_ms": summary([s.api_ms - s.server_total_ms for s in samples if s.server_total_ms is not None]),
        "endpoint_to_ack_ms": summary([s.server_to_ack_ms for s in samples if s.server_to_ack_ms is not None]),
        "after_ack_ms": summary(
            [
                s.server_total_ms - s.server_to_ack_ms
                for s in samples
                if s.server_total_ms is not None and s.server_to_ack_ms is not None
            ]
        ),
    }
    base_p99 = summaries["baseline_ms"]["p99"]
    ratios = {
        "revoke_p99_over_baseline_p99": summaries["revoke_ms"]["p99"] / base_p99 if base_p99 else None,
        "api_p99_over_baseline_p99": summaries["api_call_ms"]["p99"] / base_p99 if base_p99 else None,
        "revoke_p99_over_channel_p99": (
            summaries["revoke_ms"]["p99"] / summaries["channel_ms"]["p99"] if summaries["channel_ms"]["p99"] else None
        ),
        "revoke_p50_over_baseline_p50": (
            summaries["revoke_ms"]["p50"] / summaries["baseline_ms"]["p50"] if summaries["baseline_ms"]["p50"] else None
        ),
    }
    return {
        "load": {
            "meetings": args.meetings,
            "watched_meetings": watched,
            "participants": 3 * args.meetings,
            "publishers": 3 * args.meetings,
            "forwarded_streams": 6 * args.meetings,
            "rate_pps_per_publisher": args.rate,
            "packet_bytes": args.size,
            "engine_in_pps": 3 * args.meetings * args.rate,
            "engine_out_pps": 6 * args.meetings * args.rate,
            "watched_streams": len(pairs),
            "watched_streams_flowing_after": flowing_after,
            "watched_received_pps": forwarded / phase_s,
            "background": background_report,
            "streams_flowing_after": flowing_after + background_report.get("streams_flowing_at_end", 0),
            "received_pps_during_phase": forwarded / phase_s + background_report.get("received_pps", 0.0),
            "server_cpu_share_during_phase": (cpu_after - cpu_before) / phase_s,
            "foreign_packets": bench.recorder.foreign + background_report.get("foreign_packets", 0),
            "send_errors": sum(p.send_errors for p in bench.load.peers) + background_report.get("send_errors", 0),
        },
        "workers_of_meetings": spanned,
        "samples": len(samples),
        "stopped": sum(s.stopped for s in samples),
        "leaked_packets": sum(s.leaked for s in samples),
        **summaries,
        "ratios": ratios,
        "server": breakdown(metrics_before, metrics_after),
        "setup_seconds": setup_s,
        "phase_seconds": phase_s,
        "revocations": [asdict(s) for s in samples],
    }


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def report(result: dict[str, Any]) -> str:
    load = result["load"]
    print(
        f"load: {load['meetings']} meetings x 3 participants, every one publishing one microphone "
        f"({load['rate_pps_per_publisher']} pps, {load['packet_bytes']} B SRTP) and receiving the two others: "
        f"{load['engine_in_pps']} pps into the engine, {load['engine_out_pps']} pps out "
        f"({load['received_pps_during_phase']:.0f} pps received during the revocations); "
        f"server (control + worker) CPU {100 * load['server_cpu_share_during_phase']:.0f} % of a core"
    )
    print(
        f"revocations in {load['watched_meetings']} meetings whose peers run in this process; the other "
        f"{load['meetings'] - load['watched_meetings']} meetings' peers in a background process"
    )
    if any(len(workers) > 1 for workers in result["workers_of_meetings"]):
        print(
            "spanning: each meeting's third participant is on another worker than the first two; a revoked "
            "source reaches the subscribers of the other worker through a pipe, and the latency is to the "
            f"last packet forwarded by either worker (workers per meeting: {result['workers_of_meetings']})"
        )
    print(f"setup {result['setup_seconds']:.1f} s, {result['samples']} revocations in {result['phase_seconds']:.1f} s")
    print()
    print(f"{'measure (ms)':<46} {'p50':>7} {'p99':>7} {'mean':>7} {'max':>7}")
    rows = [
        ("revoke: API call -> last forwarded packet", "revoke_ms"),
        ("call -> reply (REST 200, engine acked)", "api_call_ms"),
        ("baseline: GET /meetings/{id} round trip", "baseline_ms"),
        ("HTTP alone: GET /metrics round trip (token, no database)", "http_only_ms"),
        ("engine channel alone: gate op apply -> ack", "channel_ms"),
        ("gate open at (last forwarded packet sent)", "gate_after_ms"),
        ("gate closed by (first dropped packet sent)", "gate_before_ms"),
        ("resolution: first dropped - last forwarded", "bracket_ms"),
        ("call split: HTTP + auth (outside the endpoint)", "http_and_auth_ms"),
        ("call split: endpoint -> engine ack", "endpoint_to_ack_ms"),
        ("call split: after the ack (audit, events)", "after_ack_ms"),
    ]
    for label, key in rows:
        s = result[key]
        print(f"{label:<46} {_ms(s['p50']):>7} {_ms(s['p99']):>7} {_ms(s['mean']):>7} {_ms(s['max']):>7}")
    ratios = result["ratios"]
    print(
        f"ratios to the baseline: revoke p99 / baseline p99 = {_ms(ratios['revoke_p99_over_baseline_p99'])}, "
        f"API call p99 / baseline p99 = {_ms(ratios['api_p99_over_baseline_p99'])}, "
        f"revoke p50 / baseline p50 = {_ms(ratios['revoke_p50_over_baseline_p50'])}; "
        f"revoke p99 / engine channel alone p99 = {_ms(ratios['revoke_p99_over_channel_p99'])}"
    )
    for name, figures in result["server"].items():
        print(
            f"server {name} over the phase (revoke + grant + turn on): n={figures['count']:.0f}, "
            f"mean {_ms(figures['mean_ms'])} ms, p99 <= {_ms(figures['p99_bucket_ms'])} ms (bucket)"
        )
    print(
        f"stopped: {result['stopped']}/{result['samples']} revocations (no packet sent after the 200 arrived; "
        f"{result['leaked_packets']} leaked); streams still flowing afterwards: "
        f"{load['streams_flowing_after']}/{load['forwarded_streams']}"
    )
    p99 = result["revoke_ms"]["p99"]
    verdict = "n/a" if p99 is None else ("meets" if p99 < TARGET_MS else "misses")
    line = (
        f"headline: revoke p99 = {_ms(p99)} ms (target {TARGET_MS:g} ms, {verdict}); "
        f"p99 / baseline p99 = {_ms(ratios['revoke_p99_over_baseline_p99'])}"
    )
    result["headline"] = {
        "name": "revoke p99 ms",
        "value": p99,
        "target_ms": TARGET_MS,
        "over_baseline_p99": ratios["revoke_p99_over_baseline_p99"],
    }
    return line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 meetings, 24 revocations (about 20 s)")
    parser.add_argument("--json", metavar="PATH", help="write the full report (every revocation) here")
    parser.add_argument("--meetings", type=int, help="meetings forwarding at once (default 20; quick 4)")
    parser.add_argument(
        "--watched",
        type=int,
        default=5,
        help="meetings revoked in, in this process (the "
        "others run in a background process: bench/meeting_load.py; default 5, quick 2)",
    )
    parser.add_argument(
        "--via",
        choices=("api", "signaling"),
        default="api",
        help="revoke through the REST "
        "API (default) or the organizer's signaling WebSocket (`moderate`: no HTTP request, no "
        "per-request authentication), for comparison",
    )
    parser.add_argument(
        "--span",
        action="store_true",
        help="a meeting spanning two workers: `podium serve --workers 2 --worker-capacity 2`, one meeting "
        "(its third participant spills onto the second worker; the organizer's and the second's microphones "
        "reach it through a pipe, its own reaches them through one)",
    )
    parser.add_argument("--revocations", type=int, help="revocations (default 200; quick 24)")
    parser.add_argument("--rate", type=float, default=50.0, help="packets/s per publisher (default 50)")
    parser.add_argument("--size", type=int, default=160, help="RTP packet bytes before SRTP (default 160)")
    parser.add_argument(
        "--probe-interval", type=float, default=1.0, help="ms between a watched publisher's packets (default 1)"
    )
    parser.add_argument("--after", type=float, default=50.0, help="ms the publisher keeps sending after the 200")
    parser.add_argument("--max-seconds", type=float, help="stop by then (default 170; quick 60)")
    args = parser.parse_args(argv)
    args.meetings = args.meetings or (4 if args.quick else 20)
    args.watched = 2 if args.quick and args.watched == 5 else args.watched
    args.revocations = args.revocations or (24 if args.quick else 200)
    if args.span:  # the capacity counts every meeting's participants: one meeting spans
        args.meetings = args.watched = 1
    args.max_seconds = args.max_seconds or (60 if args.quick else 170)
    load_before = os.getloadavg()
    wall = time.time()
    print(
        f"revoke latency benchmark: {args.meetings} meetings, {args.revocations} revocations through "
        f"{'the REST API' if args.via == 'api' else 'signaling (moderate)'}; "
        f"load average {load_before[0]:.2f}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="podium-revoke-") as tmp:
        result = asyncio.run(run(args, Path(tmp)))
    line = report(result)
    load_after = os.getloadavg()
    print(
        f"{time.time() - wall:.0f} s; load average {load_before[0]:.2f} before, {load_after[0]:.2f} after "
        "(other processes on this machine make figures noisy)"
    )
    if args.json:
        settings = {k: v for k, v in vars(args).items() if k != "json"}
        report_json = {
            "benchmark": "revoke_latency",
            "command": " ".join(
                ["python", "-m", "bench.revoke_latency", *(argv if argv is not None else sys.argv[1:])]
            ),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(wall)),
            "machine": {
                "cpus": os.cpu_count(),
                "platform": platform.platform(),
                "python": platform.python_version(),
                "load_average_before": load_before,
                "load_average_after": load_after,
            },
            "settings": settings,
            **result,
        }
        Path(args.json).write_text(json.dumps(report_json, indent=2) + "\n")
    print(line, flush=True)
    ok = result["samples"] > 0 and result["stopped"] == result["samples"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
