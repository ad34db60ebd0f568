"""Light meeting participants for benchmarks through `podium serve`: real signaling, ICE and DTLS-SRTP
(aiortc, through tests/e2e/podium_client.py), but synthetic RTP instead of encoded media.

A LightPeer wraps a podium_client.Participant:

- it publishes a microphone whose aiortc track never yields a frame, so aiortc's own sender sends no
  RTP; the peer sends numbered RTP packets itself on that SSRC, protected with the SRTP session the
  DTLS handshake keyed (`send()`): no Opus encoder, any rate;
- on the subscribe connection, decrypted RTP is intercepted before aiortc routes it to a receiver
  (no jitter buffer, no decoder): each packet's (publisher, sequence number) is read from its payload
  and its arrival time (time.monotonic) recorded where a Probe asks for it.

Payload of every packet: MAGIC, publisher index (u32), sequence number (u64), zero padding to
`size` bytes. The engine forwards it untouched (only the header is rewritten).

A Load is a set of meetings of three such peers (the administrator as organizer, two users), each
peer sending --rate packets/s. `python -m bench.meeting_load --url URL --meetings N` runs one in a
process of its own (background load for a benchmark; harness.Child protocol: "ready N" on stdout
once all N streams flow, a JSON line of counters after SIGTERM, stops by itself after --max-seconds).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import re
import signal
import struct
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO / "tests" / "e2e") not in sys.path:  # podium_client imports its sibling `harness`
    sys.path.insert(0, str(REPO / "tests" / "e2e"))

import aioice.ice  # noqa: E402
from aiortc.mediastreams import MediaStreamTrack  # noqa: E402
from podium_client import Api, Participant, PodiumServer  # noqa: E402

__all__ = ["LightPeer", "Load", "Meeting", "PodiumServer", "Probe", "loopback_only"]

MAGIC = b"PdmB"
_BODY = struct.Struct(">4sIQ")
_HEADER = struct.Struct(">BBHII")


def loopback_only() -> None:
    """aioice gathers 127.0.0.1 only: nothing leaves the host (the benchmark owns its process)."""
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]


class SilentAudioTrack(MediaStreamTrack):
    """An audio track that never yields a frame: aiortc negotiates it but never sends RTP for it."""

    kind = "audio"

    async def recv(self) -> Any:
        await asyncio.Future()


@dataclass
class Probe:
    """Arrivals of one publisher's packets while it is watched (one revocation)."""

    publisher: int
    sent: dict[int, float] = field(default_factory=dict)
    """sequence number → time.monotonic() just before it was handed to the socket."""
    arrivals: dict[int, list[tuple[int, float]]] = field(default_factory=lambda: defaultdict(list))
    """subscriber index → [(sequence number, arrival time)]."""


class Recorder:
    """Every subscriber's received packets: counts per (subscriber, publisher), arrivals for probes."""

    def __init__(self) -> None:
        self.counts: dict[tuple[int, int], int] = defaultdict(int)
        self.probes: dict[int, Probe] = {}
        self.foreign = 0
        """Decrypted RTP without our payload (there should be none)."""

    def received(self, subscriber: int, data: bytes, now: float) -> None:
        first = data[0]
        offset = 12 + 4 * (first & 0x0F)
        if first & 0x10 and len(data) >= offset + 4:
            offset += 4 + 4 * int.from_bytes(data[offset + 2 : offset + 4], "big")
        if len(data) < offset + _BODY.size or data[offset : offset + 4] != MAGIC:
            self.foreign += 1
            return
        _, publisher, seq = _BODY.unpack_from(data, offset)
        self.counts[(subscriber, publisher)] += 1
        probe = self.probes.get(publisher)
        if probe is not None:
            probe.arrivals[subscriber].append((seq, now))


class LightPeer:
    """One participant of a benchmark meeting (see the module docstring)."""

    def __init__(self, index: int, participant: Participant, recorder: Recorder, size: int) -> None:
        self.index = index
        self.participant = participant
        self.recorder = recorder
        self.size = max(size, _BODY.size)
        self.seq = random.randrange(1 << 16)
        self.timestamp = random.randrange(1 << 32)
        self.ssrc = 0
        self.payload_type = 0
        self._dtls: Any = None
        self._hooked = False
        self.send_errors = 0

    @property
    def id(self) -> str:
        return self.participant.id

    @classmethod
    async def join(
        cls, index: int, server: Any, token: str, room_id: str, recorder: Recorder, size: int = 160
    ) -> LightPeer:
        return cls(index, await Participant.join(server, token, room_id), recorder, size)

    async def publish(self) -> None:
        """Publish the microphone; returns once its publish connection is connected (DTLS keyed)."""
        reply = await self.participant.publish(microphone=SilentAudioTrack())
        pc = self.participant.pc_pub
        sender = pc.getSenders()[0]
        self.ssrc = sender._ssrc
        match = re.search(r"a=rtpmap:(\d+) opus/48000", pc.localDescription.sdp, re.IGNORECASE)
        self.payload_type = int(match.group(1)) if match else 111
        async with asyncio.timeout(20):
            while pc.connectionState != "connected":
                if pc.connectionState in ("failed", "closed"):
                    raise RuntimeError(f"publish connection {pc.connectionState}")
                await asyncio.sleep(0.02)
        self._dtls = sender.transport
        assert reply["producers"], reply

    def hook_subscriber(self) -> bool:
        """Intercept decrypted RTP on the subscribe connection (once it exists)."""
        if self._hooked:
            return True
        transceivers = self.participant.pc_sub.getTransceivers()
        if not transceivers:
            return False
        dtls = transceivers[0].receiver.transport
        recorder, index = self.recorder, self.index

        async def handle_rtp_data(data: bytes, arrival_time_ms: int) -> None:
            recorder.received(index, data, time.monotonic())

        dtls._handle_rtp_data = handle_rtp_data  # instead of aiortc's parse → route → jitter buffer
        self._hooked = True
        return True

    async def send(self) -> float:
        """Send one numbered packet; returns the time it was handed over (time.monotonic)."""
        self.seq = (self.seq + 1) & 0xFFFF
        self.timestamp = (self.timestamp + 960) & 0xFFFFFFFF
        packet = _HEADER.pack(0x80, self.payload_type, self.seq, self.timestamp, self.ssrc) + _BODY.pack(
            MAGIC, self.index, self.sent_count
        ).ljust(self.size - 12, b"\0")
        self.sent_count += 1
        now = time.monotonic()
        probe = self.recorder.probes.get(self.index)
        if probe is not None:
            probe.sent[self.sent_count - 1] = now
        try:
            await self._dtls._send_rtp(packet)
        except ConnectionError:
            self.send_errors += 1
        return now

    sent_count = 0

    async def close(self) -> None:
        await self.participant.close()


