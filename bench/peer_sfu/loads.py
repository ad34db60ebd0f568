"""The same meeting load opened through either SFU: rooms of N publishers and M subscribers, where
every participant receives every publisher but itself (the publishers see each other, as in a
meeting). A Load knows its streams, what each publisher's packets should reach, and the SFU
processes whose CPU time counts."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from .browser_sdp import accept_transport_cc, simulcast_offer
from .janus_videoroom import JanusPeer, create_room, published_streams
from .media import AUDIO, VIDEO, Recorder, SilentTrack, Stream

REPO = Path(__file__).resolve().parents[2]
if str(REPO / "tests" / "e2e") not in sys.path:  # podium_client imports its siblings
    sys.path.insert(0, str(REPO / "tests" / "e2e"))

from podium_client import Api, Participant, PodiumServer, free_port  # noqa: E402

__all__ = ["Load", "PodiumRooms", "PodiumServer", "Shape", "free_port", "open_janus", "open_podium"]

FLOW_TIMEOUT = 30.0


@dataclass
class Shape:
    rooms: int
    publishers: int
    """Per room."""
    subscribers: int
    """Per room, besides the publishers."""

    @property
    def size(self) -> int:
        return self.publishers + self.subscribers

    def members(self, room: int) -> list[int]:
        """Participant indexes of a room, its publishers first."""
        return list(range(room * self.size, (room + 1) * self.size))

    def receivers(self, publisher: int) -> int:
        return self.size - 1

    def pairs(self) -> list[tuple[int, int, int]]:
        """(receiver, publisher, kind) of every forwarded stream."""
        return [
            (r, p, kind)
            for room in range(self.rooms)
            for p in self.members(room)[: self.publishers]
            for r in self.members(room)
            if r != p
            for kind in (AUDIO, VIDEO)
        ]


@dataclass
class Load:
    shape: Shape
    recorder: Recorder = field(default_factory=Recorder)
    streams: list[Stream] = field(default_factory=list)
    closers: list[Any] = field(default_factory=list)

    async def wait_flowing(self, packets: int = 3) -> None:
        pairs = self.shape.pairs()
        async with asyncio.timeout(FLOW_TIMEOUT):
            while not all(self.recorder.counts.get(pair, 0) >= packets for pair in pairs):
                await asyncio.sleep(0.05)

    def missing(self, packets: int = 3) -> list[tuple[int, int, int]]:
        return [pair for pair in self.shape.pairs() if self.recorder.counts.get(pair, 0) < packets]

    async def close(self) -> None:
        async with asyncio.timeout(15):
            await asyncio.gather(*(close() for close in self.closers), return_exceptions=True)


async def open_janus(url: str, shape: Shape, first_room: int, simulcast: bool = True) -> Load:
    load = Load(shape)
    http = httpx.AsyncClient(limits=httpx.Limits(max_connections=None, max_keepalive_connections=None))
    peers: list[JanusPeer] = []
    load.closers.append(http.aclose)
    for room in range(shape.rooms):
        members = shape.members(room)
        room_id = first_room + room
        opened = [await JanusPeer.open(i, http, url) for i in members]
        peers += opened
        load.closers[:0] = [p.close for p in opened]
        await create_room(opened[0].session, room_id, shape.publishers)
        for peer in opened[: shape.publishers]:
            load.streams += await peer.publish(room_id, simulcast)
        publishers = members[: shape.publishers]
        await asyncio.gather(
            *(peer.subscribe(room_id, [p for p in publishers if p != peer.index], load.recorder) for peer in opened)
        )
    return load


@dataclass
class PodiumRooms:
    """Users and rooms made once per run (password hashing is slow): reused at every load level."""

    api: Api
    tokens: list[str]
    rooms: list[str] = field(default_factory=list)

    @classmethod
    async def prepare(cls, server: PodiumServer, people: int) -> PodiumRooms:
        api = Api(server.url)
        await api.login_admin()
        users = [await api.create_user(f"bench{i}") for i in range(people - 1)]
        rooms = cls(api, [api.token or ""] + [token for _, token in users])
        rooms.user_ids = [user_id for user_id, _ in users]
        return rooms

    user_ids: list[str] = field(default_factory=list)

    async def room(self, index: int) -> str:
        while len(self.rooms) <= index:
            room = await self.api.create_room(f"peer-sfu-{len(self.rooms)}")
            for user_id in self.user_ids:
                await self.api.grant(room["id"], user_id)
            self.rooms.append(room["id"])
        return self.rooms[index]


def _browser_like(simulcast: bool, layers: dict[str, tuple[int, ...]]) -> Any:
    """A Participant.sdp_to_server that says what a browser would (browser_sdp): simulcast in a publish
    offer (the layers' SSRCs kept in `layers`), transport-cc accepted in a subscribe answer."""

    def to_server(sdp: str, offer: str | None) -> str:
        if offer is not None:
            return accept_transport_cc(sdp, offer)
        if not simulcast:
            return sdp
        munged, chosen = simulcast_offer(sdp)
        layers["video"] = chosen.ssrcs
        return munged

    return to_server


async def open_podium(server: PodiumServer, rooms: PodiumRooms, shape: Shape, simulcast: bool = True) -> Load:
    load = Load(shape)
    for room in range(shape.rooms):
        room_id = await rooms.room(room)
        members = shape.members(room)
        joined = [await Participant.join(server, rooms.tokens[k], room_id) for k in range(len(members))]
        layers: list[dict[str, tuple[int, ...]]] = [{} for _ in joined]
        for participant, chosen in zip(joined, layers):
            participant.sdp_to_server = _browser_like(simulcast, chosen)
        load.closers[:0] = [p.close for p in joined]
        for index, participant, chosen in zip(members[: shape.publishers], joined, layers):
            tracks = [SilentTrack("audio"), SilentTrack("video")]
            load.closers.extend(_stopper(track) for track in tracks)
            await participant.publish(microphone=tracks[0], camera=tracks[1])
            pc = participant.pc_pub
            async with asyncio.timeout(FLOW_TIMEOUT):
                while pc.connectionState != "connected":
                    await asyncio.sleep(0.02)
            load.streams += published_streams(index, pc, chosen.get("video"))
        load.closers.append(_hook_subscribers(load.recorder, dict(zip(members, joined))))
    return load


def _stopper(track: SilentTrack) -> Any:
    async def stop() -> None:
        track.stop()

    return stop


def _hook_subscribers(recorder: Recorder, participants: dict[int, Participant]) -> Any:
    """Hooks each participant's subscribe transport as soon as Podium's offer made it; returns a
    closer that stops watching."""
    hooked: set[int] = set()

    async def watch() -> None:
        while True:
            for index, participant in participants.items():
                transceivers = participant.pc_sub.getTransceivers()
                if index not in hooked and transceivers:
                    recorder.hook(index, transceivers[0].receiver.transport, participant.pc_sub)
                    hooked.add(index)
            await asyncio.sleep(0.02)

    task = asyncio.ensure_future(watch())

    async def stop() -> None:
        task.cancel()

    return stop
