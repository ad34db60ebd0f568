"""VP9 over RTP (RFC 9628): the payload descriptor, frames gathered from their packets, and the size
a keyframe gives (its scalability structure, else its uncompressed header).

Only spatial layer 0 is kept: an SVC stream is recorded at its base resolution (the higher layers
depend on it and WebM holds one frame per timestamp)."""

from __future__ import annotations

from dataclasses import dataclass

from control.recording.rtp import RtpPacket


@dataclass(frozen=True)
class Descriptor:
    start: bool
    """B: the first packet of a frame."""
    end: bool
    """E: the last packet of a frame."""
    inter: bool
    """P: predicted from an earlier picture (False on a keyframe)."""
    spatial: int
    size: tuple[int, int] | None
    """Spatial layer 0's width and height, when the scalability structure gives them."""
    header: int
    """Bytes of descriptor before the VP9 data."""


def describe(payload: bytes) -> Descriptor:
    """The descriptor; IndexError or ValueError when the payload is too short for it."""
    b0 = payload[0]
    i = 1
    if b0 & 0x80:  # I: picture id, 7 or 15 bits
        i += 2 if payload[i] & 0x80 else 1
    spatial = 0
    flexible = bool(b0 & 0x10)
    if b0 & 0x20:  # L: layer indices (and TL0PICIDX when not flexible)
        spatial = (payload[i] >> 1) & 0x07
        i += 1 if flexible else 2
    if flexible and b0 & 0x40:  # reference indices, each with N (more follow)
        for _ in range(3):
            more = payload[i] & 0x01
            i += 1
            if not more:
                break
    size = None
    if b0 & 0x02:  # V: scalability structure
        ss = payload[i]
        i += 1
        layers = (ss >> 5) + 1
        if ss & 0x10:  # Y: each layer's resolution
            for layer in range(layers):
                width, height = int.from_bytes(payload[i : i + 2], "big"), int.from_bytes(payload[i + 2 : i + 4], "big")
                if layer == 0:
                    size = (width, height)
                i += 4
        if ss & 0x08:  # G: picture group description
            groups = payload[i]
            i += 1
            for _ in range(groups):
                i += 1 + ((payload[i] >> 2) & 0x03)
    if i > len(payload):
        raise ValueError("VP9 payload descriptor longer than the payload")
    return Descriptor(bool(b0 & 0x08), bool(b0 & 0x04), bool(b0 & 0x40), spatial, size, i)


class _Bits:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def read(self, n: int) -> int:
        value = 0
        for _ in range(n):
            byte = self.data[self.at >> 3]
            value = (value << 1) | ((byte >> (7 - (self.at & 7))) & 1)
            self.at += 1
        return value


def keyframe_size(frame: bytes) -> tuple[int, int] | None:
    """Width and height from a keyframe's uncompressed header (VP9 bitstream §6.2), or None."""
    try:
        bits = _Bits(frame)
        if bits.read(2) != 2:
            return None
        profile = bits.read(1) | bits.read(1) << 1
        if profile == 3:
            bits.read(1)
        if bits.read(1) or bits.read(1):  # show_existing_frame; frame_type 1: not a keyframe
            return None
        bits.read(2)  # show_frame, error_resilient_mode
        if bits.read(24) != 0x498342:
            return None
        if profile >= 2:
            bits.read(1)
        if bits.read(3) != 7:  # not sRGB: colour range, and subsampling for profiles 1 and 3
            bits.read(1)
            if profile in (1, 3):
                bits.read(3)
        elif profile in (1, 3):
            bits.read(1)
        return bits.read(16) + 1, bits.read(16) + 1
    except IndexError:
        return None


class Vp9Assembler:
    """Gathers a frame of spatial layer 0 (same timestamp, contiguous sequence numbers from the B
    packet to the E packet); an incomplete frame is dropped and counted."""

    def __init__(self) -> None:
        self._pending: dict[int, dict[int, tuple[Descriptor, bytes]]] = {}
        self.incomplete = 0

    def push(self, packet: RtpPacket) -> tuple[bytes, bool, tuple[int, int]] | None:
        try:
            d = describe(packet.payload)
        except (IndexError, ValueError):
            self.incomplete += 1
            return None
        if d.spatial != 0:
            return None
        parts = self._pending.setdefault(packet.timestamp, {})
        parts[packet.sequence] = (d, packet.payload[d.header :])
        if not d.end:
            if len(self._pending) > 8:
                oldest = min(self._pending, key=lambda t: min(self._pending[t]))
                del self._pending[oldest]
                self.incomplete += 1
            return None
        parts = self._pending.pop(packet.timestamp)
        starts = [s for s, (desc, _) in parts.items() if desc.start]
        if not starts:
            self.incomplete += 1
            return None
        first = starts[0]
        sequences = [(first + i) % 65536 for i in range((packet.sequence - first) % 65536 + 1)]
        if any(s not in parts for s in sequences):
            self.incomplete += 1
            return None
        frame = b"".join(parts[s][1] for s in sequences)
        head = parts[first][0]
        keyframe = not head.inter
        size = (head.size or keyframe_size(frame) or (0, 0)) if keyframe else (0, 0)
        return frame, keyframe, size
