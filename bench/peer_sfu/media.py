"""Synthetic meeting media for both SFUs: what the aiortc peers send and how receivers count it (with
--generator python; the compiled sender, compiled_media.py, sends the same payload plus a send time).

aiortc negotiates the tracks (real ICE, DTLS-SRTP) but its encoders never run: the tracks yield no
frame, and the benchmark sends numbered RTP itself on each negotiated SSRC, protected by the SRTP
session the DTLS handshake keyed. Receivers read decrypted RTP before aiortc routes it (no jitter
buffer, no decoder) and count it per (receiver, publisher, kind).

Payload of every packet: for video a one-byte VP8 payload descriptor first, then MAGIC, publisher
index (u32), kind (u8: 0 audio, 1 video), packet counter (u64), zero padding."""

from __future__ import annotations

import asyncio
import random
import struct
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import aioice.ice
from aiortc import rtcdtlstransport
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

MAGIC = b"PdmS"
_BODY = struct.Struct(">4sIBQ")
_HEADER = struct.Struct(">BBHII")
AUDIO, VIDEO = 0, 1
AUDIO_RATE = 50
"""Audio packets per second (20 ms Opus frames)."""
AUDIO_SIZE = 120
FRAME_RATE = 25
MAX_PAYLOAD = 1100
PROFILES = {p.openssl_profile.decode(): p for p in rtcdtlstransport.SRTP_PROFILES}


def use_address(address: str) -> None:
    """aioice gathers `address` only (the benchmark's media address: see media_address)."""
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: [address]


def force_srtp_profile(name: str) -> None:
    """Every aiortc DTLS transport offers only this SRTP profile, so both SFUs must use it."""
    if name not in PROFILES:
        raise ValueError(f"SRTP profile {name} unknown to aiortc here; known: {', '.join(PROFILES)}")
    rtcdtlstransport.SRTP_PROFILES[:] = [PROFILES[name]]  # transports keep a reference to this list


def negotiated_profile(dtls: Any) -> str:
    """The SRTP profile a connected aiortc DTLS transport negotiated."""
    return dtls._ssl.get_selected_srtp_profile().decode()


class SilentTrack(MediaStreamTrack):
    """A track that yields no frame until stopped: aiortc negotiates it but sends no RTP for it."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self._stopped = asyncio.Event()

    async def recv(self) -> Any:
        await self._stopped.wait()
        raise MediaStreamError  # ends a MediaRelay reading it (podium_client relays published tracks)

    def stop(self) -> None:
        super().stop()
        self._stopped.set()


@dataclass
class Stream:
    """One published track: the benchmark sends on it."""

    publisher: int
    kind: int
    dtls: Any
    ssrc: int
    payload_type: int
    layer: int = 0
    """A simulcast layer's index, lowest first (0 for audio and a single-layer video)."""
    share: int = 1
    """A video stream sends the video bitrate divided by this (a lower simulcast layer: more than 1)."""
    forwarded: bool = True
    """Whether the subscribers are to receive it (a simulcast camera's top layer; audio)."""
    seq: int = 0
    timestamp: int = 0
    sent: int = 0
    errors: int = 0

    def __post_init__(self) -> None:
        self.seq = random.randrange(1 << 16)
        self.timestamp = random.randrange(1 << 32)

    def packet(self, size: int, marker: bool, clock_step: int) -> bytes:
        self.seq = (self.seq + 1) & 0xFFFF
        self.timestamp = (self.timestamp + clock_step) & 0xFFFFFFFF
        second = self.payload_type | (0x80 if marker else 0)
        body = _BODY.pack(MAGIC, self.publisher, self.kind, self.sent)
        if self.kind == VIDEO:
            body = b"\x10" + body  # VP8 payload descriptor: start of a partition
        self.sent += 1
        return _HEADER.pack(0x80, second, self.seq, self.timestamp, self.ssrc) + body.ljust(size - 12, b"\0")

    async def send(self, packet: bytes) -> None:
        try:
            await self.dtls._send_rtp(packet)
        except ConnectionError:
            self.errors += 1


