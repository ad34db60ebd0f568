"""The little of RTP (RFC 3550) the recorder reads: the fixed header, CSRCs and the extension skipped.

The control plane never imports the engine, so the recorder parses its loopback input itself; a
datagram that is not RTP is None (dropped and counted by the caller)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RtpPacket:
    payload_type: int
    marker: bool
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes


def parse(data: bytes) -> RtpPacket | None:
    if len(data) < 12 or data[0] >> 6 != 2:
        return None
    payload_type = data[1] & 0x7F
    if 72 <= payload_type <= 76:  # RTCP (RFC 5761)
        return None
    offset = 12 + 4 * (data[0] & 0x0F)
    if data[0] & 0x10:
        if len(data) < offset + 4:
            return None
        offset += 4 + 4 * int.from_bytes(data[offset + 2 : offset + 4], "big")
    end = len(data)
    if data[0] & 0x20:
        end -= data[-1]
    if end <= offset:
        return None
    return RtpPacket(
        payload_type,
        bool(data[1] & 0x80),
        int.from_bytes(data[2:4], "big"),
        int.from_bytes(data[4:8], "big"),
        int.from_bytes(data[8:12], "big"),
        data[offset:end],
    )


class Unwrapper:
    """Extends a 32-bit RTP timestamp into a monotonic count from the first one seen."""

    def __init__(self) -> None:
        self._first: int | None = None
        self._last = 0

    def __call__(self, timestamp: int) -> int:
        if self._first is None:
            self._first = timestamp
            return 0
        delta = (timestamp - self._first - self._last) % (1 << 32)
        if delta >= 1 << 31:
            delta -= 1 << 32
        self._last += delta
        return self._last