@dataclass
class Endpoint:
    """Where `podium serve` listens (what Participant needs of a PodiumServer)."""

    url: str
    tls: None = None
    """Plain HTTP: the benchmarks run `podium serve` on loopback without TLS."""

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1) + "/signaling/v1"


@dataclass
class Meeting:
    id: str
    room_id: str
    peers: list[LightPeer]
    """The organizer first."""


class Load:
    """Meetings of three LightPeers, every peer publishing its microphone at `rate` packets/s."""

    def __init__(self, server: Any, rate: float, size: int, recorder: Recorder | None = None) -> None:
        self.server = server
        self.rate = rate
        self.size = size
        self.recorder = recorder or Recorder()
        self.meetings: list[Meeting] = []
        self.peers: list[LightPeer] = []
        self.token = ""
        self._stopping = False
        self._tasks: list[asyncio.Task[Any]] = []

    async def open(self, count: int, concurrency: int = 4) -> None:
        api = Api(self.server.url)
        await api.login_admin()
        self.token = api.token or ""
        users = [await api.create_user(name) for name in ("alice", "bob")]
        limit = asyncio.Semaphore(concurrency)

        async def open_meeting(m: int) -> Meeting:
            async with limit:
                room = await api.create_room(f"bench-{m}")
                for user_id, _ in users:
                    await api.grant(room["id"], user_id)
                peers = []
                for k, token in enumerate([self.token] + [t for _, t in users]):
                    peer = await LightPeer.join(3 * m + k, self.server, token, room["id"], self.recorder, self.size)
                    peers.append(peer)
                    self.peers.append(peer)
                for peer in peers:
                    await peer.publish()
                return Meeting(peers[0].participant.joined["meeting_id"], room["id"], peers)

        self.meetings = list(await asyncio.gather(*(open_meeting(m) for m in range(count))))
        self._tasks = [asyncio.ensure_future(self._stream(peer)) for peer in self.peers]

    def pairs(self) -> list[tuple[int, int]]:
        """(subscriber, publisher) of every forwarded stream."""
        return [(s.index, p.index) for m in self.meetings for s in m.peers for p in m.peers if s is not p]

    async def wait_flowing(self, timeout: float = 30, packets: int = 3) -> None:
        async with asyncio.timeout(timeout):
            while not all(self.recorder.counts.get(pair, 0) >= packets for pair in self.pairs()):
                await asyncio.sleep(0.05)

    async def flowing(self, window: float = 0.5) -> int:
        """How many streams received packets during the next `window` seconds."""
        before = dict(self.recorder.counts)
        await asyncio.sleep(window)
        return sum(1 for pair in self.pairs() if self.recorder.counts.get(pair, 0) > before.get(pair, 0))

    async def _stream(self, peer: LightPeer) -> None:
        """The peer's normal stream (paused while a Probe watches the peer: the prober sends then)."""
        period = 1 / self.rate
        await asyncio.sleep(random.random() * period)
        next_at = time.monotonic()
        while not self._stopping:
            peer.hook_subscriber()
            if peer.index not in self.recorder.probes:
                await peer.send()
            next_at = max(next_at + period, time.monotonic() - period)
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    async def close(self) -> None:
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(8):
                await asyncio.gather(*(peer.close() for peer in self.peers), return_exceptions=True)


async def _serve(args: argparse.Namespace) -> dict[str, Any]:
    loopback_only()
    load = Load(Endpoint(args.url), args.rate, args.size)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    deadline = time.monotonic() + args.max_seconds
    try:
        async with asyncio.timeout(min(90.0, args.max_seconds)):
            await load.open(args.meetings)
            await load.wait_flowing()
        print(f"ready {len(load.pairs())}", flush=True)
        started = time.monotonic()
        total = sum(load.recorder.counts.values())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.0, deadline - started)):
                await stop.wait()
        seconds = time.monotonic() - started
        received = sum(load.recorder.counts.values()) - total
        flowing = await load.flowing()
    finally:
        await load.close()
    return {
        "meetings": len(load.meetings),
        "streams": len(load.pairs()),
        "streams_flowing_at_end": flowing,
        "received_pps": received / seconds if seconds else 0.0,
        "foreign_packets": load.recorder.foreign,
        "send_errors": sum(p.send_errors for p in load.peers),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Background meetings of light peers (see the module docstring)")
    parser.add_argument("--url", required=True, help="podium serve, http://127.0.0.1:PORT")
    parser.add_argument("--meetings", type=int, default=10)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--size", type=int, default=160)
    parser.add_argument("--max-seconds", type=float, default=300.0)
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(_serve(args))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