class Recorder:
    """Counts of decrypted RTP per (receiver, publisher, kind)."""

    def __init__(self) -> None:
        self.counts: dict[tuple[int, int, int], int] = defaultdict(int)
        self.foreign = 0
        """Decrypted RTP without our payload (there should be none)."""
        self.transports: list[Any] = []
        """The hooked DTLS transports (their SRTP profiles are reported)."""
        self.receivers: list[tuple[int, Any, Any]] = []
        """(receiver, DTLS transport, peer connection) as hooked (the compiled sender reads these
        sockets itself, and reads the transport-cc extension id from the SFU's offer)."""

    def hook(self, receiver: int, dtls: Any, pc: Any) -> None:
        """Count what arrives on this DTLS transport instead of letting aiortc route it."""

        async def handle_rtp_data(data: bytes, arrival_time_ms: int) -> None:
            self.received(receiver, data)

        dtls._handle_rtp_data = handle_rtp_data
        self.transports.append(dtls)
        self.receivers.append((receiver, dtls, pc))

    def received(self, receiver: int, data: bytes) -> None:
        first = data[0]
        offset = 12 + 4 * (first & 0x0F)
        if first & 0x10 and len(data) >= offset + 4:
            offset += 4 + 4 * int.from_bytes(data[offset + 2 : offset + 4], "big")
        at = data.find(MAGIC, offset, offset + 8)
        if at < 0 or len(data) < at + _BODY.size:
            self.foreign += 1
            return
        _, publisher, kind, _ = _BODY.unpack_from(data, at)
        self.counts[(receiver, publisher, kind)] += 1

    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class Sender:
    """Sends every stream's media: audio at AUDIO_RATE packets/s, video as FRAME_RATE frames/s of
    bitrate/FRAME_RATE bytes split into packets of at most MAX_PAYLOAD bytes."""

    streams: list[Stream]
    video_bitrate: int
    running: bool = True
    late_ticks: int = 0
    """Ticks that started more than one tick late: the generator could not keep up."""
    ticks: int = 0

    def video_packets(self, bitrate: int) -> list[int]:
        """Sizes of one video frame's packets at that bitrate."""
        frame = max(1, bitrate // 8 // FRAME_RATE)
        count = -(-frame // MAX_PAYLOAD)
        return [frame // count + 12] * count

    def target_pps(self) -> float:
        audio = sum(1 for s in self.streams if s.kind == AUDIO) * AUDIO_RATE
        video = sum(
            FRAME_RATE * len(self.video_packets(self.video_bitrate // s.share)) for s in self.streams if s.kind == VIDEO
        )
        return audio + video

    def target_forwarded_pps(self) -> float:
        """Of target_pps, what the subscribers are to receive (audio, each camera's top layer)."""
        audio = sum(1 for s in self.streams if s.kind == AUDIO) * AUDIO_RATE
        video = sum(
            FRAME_RATE * len(self.video_packets(self.video_bitrate))
            for s in self.streams
            if s.kind == VIDEO and s.forwarded
        )
        return audio + video

    async def run(self) -> None:
        tick = 1 / AUDIO_RATE
        frame_every = AUDIO_RATE // FRAME_RATE
        next_at = time.monotonic()
        while self.running:
            sends = []
            for stream in self.streams:
                if stream.kind == AUDIO:
                    sends.append(stream.send(stream.packet(AUDIO_SIZE, False, 960)))
                elif self.ticks % frame_every == 0:
                    sizes = self.video_packets(self.video_bitrate // stream.share)
                    for i, size in enumerate(sizes):
                        step = 90000 // FRAME_RATE if i == 0 else 0
                        sends.append(stream.send(stream.packet(size, i == len(sizes) - 1, step)))
            await asyncio.gather(*sends)
            self.ticks += 1
            next_at += tick
            delay = next_at - time.monotonic()
            if delay < -tick:
                self.late_ticks += 1
                next_at = time.monotonic()  # do not burst to catch up
            await asyncio.sleep(max(0.0, delay))
