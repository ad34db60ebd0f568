"""A live meeting of aiortc participants for the benchmarks that break something under it
(bench.worker_restart, bench.control_restart): joining, publishing, and waiting until every
participant received media of every other."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import secrets
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO / "tests" / "e2e") not in sys.path:  # podium_client imports its siblings `harness`, `media`
    sys.path.insert(0, str(REPO / "tests" / "e2e"))

import aioice.ice  # noqa: E402
from media import NumberedVideoTrack, ToneAudioTrack  # noqa: E402
from podium_client import Api, Participant, PodiumServer  # noqa: E402

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


def sources_of(video: bool) -> list[str]:
    return ["microphone", "camera"] if video else ["microphone"]


def tracks_of(video: bool) -> dict[str, Any]:
    tracks: dict[str, Any] = {"microphone": ToneAudioTrack(300 + 40 * secrets.randbelow(10))}
    if video:
        tracks["camera"] = NumberedVideoTrack()
    return tracks


async def make_users(api: Api, count: int) -> list[tuple[str, str]]:
    """count users (id, access token), made before anything is timed (password hashing is slow)."""
    return [await api.create_user(f"user{i}") for i in range(count)]


async def people_of(server: PodiumServer, api: Api, room_id: str, users: list[tuple[str, str]]) -> list[Participant]:
    """The organizer and the users, joined (not publishing yet); the users must have access."""
    people = [await Participant.join(server, api.token or "", room_id)]
    try:
        for _, token in users:
            people.append(await Participant.join(server, token, room_id))
    except BaseException:
        await leave(people)
        raise
    return people


async def leave(people: list[Participant]) -> None:
    for p in people:
        with contextlib.suppress(Exception):
            await p.close()


def all_received(people: list[Participant], sources: list[str], since: dict[str, float]) -> bool:
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


async def until(condition: Any, what: str) -> None:
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
    people = await people_of(server, api, room["id"], users)
    try:
        sources = sources_of(video)
        await asyncio.gather(*(p.publish(**tracks_of(video)) for p in people))
        await until(lambda: all_received(people, sources, {p.id: started for p in people}), "media at a fresh join")
        return time.monotonic() - started
    finally:
        await leave(people)


def write_json(
    path: str, benchmark: str, argv: list[str] | None, settings: Any, summary: Any, headline: str, rounds: list[Any]
) -> None:
    """One benchmark run as JSON: the command that made it, the machine, settings, figures, rounds."""
    Path(path).write_text(
        json.dumps(
            {
                "benchmark": benchmark,
                "command": " ".join(["python", "-m", f"bench.{benchmark}", *(argv or sys.argv[1:])]),
                "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
                "settings": vars(settings),
                "summary": summary,
                "headline": headline,
                "rounds": [asdict(r) for r in rounds],
            },
            indent=2,
        )
    )
