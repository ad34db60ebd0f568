"""The reference of the fast path's transport-cc feedback reader (engine/twcc.pxi).

draft-holmer-rmcat-transport-wide-cc-extensions-01, section 3.1: the FCI of an RTPFB FMT 15 packet
is a base sequence number, a packet status count, a 24-bit signed reference time (64 ms units) and
a feedback packet count; then status chunks (run-length, or vectors of 14 one-bit or 7 two-bit
symbols) until every packet has a symbol; then one receive delta (250 us units) per received
packet: one unsigned byte for symbol 1, two signed bytes for symbol 2. Symbol 3 is reserved.

`parse_twcc` accepts and rejects exactly what the engine does, for the same reasons
(`ParseError.reason` is a name of engine._rtp.TWCC_ERRORS); `serialize_twcc` writes a feedback for
a list of arrivals, choosing chunks the way a receiver would, so tests and the benchmark's link
model speak the format without the engine.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from engine.rtp.common import ParseError

DELTA_UNIT_US = 250
REFERENCE_UNIT_US = 64000
FEEDBACK_MAX = 1024
"""Packets one feedback may report on in the engine (consts.pxd TWCC_FEEDBACK_MAX)."""

NOT_RECEIVED, SMALL_DELTA, LARGE_DELTA, RESERVED = 0, 1, 2, 3


@dataclass
class TwccFeedback:
    """One feedback: each packet from `base_seq` on, with its arrival time in us (None: lost)."""

    base_seq: int
    reference_time: int
    feedback_count: int
    packets: list[tuple[int, int | None]] = field(default_factory=list)


def parse_twcc(fci: bytes, capacity: int = FEEDBACK_MAX) -> TwccFeedback:
    if len(fci) < 8:
        raise ParseError("truncated_chunks", "transport-cc feedback shorter than its 8-byte header")
    base_seq, count = struct.unpack_from("!HH", fci)
    reference = int.from_bytes(fci[4:7], "big")
    if reference & 0x800000:
        reference -= 0x1000000
    if count == 0:
        raise ParseError("empty", "transport-cc feedback with a packet status count of 0")
    if count > capacity:
        raise ParseError("too_many", f"transport-cc feedback on {count} packets, more than {capacity}")
    symbols: list[int] = []
    pos = 8
    while len(symbols) < count:
        if len(fci) - pos < 2:
            raise ParseError("truncated_chunks", "transport-cc status chunks run past the packet")
        (chunk,) = struct.unpack_from("!H", fci, pos)
        pos += 2
        left = count - len(symbols)
        if not chunk & 0x8000:
            symbol = (chunk >> 13) & 3
            if symbol == RESERVED:
                raise ParseError("reserved_symbol", "transport-cc run-length chunk of the reserved symbol")
            symbols += [symbol] * min(chunk & 0x1FFF, left)
        elif chunk & 0x4000:
            for k in range(min(7, left)):
                symbol = (chunk >> (12 - 2 * k)) & 3
                if symbol == RESERVED:
                    raise ParseError("reserved_symbol", "transport-cc status vector with the reserved symbol")
                symbols.append(symbol)
        else:
            symbols += [(chunk >> (13 - k)) & 1 for k in range(min(14, left))]
    at = reference * REFERENCE_UNIT_US
    packets: list[tuple[int, int | None]] = []
    for i, symbol in enumerate(symbols):
        seq = (base_seq + i) & 0xFFFF
        if symbol == NOT_RECEIVED:
            packets.append((seq, None))
            continue
        size = 1 if symbol == SMALL_DELTA else 2
        if len(fci) - pos < size:
            raise ParseError("truncated_deltas", "transport-cc receive deltas run past the packet")
        delta = fci[pos] if size == 1 else struct.unpack_from("!h", fci, pos)[0]
        pos += size
        at += delta * DELTA_UNIT_US
        packets.append((seq, at))
    return TwccFeedback(base_seq, reference, fci[7], packets)


def _symbol(delta: int | None) -> int:
    if delta is None:
        return NOT_RECEIVED
    return SMALL_DELTA if 0 <= delta <= 0xFF else LARGE_DELTA


def serialize_twcc(base_seq: int, arrivals_us: list[int | None], feedback_count: int = 0) -> bytes:
    """The FCI reporting packets base_seq, base_seq + 1, ... arrived at `arrivals_us` (None: not
    received), padded to 32 bits. Arrival times are rounded down to 250 us, the reference time to
    64 ms at or below the first arrival; each delta must fit two signed bytes (about +-8 s)."""
    received = [a for a in arrivals_us if a is not None]
    reference = (received[0] // REFERENCE_UNIT_US) if received else 0
    at = reference * REFERENCE_UNIT_US // DELTA_UNIT_US
    deltas: list[int | None] = []
    for arrival in arrivals_us:
        if arrival is None:
            deltas.append(None)
            continue
        tick = arrival // DELTA_UNIT_US
        deltas.append(tick - at)
        at = tick
    if any(d is not None and not -0x8000 <= d <= 0x7FFF for d in deltas):
        raise ValueError("an arrival more than 8 s from the one before cannot be written")
    symbols = [_symbol(d) for d in deltas]
    chunks = b""
    i = 0
    while i < len(symbols):
        run = 1
        while i + run < len(symbols) and symbols[i + run] == symbols[i] and run < 0x1FFF:
            run += 1
        if run >= 7 or i + run == len(symbols):
            chunks += struct.pack("!H", (symbols[i] << 13) | run)
            i += run
            continue
        if LARGE_DELTA in symbols[i : i + 14]:
            value = 0xC000
            for k, symbol in enumerate(symbols[i : i + 7]):
                value |= symbol << (12 - 2 * k)
            i += 7
        else:
            value = 0x8000
            for k, symbol in enumerate(symbols[i : i + 14]):
                value |= symbol << (13 - k)
            i += 14
        chunks += struct.pack("!H", value)
    body = b"".join(
        bytes((d,)) if s == SMALL_DELTA else struct.pack("!h", d) for d, s in zip(deltas, symbols) if d is not None
    )
    header = struct.pack("!HH", base_seq & 0xFFFF, len(arrivals_us)) + (reference & 0xFFFFFF).to_bytes(3, "big")
    out = header + bytes((feedback_count & 0xFF,)) + chunks + body
    return out + b"\x00" * (-len(out) % 4)
