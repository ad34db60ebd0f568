"""One WebM file per recorded track: RTP depacketized and muxed as it came, never re-encoded.

VP8 (RFC 7741) frames are assembled from their packets (aiortc's payload descriptor parser), VP9
ones in control.recording.vp9, and muxed from the first keyframe on; Opus (RFC 7587) packets are one
frame each. Every track's file
starts at 0; where it starts in the recording is its `offset` (seconds), in the manifest."""

from __future__ import annotations

import fractions
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
from aiortc.codecs.vpx import VpxPayloadDescriptor

from control.recording.rtp import RtpPacket, Unwrapper

OPUS_PRE_SKIP = 312


@dataclass(frozen=True)
class Track:
    """What the recorder needs to know of one consumer sent to it."""

    ssrc: int
    name: str
    """The file's stem: ``<participant>.<source>``."""
    participant: str
    source: str
    kind: str
    codec: str
    """``vp8``, ``vp9`` or ``opus`` (what can be muxed into WebM without re-encoding)."""
    clock_rate: int
    channels: int = 2


def opus_head(channels: int) -> bytes:
    """Matroska's CodecPrivate for Opus (RFC 7845 §5.1, mapping family 0)."""
    return (
        b"OpusHead"
        + bytes([1, channels])
        + OPUS_PRE_SKIP.to_bytes(2, "little")
        + (48000).to_bytes(4, "little")
        + b"\0\0\0"
    )


class TrackFile:
    """A track's WebM file; opened with its first packet worth writing."""

    def __init__(self, track: Track, directory: Path, offset: float) -> None:
        self.track = track
        self.path = directory / f"{track.name}.webm"
        self.offset = offset
        self.frames = 0
        self.dropped = 0
        self.duration = 0.0
        self._container: Any = None
        self._stream: Any = None
        self._clock = Unwrapper()
        self._last_pts = -1
        self._time_base = fractions.Fraction(1, track.clock_rate)

    def _open(self, width: int = 0, height: int = 0) -> None:
        stem, n = self.path.stem, 1
        while self.path.exists():  # the same track name again (a meeting moved while recorded)
            n += 1
            self.path = self.path.with_name(f"{stem}-{n}.webm")
        self._container = av.open(str(self.path), "w", format="webm")
        if self.track.kind == "video":
            stream = self._container.add_stream("libvpx-vp9" if self.track.codec == "vp9" else "libvpx", rate=30)
            stream.width, stream.height = width, height
        else:
            stream = self._container.add_stream("libopus", rate=48000)
            stream.codec_context.extradata = opus_head(self.track.channels)
        stream.time_base = self._time_base
        self._stream = stream

    def write(self, data: bytes, timestamp: int, keyframe: bool, size: tuple[int, int] = (0, 0)) -> bool:
        """Mux one frame (RTP `timestamp`); video waits for its first keyframe. Whether it was written."""
        if self._container is None:
            if self.track.kind == "video" and not keyframe:
                self.dropped += 1
                return False
            self._open(*size)
        pts = self._clock(timestamp)
        if pts < 0 or pts <= self._last_pts:  # before the first, or late (reordered, repeated): the muxer
            self.dropped += 1  # takes only increasing timestamps
            return False
        packet = av.Packet(data)
        packet.stream = self._stream
        packet.pts = packet.dts = pts
        packet.time_base = self._time_base
        if keyframe:
            packet.is_keyframe = True
        try:
            self._container.mux(packet)
        except av.FFmpegError:
            self.dropped += 1
            return False
        self._last_pts = pts
        self.frames += 1
        self.duration = max(self.duration, float(pts * self._time_base))
        return True

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None


class Vp8Assembler:
    """Gathers a VP8 frame's packets (same timestamp, contiguous sequence numbers from the one that
    starts partition 0 to the marker); an incomplete frame is dropped and counted."""

    def __init__(self) -> None:
        self._pending: dict[int, dict[int, tuple[bool, bytes]]] = {}
        self.incomplete = 0

    def push(self, packet: RtpPacket) -> tuple[bytes, bool, tuple[int, int]] | None:
        """The frame (data, keyframe, (width, height) of a keyframe) this packet completes, if any."""
        try:
            descriptor, data = VpxPayloadDescriptor.parse(packet.payload)
        except ValueError:
            self.incomplete += 1
            return None
        parts = self._pending.setdefault(packet.timestamp, {})
        parts[packet.sequence] = (bool(descriptor.partition_start) and descriptor.partition_id == 0, data)
        if not packet.marker:
            if len(self._pending) > 8:  # frames that never got their marker
                oldest = min(self._pending, key=lambda t: min(self._pending[t]))
                del self._pending[oldest]
                self.incomplete += 1
            return None
        parts = self._pending.pop(packet.timestamp)
        starts = [s for s, (start, _) in parts.items() if start]
        if not starts:
            self.incomplete += 1
            return None
        first = starts[0]
        count = (packet.sequence - first) % 65536 + 1
        sequences = [(first + i) % 65536 for i in range(count)]
        if any(s not in parts for s in sequences):
            self.incomplete += 1
            return None
        frame = b"".join(parts[s][1] for s in sequences)
        keyframe = bool(frame) and not frame[0] & 0x01
        size = (0, 0)
        if keyframe and len(frame) >= 10 and frame[3:6] == b"\x9d\x01\x2a":
            size = (int.from_bytes(frame[6:8], "little") & 0x3FFF, int.from_bytes(frame[8:10], "little") & 0x3FFF)
        return frame, keyframe, size
