"""Revoke latency under hostile input: a microphone revoke through the REST API while other clients send
the bodies of issue 10 ("What was seen" item 5), against the same revoke on a quiet server, in one run.

    python -m bench.hostile_input [--revocations 40] [--copies 1] [--interval 0.1] [--json PATH]

Starts `podium serve` (its engine worker included) on 127.0.0.1 with a private data directory and no
per-address rate limits (so every hostile request goes through the body checks: the worst case, many
addresses), opens a meeting of the administrator (organizer) and one user whose published microphone is
a real producer in the engine (aiortc, a track that sends no frames), then --revocations times: POST
/api/v1/meetings/{id}/actions revoke_permission microphone (timed: call issued → 200, which comes once
the engine acknowledged the gate), grant it back, and have the user turn the microphone on again.

First on the quiet server (the baseline), then with a child process (`--load URL TOKEN`, so its own CPU
use does not delay this process's clock readings) running --copies loops of each hostile request:

- declared_200mb: headers announcing a 200 MB body to /auth/login, then nothing (413 before any read);
- many_keys_5mb: the 5.5 MB object of 300,000 unknown keys to /auth/login (413: over the limit of
  requests without credentials; "cut" when the server closed while the body was being sent);
- many_keys_200kb_authenticated: 15,000 unknown keys (200 KB, under the authenticated limit) to PATCH
  /me (422 with the first 20 problems; parsed in a worker thread);
- deep_5000: 5,000 nested arrays to /auth/login (422 json_too_deep).

Two hostile phases: "paced", each loop sending one request every --interval (0.1 s): four hostile
requests in flight at a time, as in the issue ("four at once"), so a revoke meets them one by one;
and "flood", each loop sending its next request as soon as the last was answered: the server's CPU is
then saturated, and a revoke waits its turn behind the queue. The last line is the headline: revoke p50
and p99 under the paced load against the quiet baseline's; the line before it gives the flood's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO / "tests" / "e2e") not in sys.path:  # podium_client imports its sibling `harness`
    sys.path.insert(0, str(REPO / "tests" / "e2e"))

import httpx  # noqa: E402
from hostile import HostileLoad  # noqa: E402
from podium_client import NO_RATE_LIMITS, Api, Participant, PodiumServer, SignalingError  # noqa: E402

from bench.harness import Child  # noqa: E402
from bench.meeting_load import SilentAudioTrack, loopback_only  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(values: list[float]) -> dict[str, float]:
    if not values:
        return dict.fromkeys(("n", "p50", "p99", "mean", "max"), float("nan"))
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p99": percentile(values, 99),
        "mean": statistics.fmean(values),
        "max": max(values),
    }


class Meeting:
    def __init__(self, server: PodiumServer, api: Api) -> None:
        self.server, self.api = server, api

    async def open(self) -> None:
        room = await self.api.create_room("Hostile bench")
        self.organizer = await Participant.join(self.server, self.api.token, room["id"])
        user_id, token = await self.api.create_user("alice")
        await self.api.grant(room["id"], user_id)
        self.alice = await Participant.join(self.server, token, room["id"])
        await self.alice.publish(microphone=SilentAudioTrack())
        self.actions = f"/api/v1/meetings/{self.organizer.joined['meeting_id']}/actions"

    async def close(self) -> None:
        for p in (self.alice, self.organizer):
            await p.close()

    async def revocations(self, client: httpx.AsyncClient, count: int) -> tuple[list[float], list[str]]:
        """ms of each revoke call (issued → 200), and the error codes of those that failed (a control plane
        whose loop stalls past the engine's ack timeout answers 504 engine_timeout)."""
        headers = {"authorization": f"Bearer {self.api.token}"}
        revoke = {"action": "revoke_permission", "target": self.alice.id, "capability": "microphone"}
        grant = {**revoke, "action": "grant_permission"}
        times: list[float] = []
        failed: list[str] = []
        for _ in range(count):
            started = time.perf_counter()
            response = await client.post(self.actions, json=revoke, headers=headers)
            elapsed = 1000 * (time.perf_counter() - started)
            if response.status_code != 200:
                failed.append(response.json()["error"]["code"])
                continue
            assert response.json()["version"] is not None, response.text
            times.append(elapsed)
            granted = await client.post(self.actions, json=grant, headers=headers)
            if granted.status_code != 200:
                failed.append("grant: " + granted.json()["error"]["code"])
            try:
                await self.alice.request({"type": "set-source", "source": "microphone", "on": True})
            except SignalingError as error:
                failed.append("unmute: " + error.code)
        return times, failed


def _phases(args: argparse.Namespace) -> list[tuple[str, str, float]]:
    """(name, label, seconds between two requests of one loop) of each hostile phase."""
    return [
        ("paced", f"paced (4 x {args.copies} every {args.interval:g} s)", args.interval),
        ("flood", f"flood (4 x {args.copies}, closed loop)", 0.0),
    ]


async def run(args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    # no frame rate limit: the loop below unmutes after every revocation, faster than 50 frames/s
    server = PodiumServer.start(data_dir, rate_limits=NO_RATE_LIMITS + ",frames=off")
    result: dict[str, Any] = {}
    try:
        api = Api(server.url)
        await api.login_admin()
        meeting = Meeting(server, api)
        await meeting.open()
        try:
            async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
                await meeting.revocations(client, 3)  # warm up
                times, failed = await meeting.revocations(client, args.revocations)
                result["quiet"] = {**summary(times), "failed": failed}
                for name, _, interval in _phases(args):
                    argv = ["--load", server.url, api.token, "--copies", str(args.copies)]
                    load = Child(
                        [sys.executable, "-m", "bench.hostile_input", *argv, "--interval", str(interval)], None
                    )
                    try:
                        assert load.read_line(120) == "ready"
                        times, failed = await meeting.revocations(client, args.revocations)
                    finally:
                        out = load.stop().strip().splitlines()
                    result[name] = {**summary(times), "failed": failed, **json.loads(out[-1])}
        finally:
            await meeting.close()
    finally:
        server.stop()
    result["ratios"] = {
        f"{name}_{q}_over_quiet": result[name][q] / result["quiet"][q]
        for name, _, _ in _phases(args)
        for q in ("p50", "p99")
    }
    return result


async def load_only(url: str, token: str, copies: int, interval: float) -> None:
    """The child: the hostile loops until SIGTERM, then a JSON line of what was answered."""
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    load = HostileLoad(url, token, interval=interval)
    started = time.monotonic()
    async with load.running(copies):
        print("ready", flush=True)
        await stop.wait()
    answers: dict[str, dict[str, int]] = {}
    for (kind, status), count in load.answers.items():
        answers.setdefault(kind, {})[str(status)] = count
    print(json.dumps({"answers": answers, "seconds": time.monotonic() - started}), flush=True)


def report(args: argparse.Namespace, result: dict[str, Any]) -> None:
    print(f"{'revoke call (ms)':<34}{'n':>5}{'p50':>9}{'p99':>9}{'mean':>9}{'max':>9}  failed")
    rows = [("quiet", "quiet (baseline)")] + [(name, label) for name, label, _ in _phases(args)]
    for name, label in rows:
        s = result[name]
        failed = ", ".join(s["failed"]) or "-"
        print(f"{label:<34}{s['n']:>5}{s['p50']:>9.1f}{s['p99']:>9.1f}{s['mean']:>9.1f}{s['max']:>9.1f}  {failed}")
    for name, label, _ in _phases(args):
        phase = result[name]
        print(f"hostile requests answered, {label}, in {phase['seconds']:.1f} s:")
        for kind, statuses in phase["answers"].items():
            total = sum(statuses.values())
            print(f"  {kind:<30}{total:>6} ({total / phase['seconds']:.0f}/s)  {statuses}")
    q, paced, flood = result["quiet"], result["paced"], result["flood"]
    print(
        f"flood: revoke p50 {flood['p50']:.1f} ms ({flood['p50'] / q['p50']:.2f}x quiet), "
        f"p99 {flood['p99']:.1f} ms ({flood['p99'] / q['p99']:.2f}x quiet)"
    )
    print(
        f"headline: revoke under paced hostile load p50 {paced['p50']:.1f} ms "
        f"({paced['p50'] / q['p50']:.2f}x quiet {q['p50']:.1f} ms), "
        f"p99 {paced['p99']:.1f} ms ({paced['p99'] / q['p99']:.2f}x quiet {q['p99']:.1f} ms)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--revocations", type=int, default=40, help="revocations per phase")
    parser.add_argument("--copies", type=int, default=1, help="concurrent loops of each hostile request")
    parser.add_argument(
        "--interval", type=float, default=0.1, help="seconds between two requests of one loop, paced phase"
    )
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--load", nargs=2, metavar=("URL", "TOKEN"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.load:
        asyncio.run(load_only(*args.load, args.copies, args.interval))
        return 0
    loopback_only()
    with tempfile.TemporaryDirectory(prefix="podium-hostile-") as directory:
        result = asyncio.run(run(args, Path(directory)))
    report(args, result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
