"""Control-plane restart: from `podium serve` stopping under a live meeting to everyone's media back.

    python -m bench.control_restart [--restarts 5] [--participants 2] [--separate-worker] [--json PATH]

Starts `podium serve` on 127.0.0.1 with a private data directory (SQLite) and a meeting of
--participants aiortc participants (tests/e2e/podium_client.py: real signaling, ICE-lite,
DTLS-SRTP), each publishing a microphone and receiving every other's. Then, --restarts times:

1. baseline (the same moment, the same machine): a fresh meeting in another room, joined and
   published by as many participants; *fresh join* is the time from the first join until every
   one of them received a first frame of every other's track.
2. SIGTERM to `podium serve`: *stop* is the time until the process exited (graceful shutdown;
   target under 2 s).
3. `podium serve` started again on the same port and data; *back* is the time from its first
   answer to HTTP until every participant, having resumed with its token (docs/signaling.md,
   "Resuming"), received a frame of every other's track after the control plane came back (target
   3 s). By default `podium serve` runs the worker too, so it restarts with it: the participants
   publish again onto the new process. With --separate-worker the worker is a `podium engine` of
   its own that keeps forwarding throughout; the participants keep their peer connections, and
   *gap* is the longest pause in any participant's received media across the restart.

It prints p50/p99 of each figure and the ratio of *back* to the fresh join.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import secrets
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.live_meeting import (
    Api,
    Participant,
    PodiumServer,
    all_received,
    fresh_join,
    leave,
    loopback_only,
    make_users,
    people_of,
    percentile,
    sources_of,
    tracks_of,
    until,
    write_json,
)

STOP_TARGET = 2.0
BACK_TARGET = 3.0


@dataclass
class Round:
    fresh_join: float
    stop: float
    back: float
    gap: float
    """Longest pause of any received track across the restart (separate worker), else 0."""
    media: str
    """What the resumes answered: "kept" or "renew"."""


@dataclass
class Result:
    rounds: list[Round] = field(default_factory=list)


def _start(data: Path, secret: str, port: int | None, separate: bool, first: bool) -> PodiumServer:
    return PodiumServer.start(
        data,
        engine_secret=secret,
        local_workers=0 if separate else 1,
        workers=(0 if first else 1) if separate else None,  # a separate worker dials in once it is back
        port=port,
        bootstrap=first,
    )


def _longest_gap(people: list[Participant], since: float) -> float:
    gap = 0.0
    for p in people:
        for received in p.tracks.values():
            times = [t for t in received.times if t >= since]
            gap = max([gap, *(b - a for a, b in itertools.pairwise(times))])
    return gap


async def restart(
    server: PodiumServer, people: list[Participant], tokens: dict[str, str], room_id: str, args: argparse.Namespace
) -> tuple[PodiumServer, float, float, float, str]:
    before = time.monotonic()
    stopping = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    await asyncio.to_thread(server.process.wait, 30)
    stop = time.monotonic() - stopping
    again = await asyncio.to_thread(
        _start, server.data_dir, server.engine_secret or "", server.port, args.separate_worker, False
    )
    again.workers = server.workers
    up = time.monotonic()  # PodiumServer.start returns once it answers (and its worker is connected)
    answers = await asyncio.gather(*(p.resume(tokens[p.id], room_id, keep_media=True) for p in people))
    await until(lambda: all_received(people, sources_of(False), {p.id: up for p in people}), "media after a restart")
    back = time.monotonic() - up
    gap = _longest_gap(people, before) if args.separate_worker else 0.0
    return again, stop, back, gap, ",".join(sorted({a.get("media", "new") for a in answers}))


async def run(args: argparse.Namespace, tmp: Path) -> Result:
    loopback_only()
    result = Result()
    secret = secrets.token_urlsafe(24)
    server = await asyncio.to_thread(_start, tmp / "podium", secret, None, args.separate_worker, True)
    if args.separate_worker:
        await asyncio.to_thread(server.start_worker, "a")
    try:
        api = Api(server.url)
        await api.login_admin()
        room = await api.create_room("Live")
        live_users = await make_users(api, args.participants - 1)
        fresh_users = await make_users(api, args.participants - 1)
        for user_id, _ in live_users:
            await api.grant(room["id"], user_id)
        people = await people_of(server, api, room["id"], live_users)
        tokens = {p.id: token for p, token in zip(people, [api.token or "", *(t for _, t in live_users)])}
        try:
            await asyncio.gather(*(p.publish(**tracks_of(False)) for p in people))
            start = time.monotonic()
            await until(lambda: all_received(people, sources_of(False), {p.id: start for p in people}), "media")
            for n in range(args.restarts):
                baseline = await fresh_join(server, api, fresh_users, f"Fresh {n}", False)
                server, stop, back, gap, media = await restart(server, people, tokens, room["id"], args)
                api = Api(server.url)
                if n + 1 < args.restarts:  # the next fresh join's room (a login: an Argon2 verification)
                    await api.login_admin()
                result.rounds.append(Round(baseline, stop, back, gap, media))
                print(
                    f"restart {n + 1}/{args.restarts}: stop {stop * 1000:.0f} ms, back {back * 1000:.0f} ms "
                    f"(media {media}; longest gap {gap * 1000:.0f} ms); fresh join {baseline * 1000:.0f} ms",
                    flush=True,
                )
        finally:
            await leave(people)
    finally:
        await asyncio.to_thread(server.stop)
    return result


def summary(result: Result) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for name in ("stop", "back", "gap", "fresh_join"):
        values = [getattr(r, name) for r in result.rounds]
        out[name] = {"p50": percentile(values, 0.5), "p99": percentile(values, 0.99), "mean": statistics.fmean(values)}
    return out


def report(result: Result, separate: bool) -> str:
    f = summary(result)
    print(f"{'':<40}{'p50':>9}{'p99':>9}{'mean':>9}")
    rows = [
        ("stop (SIGTERM -> exited)", "stop"),
        ("back (up -> everyone's media again)", "back"),
        *([("longest media gap across the restart", "gap")] if separate else []),
        ("baseline: fresh join -> media", "fresh_join"),
    ]
    for label, name in rows:
        print(f"{label:<40}" + "".join(f"{f[name][k] * 1000:>7.0f}ms" for k in ("p50", "p99", "mean")))
    stop_met = "met" if f["stop"]["p99"] <= STOP_TARGET else "NOT met"
    line = (
        f"control-plane restart ({'separate worker' if separate else 'podium serve with its worker'}): stop p99 "
        f"{f['stop']['p99']:.2f} s (target {STOP_TARGET:g} s: {stop_met}); "
        f"back p50 {f['back']['p50']:.2f} s, p99 {f['back']['p99']:.2f} s over {len(result.rounds)} restarts "
        f"({f['back']['p50'] / f['fresh_join']['p50']:.2f}x a fresh join's p50 of {f['fresh_join']['p50']:.2f} s; "
        f"target {BACK_TARGET:g} s: {'met' if f['back']['p99'] <= BACK_TARGET else 'NOT met'} at p99)"
    )
    print(line)
    return line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--restarts", type=int, default=5, help="restarts of the control plane (default 5)")
    parser.add_argument("--participants", type=int, default=2, help="participants of the meeting (default 2)")
    parser.add_argument("--separate-worker", action="store_true", help="run the worker as its own `podium engine`")
    parser.add_argument("--json", metavar="PATH", help="write every round here")
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]
    print(
        f"control-plane restart benchmark: {args.restarts} restarts, {args.participants} participants; load {load:.2f}"
    )
    with tempfile.TemporaryDirectory(prefix="podium-control-restart-") as tmp:
        result = asyncio.run(run(args, Path(tmp)))
    line = report(result, args.separate_worker)
    if args.json:
        write_json(args.json, "control_restart", argv, args, summary(result), line, result.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
