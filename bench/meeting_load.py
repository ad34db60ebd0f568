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
"""

from __future__ import annotations

import asyncio
import random
import re
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
from podium_client import Participant, PodiumServer  # noqa: E402

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
            offset += 4 + 4 * int.from_bytes(data[offset + 2:offset + 4], "big")
        if len(data) < offset + _BODY.size or data[offset:offset + 4] != MAGIC:
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
    async def join(cls, index: int, server: PodiumServer, token: str, room_id: str, recorder: Recorder,
                   size: int = 160) -> LightPeer:
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
        packet = (_HEADER.pack(0x80, self.payload_type, self.seq, self.timestamp, self.ssrc)
                  + _BODY.pack(MAGIC, self.index, self.sent_count).ljust(self.size - 12, b"\0"))
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
