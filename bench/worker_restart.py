"""Worker restart: from `kill -9` of the engine worker under a live meeting to media flowing again.

    python -m bench.worker_restart [--kills 10] [--participants 2] [--video] [--json PATH]

Starts `podium serve` (its engine worker supervised, worker id "local") on 127.0.0.1 with a private
data directory and a grace period of a minute (so nothing below waits for it), and a meeting of
--participants aiortc participants (tests/e2e/podium_client.py: real signaling, ICE-lite,
DTLS-SRTP), each publishing a microphone (a tone; with --video also a numbered camera) and
receiving every other. Then, --kills times:

1. baseline (the same moment, the same machine): a fresh meeting in another room, its
   --participants participants joining and publishing the same tracks; *fresh join* is the time from
   the first join request until every one of them has received a first frame of every track of the
   others. They leave again.
2. `kill -9` of the worker process; `podium serve` sees it exit, tells its engine registry (the
   meeting is moved without the grace period) and starts the worker again. *recovery* is the time
   from the kill until every participant of the live meeting has received, after its `reconnect`,
   a first frame of every track of the others (decoded by aiortc: media flows again end to end).
   Also recorded: the time until the last participant got `reconnect`.
3. the benchmark waits until the restarted worker has run for the supervisor's stable period
   (podium.cli.RESTART_STABLE), so that the next kill is restarted at once, as a first crash is.

It prints p50/p99 (and the mean) of recovery, reconnect and fresh join, the ratio of recovery to
the fresh join, and the issue's target: recovery within 3 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import secrets
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO / "tests" / "e2e") not in sys.path:  # podium_client imports its siblings `harness`, `media`
    sys.path.insert(0, str(REPO / "tests" / "e2e"))

import aioice.ice  # noqa: E402
from media import NumberedVideoTrack, ToneAudioTrack  # noqa: E402
from podium_client import Api, Participant, PodiumServer  # noqa: E402

from podium.cli import RESTART_STABLE  # noqa: E402

TARGET = 3.0
"""Seconds from the kill to media flowing again for every participant (issue 10)."""
GRACE = 60.0
STEP = 0.005
"""Seconds between two looks at the participants (the measurements' resolution)."""
TIMEOUT = 30.0


def loopback_only() -> None:
    """aioice gathers 127.0.0.1 only: nothing leaves the host (the benchmark owns its process)."""
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by linear interpolation between closest ranks."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class Round:
    fresh_join: float
    """Seconds from the first join to a first frame of every track at every participant (baseline)."""
    reconnect: float
    """Seconds from the kill until the last participant got `reconnect`."""
    recovery: float
    """Seconds from the kill until every participant received a frame of every track after reconnecting."""
    restarts: int = 0


@dataclass
class Result:
    rounds: list[Round] = field(default_factory=list)


def _sources(video: bool) -> list[str]:
    return ["microphone", "camera"] if video else ["microphone"]


def _tracks(video: bool) -> dict[str, Any]:
    tracks: dict[str, Any] = {"microphone": ToneAudioTrack(300 + 40 * secrets.randbelow(10))}
    if video:
        tracks["camera"] = NumberedVideoTrack()
    return tracks


async def _users(api: Api, count: int) -> list[tuple[str, str]]:
    """count users (id, access token), made before anything is timed (password hashing is slow)."""
    return [await api.create_user(f"user{i}") for i in range(count)]


async def _people(server: PodiumServer, api: Api, room_id: str, users: list[tuple[str, str]]) -> list[Participant]:
    """The organizer and the users, joined (not publishing yet); the users must have access."""
    people = [await Participant.join(server, api.token or "", room_id)]
    try:
        for _, token in users:
            people.append(await Participant.join(server, token, room_id))
    except BaseException:
        await _leave(people)
        raise
    return people


async def _leave(people: list[Participant]) -> None:
    for p in people:
        with contextlib.suppress(Exception):
            await p.close()


def _all_received(people: list[Participant], sources: list[str], since: dict[str, float]) -> bool:
    """Whether every participant got a frame of every other's sources after its own `since` time."""
    for receiver in people:
        for sender in people:
            if sender is receiver:
                continue
            for source in sources:
                received = receiver.tracks.get((sender.id, source))
                if received is None or not received.times or received.times[-1] <= since[receiver.id]:
                    return False
    return True


async def _until(condition: Any, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {TIMEOUT:g} s")
        await asyncio.sleep(STEP)


async def fresh_join(server: PodiumServer, api: Api, users: list[tuple[str, str]], name: str, video: bool) -> float:
    room = await api.create_room(name)
    for user_id, _ in users:
        await api.grant(room["id"], user_id)
    started = time.monotonic()
    people = await _people(server, api, room["id"], users)
    try:
        sources = _sources(video)
        await asyncio.gather(*(p.publish(**_tracks(video)) for p in people))
        await _until(lambda: _all_received(people, sources, {p.id: started for p in people}), "media at a fresh join")
        return time.monotonic() - started
    finally:
        await _leave(people)


async def kill_and_recover(server: PodiumServer, people: list[Participant], video: bool) -> tuple[float, float]:
    sources = _sources(video)
    generations = {p.id: p.generation for p in people}
    reconnected: dict[str, float] = {}

    def media_back() -> bool:
        now = time.monotonic()
        for p in people:
            if p.id not in reconnected and p.generation != generations[p.id]:
                reconnected[p.id] = now  # within STEP of the `reconnect` frame's arrival
        return len(reconnected) == len(people) and _all_received(people, sources, reconnected)

    pid = server.local_worker_pid()
    killed = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    await _until(media_back, "media after a kill")
    recovered = time.monotonic()
    return max(reconnected.values()) - killed, recovered - killed


async def run(args: argparse.Namespace, tmp: Path) -> Result:
    loopback_only()
    result = Result()
    server = await asyncio.to_thread(
        PodiumServer.start, tmp / "podium", engine_secret=secrets.token_urlsafe(24), engine_grace=GRACE
    )
    try:
        api = Api(server.url)
        await api.login_admin()
        live_room = await api.create_room("Live")
        live_users = await _users(api, args.participants - 1)
        fresh_users = await _users(api, args.participants - 1)
        for user_id, _ in live_users:
            await api.grant(live_room["id"], user_id)
        people = await _people(server, api, live_room["id"], live_users)
        try:
            await asyncio.gather(*(p.publish(**_tracks(args.video)) for p in people))
            start = time.monotonic()
            await _until(
                lambda: _all_received(people, _sources(args.video), {p.id: start for p in people}),
                "media in the live meeting",
            )
            stable_since = time.monotonic()
            for n in range(args.kills):
                baseline = await fresh_join(server, api, fresh_users, f"Fresh {n}", args.video)
                wait = stable_since + RESTART_STABLE + 0.5 - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)  # a crash after the stable period is restarted at once
                reconnect, recovery = await kill_and_recover(server, people, args.video)
                stable_since = time.monotonic()  # the restarted worker runs since before this
                result.rounds.append(Round(baseline, reconnect, recovery))
                print(
                    f"kill {n + 1}/{args.kills}: recovery {recovery * 1000:.0f} ms (all told to reconnect "
                    f"after {reconnect * 1000:.0f} ms); fresh join {baseline * 1000:.0f} ms",
                    flush=True,
                )
        finally:
            await _leave(people)
        restarts = server.log.read_text().count(": restarting it")
        for r in result.rounds:
            r.restarts = restarts
    finally:
        await asyncio.to_thread(server.stop)
    return result


def summary(result: Result) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for name in ("recovery", "reconnect", "fresh_join"):
        values = [getattr(r, name) for r in result.rounds]
        out[name] = {
            "p50": percentile(values, 0.5),
            "p99": percentile(values, 0.99),
            "mean": statistics.fmean(values),
            "max": max(values),
        }
    return out


def report(result: Result) -> str:
    figures = summary(result)
    print(f"{'':<34}{'p50':>9}{'p99':>9}{'mean':>9}{'max':>9}")
    rows = (
        ("recovery (kill -> media again)", "recovery"),
        ("  of which: kill -> all told", "reconnect"),
        ("baseline: fresh join -> media", "fresh_join"),
    )
    for label, name in rows:
        f = figures[name]
        print(f"{label:<34}" + "".join(f"{f[k] * 1000:>7.0f}ms" for k in ("p50", "p99", "mean", "max")))
    recovery, baseline = figures["recovery"], figures["fresh_join"]
    line = (
        f"worker kill -9 -> media flowing again for every participant: p50 {recovery['p50']:.2f} s, "
        f"p99 {recovery['p99']:.2f} s over {len(result.rounds)} kills "
        f"({recovery['p50'] / baseline['p50']:.2f}x a fresh join's p50 of {baseline['p50']:.2f} s); "
        f"target {TARGET:g} s: {'met' if recovery['p99'] <= TARGET else 'NOT met'} at p99"
    )
    print(line)
    return line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=10, help="kills of the worker (default 10)")
    parser.add_argument("--participants", type=int, default=2, help="participants of the meeting (default 2)")
    parser.add_argument("--video", action="store_true", help="publish a camera (VP8) too, not just a microphone")
    parser.add_argument("--json", metavar="PATH", help="write every round here")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    wall = time.time()
    print(
        f"worker restart benchmark: {args.kills} kills, {args.participants} participants, "
        f"{'microphone and camera' if args.video else 'microphone'} each; load average {load_before[0]:.2f}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="podium-restart-") as tmp:
        result = asyncio.run(run(args, Path(tmp)))
    line = report(result)
    load_after = os.getloadavg()
    print(
        f"{time.time() - wall:.0f} s; load average {load_before[0]:.2f} before, {load_after[0]:.2f} after "
        "(other processes on this machine make figures noisy)"
    )
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "benchmark": "worker_restart",
                    "command": " ".join(["python", "-m", "bench.worker_restart", *(argv or sys.argv[1:])]),
                    "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
                    "settings": vars(args),
                    "summary": summary(result),
                    "headline": line,
                    "rounds": [asdict(r) for r in result.rounds],
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
