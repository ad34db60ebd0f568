"""The reference RTCP parser and serializer (RFC 3550, RFC 4585, RFC 5104, REMB, TWCC)."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import ClassVar

from engine.rtp.common import (
    APP_MIN_SIZE,
    FEEDBACK_SIZE,
    FIR_ENTRY_SIZE,
    FIR_MIN_SIZE,
    MAX_COUNT,
    MAX_LENGTH,
    NACK_MIN_SIZE,
    PSFB_AFB,
    PSFB_FIR,
    PSFB_PLI,
    REMB_IDENTIFIER,
    REMB_MIN_SIZE,
    REPORT_BLOCK_SIZE,
    RR_SIZE,
    RTCP_APP,
    RTCP_BYE,
    RTCP_HEADER_SIZE,
    RTCP_PSFB,
    RTCP_RR,
    RTCP_RTPFB,
    RTCP_SDES,
    RTCP_SR,
    RTCP_XR,
    RTP_VERSION,
    RTPFB_NACK,
    RTPFB_TWCC,
    SR_SIZE,
    TWCC_MIN_SIZE,
    ParseError,
    _check_padding,
    _pad4,
)


@dataclass
class RtcpReportBlock:
    """One reception report (RFC 3550 section 6.4.1)."""

    ssrc: int
    fraction_lost: int = 0
    packets_lost: int = 0
    """Cumulative number of packets lost: a signed 24-bit value."""
    highest_sequence: int = 0
    jitter: int = 0
    last_sr: int = 0
    delay_since_last_sr: int = 0

    @classmethod
    def parse(cls, data: bytes, pos: int) -> RtcpReportBlock:
        ssrc, lost, highest, jitter, lsr, dlsr = struct.unpack_from("!IIIIII", data, pos)
        packets_lost = lost & 0xFFFFFF
        if packets_lost & 0x800000:
            packets_lost -= 1 << 24
        return cls(ssrc, lost >> 24, packets_lost, highest, jitter, lsr, dlsr)

    def serialize(self) -> bytes:
        lost = self.fraction_lost << 24 | (self.packets_lost & 0xFFFFFF)
        return struct.pack(
            "!IIIIII", self.ssrc, lost, self.highest_sequence, self.jitter, self.last_sr, self.delay_since_last_sr
        )


class _Rtcp:
    """What every RTCP packet class answers, as the engine's RtcpView sees it."""

    packet_type: ClassVar[int]
    feedback: ClassVar[str] = "none"
    padding: bytes

    @property
    def count(self) -> int:
        raise NotImplementedError

    @property
    def sender_ssrc(self) -> int:
        return getattr(self, "ssrc", 0)

    def body(self) -> bytes:
        """Everything after the 4-byte header, without padding."""
        raise NotImplementedError


@dataclass
class RtcpSenderReport(_Rtcp):
    packet_type: ClassVar[int] = RTCP_SR
    ssrc: int = 0
    ntp_timestamp: int = 0
    rtp_timestamp: int = 0
    packet_count: int = 0
    octet_count: int = 0
    reports: list[RtcpReportBlock] = field(default_factory=list)
    extension: bytes = b""
    """Profile-specific extension after the report blocks."""
    padding: bytes = b""

    @property
    def count(self) -> int:
        return len(self.reports)

    def body(self) -> bytes:
        return (
            struct.pack(
                "!IQIII", self.ssrc, self.ntp_timestamp, self.rtp_timestamp, self.packet_count, self.octet_count
            )
            + b"".join(r.serialize() for r in self.reports)
            + self.extension
        )


@dataclass
class RtcpReceiverReport(_Rtcp):
    packet_type: ClassVar[int] = RTCP_RR
    ssrc: int = 0
    reports: list[RtcpReportBlock] = field(default_factory=list)
    extension: bytes = b""
    padding: bytes = b""

    @property
    def count(self) -> int:
        return len(self.reports)

    def body(self) -> bytes:
        return struct.pack("!I", self.ssrc) + b"".join(r.serialize() for r in self.reports) + self.extension


@dataclass
class RtcpSdesChunk:
    ssrc: int
    items: list[tuple[int, bytes]] = field(default_factory=list)
    """(type, text): 1 CNAME, 2 NAME, ... (RFC 3550 section 6.5)."""


@dataclass
class RtcpSourceDescription(_Rtcp):
    packet_type: ClassVar[int] = RTCP_SDES
    chunks: list[RtcpSdesChunk] = field(default_factory=list)
    trailer: bytes = b""
    """Bytes after the last chunk (extra null octets some encoders write), kept for the round trip."""
    padding: bytes = b""

    @property
    def count(self) -> int:
        return len(self.chunks)

    @property
    def sender_ssrc(self) -> int:
        return self.chunks[0].ssrc if self.chunks else 0

    def body(self) -> bytes:
        out = bytearray()
        for chunk in self.chunks:
            out += struct.pack("!I", chunk.ssrc)
            for item_type, text in chunk.items:
                if not 1 <= item_type <= 255 or len(text) > 255:
                    raise ValueError("RTCP SDES item needs a type in 1..255 and at most 255 bytes")
                out += bytes((item_type, len(text))) + text
            out += bytes(1 + _pad4(len(out) + 1))  # the null item, then to the 32-bit boundary
        return bytes(out) + self.trailer


@dataclass
class RtcpBye(_Rtcp):
    packet_type: ClassVar[int] = RTCP_BYE
    ssrcs: list[int] = field(default_factory=list)
    reason: bytes | None = None
    trailer: bytes = b""
    """Bytes after the reason's 32-bit boundary, kept for the round trip."""
    padding: bytes = b""

    @property
    def count(self) -> int:
        return len(self.ssrcs)

    @property
    def sender_ssrc(self) -> int:
        return self.ssrcs[0] if self.ssrcs else 0

    def body(self) -> bytes:
        out = struct.pack(f"!{len(self.ssrcs)}I", *self.ssrcs)
        if self.reason is not None:
            if len(self.reason) > 255:
                raise ValueError("RTCP BYE reason is longer than 255 bytes")
            out += bytes((len(self.reason),)) + self.reason + bytes(_pad4(1 + len(self.reason)))
        return out + self.trailer


@dataclass
class RtcpApp(_Rtcp):
    packet_type: ClassVar[int] = RTCP_APP
    subtype: int = 0
    ssrc: int = 0
    name: bytes = b"    "
    data: bytes = b""
    padding: bytes = b""

    @property
    def count(self) -> int:
        return self.subtype

    def body(self) -> bytes:
        if len(self.name) != 4:
            raise ValueError("RTCP APP needs a 4-byte name")
        return struct.pack("!I", self.ssrc) + self.name + self.data


@dataclass
class RtcpNack(_Rtcp):
    """Generic NACK (RFC 4585 section 6.2.1): (packet id, bitmask of the following lost packets)."""

    packet_type: ClassVar[int] = RTCP_RTPFB
    feedback: ClassVar[str] = "nack"
    ssrc: int = 0
    media_ssrc: int = 0
    items: list[tuple[int, int]] = field(default_factory=list)
    padding: bytes = b""

    @property
    def count(self) -> int:
        return RTPFB_NACK

    def lost(self) -> list[int]:
        """The sequence numbers reported lost, in order."""
        out = []
        for pid, blp in self.items:
            out.append(pid)
            out += [(pid + 1 + i) & 0xFFFF for i in range(16) if blp >> i & 1]
        return out

    def body(self) -> bytes:
        return struct.pack("!II", self.ssrc, self.media_ssrc) + b"".join(
            struct.pack("!HH", pid, blp) for pid, blp in self.items
        )


@dataclass
class RtcpTransportFeedback(_Rtcp):
    """Transport-wide congestion control feedback, its FCI kept raw (base sequence, status count,
    reference time, feedback packet count, then chunks and deltas)."""

    packet_type: ClassVar[int] = RTCP_RTPFB
    feedback: ClassVar[str] = "twcc"
    ssrc: int = 0
    media_ssrc: int = 0
    fci: bytes = b""
    padding: bytes = b""

    @property
    def count(self) -> int:
        return RTPFB_TWCC

    @property
    def base_sequence(self) -> int:
        return struct.unpack_from("!H", self.fci)[0]

    @property
    def status_count(self) -> int:
        return struct.unpack_from("!H", self.fci, 2)[0]

    @property
    def feedback_count(self) -> int:
        return self.fci[7]

    def body(self) -> bytes:
        return struct.pack("!II", self.ssrc, self.media_ssrc) + self.fci


@dataclass
class RtcpPli(_Rtcp):
    packet_type: ClassVar[int] = RTCP_PSFB
    feedback: ClassVar[str] = "pli"
    ssrc: int = 0
    media_ssrc: int = 0
    padding: bytes = b""

    @property
    def count(self) -> int:
        return PSFB_PLI

    def body(self) -> bytes:
        return struct.pack("!II", self.ssrc, self.media_ssrc)


@dataclass
class RtcpFir(_Rtcp):
    """Full intra request (RFC 5104 section 4.3.1): (SSRC, command sequence number) entries."""

    packet_type: ClassVar[int] = RTCP_PSFB
    feedback: ClassVar[str] = "fir"
    ssrc: int = 0
    media_ssrc: int = 0
    entries: list[tuple[int, int]] = field(default_factory=list)
    padding: bytes = b""

    @property
    def count(self) -> int:
        return PSFB_FIR

    def body(self) -> bytes:
        return struct.pack("!II", self.ssrc, self.media_ssrc) + b"".join(
            struct.pack("!IB3x", ssrc, seq) for ssrc, seq in self.entries
        )


@dataclass
class RtcpRemb(_Rtcp):
    """Receiver estimated maximum bitrate: mantissa * 2 ** exponent bits per second."""

    packet_type: ClassVar[int] = RTCP_PSFB
    feedback: ClassVar[str] = "remb"
    ssrc: int = 0
    media_ssrc: int = 0
    exponent: int = 0
    mantissa: int = 0
    ssrcs: list[int] = field(default_factory=list)
    trailer: bytes = b""
    """Bytes after the SSRC list, kept for the round trip."""
    padding: bytes = b""

    @property
    def count(self) -> int:
        return PSFB_AFB

    @property
    def bitrate(self) -> int:
        return self.mantissa << self.exponent

    def body(self) -> bytes:
        if not (0 <= self.exponent < 64 and 0 <= self.mantissa < 1 << 18 and len(self.ssrcs) < 256):
            raise ValueError("RTCP REMB needs a 6-bit exponent, an 18-bit mantissa, at most 255 SSRCs")
        return (
            struct.pack(
                "!II4sBBH",
                self.ssrc,
                self.media_ssrc,
                REMB_IDENTIFIER,
                len(self.ssrcs),
                self.exponent << 2 | self.mantissa >> 16,
                self.mantissa & 0xFFFF,
            )
            + struct.pack(f"!{len(self.ssrcs)}I", *self.ssrcs)
            + self.trailer
        )


@dataclass
class RtcpFeedback(_Rtcp):
    """Any other RTPFB/PSFB message (RFC 4585 section 6.1), its FCI kept raw."""

    packet_type: int = RTCP_PSFB  # type: ignore[misc]
    fmt: int = 0
    ssrc: int = 0
    media_ssrc: int = 0
    fci: bytes = b""
    padding: bytes = b""
    feedback: ClassVar[str] = "other"

    @property
    def count(self) -> int:
        return self.fmt

    def body(self) -> bytes:
        return struct.pack("!II", self.ssrc, self.media_ssrc) + self.fci


@dataclass
class RtcpPacket(_Rtcp):
    """Any other RTCP packet (XR, or a type this module does not know), its body kept raw."""

    packet_type: int = RTCP_XR  # type: ignore[misc]
    subtype: int = 0
    data: bytes = b""
    padding: bytes = b""

    @property
    def count(self) -> int:
        return self.subtype

    @property
    def sender_ssrc(self) -> int:
        return struct.unpack_from("!I", self.data)[0] if len(self.data) >= 4 else 0

    def body(self) -> bytes:
        return self.data


RtcpAny = (
    RtcpSenderReport
    | RtcpReceiverReport
    | RtcpSourceDescription
    | RtcpBye
    | RtcpApp
    | RtcpNack
    | RtcpTransportFeedback
    | RtcpPli
    | RtcpFir
    | RtcpRemb
    | RtcpFeedback
    | RtcpPacket
)


def _truncated(what: str, size: int, needed: int) -> ParseError:
    return ParseError("rtcp_truncated", f"RTCP {what} of {size} bytes is shorter than the {needed} it needs")


def _parse_sdes(data: bytes, count: int) -> RtcpSourceDescription:
    chunks = []
    pos = RTCP_HEADER_SIZE
    for _ in range(count):
        if len(data) - pos < 4:
            raise ParseError("rtcp_truncated", "RTCP SDES chunk has a truncated SSRC")
        chunk = RtcpSdesChunk(struct.unpack_from("!I", data, pos)[0])
        pos += 4
        while True:
            if pos >= len(data):
                raise ParseError("rtcp_truncated", "RTCP SDES chunk has no terminating null item")
            if data[pos] == 0:
                break
            if len(data) - pos < 2 or data[pos + 1] > len(data) - pos - 2:
                raise ParseError("rtcp_truncated", "RTCP SDES item runs past the packet")
            chunk.items.append((data[pos], data[pos + 2 : pos + 2 + data[pos + 1]]))
            pos += 2 + data[pos + 1]
        pos = (pos + 4) & ~3
        if pos > len(data):
            raise ParseError("rtcp_truncated", "RTCP SDES chunk padding runs past the packet")
        chunks.append(chunk)
    return RtcpSourceDescription(chunks, data[pos:])


def _parse_feedback(data: bytes, packet_type: int, fmt: int) -> RtcpAny:
    size = len(data)
    if size < FEEDBACK_SIZE:
        raise _truncated("feedback", size, FEEDBACK_SIZE)
    ssrc, media_ssrc = struct.unpack_from("!II", data, 4)
    fci = data[FEEDBACK_SIZE:]
    if packet_type == RTCP_RTPFB:
        if fmt == RTPFB_NACK:
            if size < NACK_MIN_SIZE:
                raise _truncated("NACK", size, NACK_MIN_SIZE)
            items = [struct.unpack_from("!HH", fci, i) for i in range(0, len(fci), 4)]
            return RtcpNack(ssrc, media_ssrc, items)
        if fmt == RTPFB_TWCC:
            if size < TWCC_MIN_SIZE:
                raise _truncated("TWCC", size, TWCC_MIN_SIZE)
            return RtcpTransportFeedback(ssrc, media_ssrc, fci)
    else:
        if fmt == PSFB_PLI:
            if size != FEEDBACK_SIZE:
                raise ParseError("rtcp_bad_length", f"RTCP PLI is {size} bytes, not 12")
            return RtcpPli(ssrc, media_ssrc)
        if fmt == PSFB_FIR:
            if size < FIR_MIN_SIZE or len(fci) % FIR_ENTRY_SIZE:
                raise ParseError("rtcp_truncated", f"RTCP FIR of {size} bytes has a truncated entry")
            entries = [struct.unpack_from("!IB", fci, i) for i in range(0, len(fci), FIR_ENTRY_SIZE)]
            return RtcpFir(ssrc, media_ssrc, entries)
        if fmt == PSFB_AFB and fci[:4] == REMB_IDENTIFIER:
            if size < REMB_MIN_SIZE:
                raise _truncated("REMB", size, REMB_MIN_SIZE)
            n, exp_mantissa, mantissa_low = struct.unpack_from("!BBH", fci, 4)
            if size < REMB_MIN_SIZE + 4 * n:
                raise _truncated("REMB", size, REMB_MIN_SIZE + 4 * n)
            return RtcpRemb(
                ssrc,
                media_ssrc,
                exp_mantissa >> 2,
                (exp_mantissa & 3) << 16 | mantissa_low,
                list(struct.unpack_from(f"!{n}I", fci, 8)),
                fci[8 + 4 * n :],
            )
    return RtcpFeedback(packet_type, fmt, ssrc, media_ssrc, fci)


def _parse_one(data: bytes) -> RtcpAny:
    """One RTCP packet without its padding: `data` is a whole number of 32-bit words, or ends mid-word
    where padding of 1 to 3 bytes (libwebrtc's) fills the last word."""
    count = data[0] & 0x1F
    packet_type = data[1]
    size = len(data)
    if packet_type == RTCP_SR:
        needed = SR_SIZE + REPORT_BLOCK_SIZE * count
        if size < needed:
            raise _truncated("SR", size, needed)
        values = struct.unpack_from("!IQIII", data, 4)
        reports = [RtcpReportBlock.parse(data, SR_SIZE + REPORT_BLOCK_SIZE * i) for i in range(count)]
        return RtcpSenderReport(*values, reports=reports, extension=data[needed:])
    if packet_type == RTCP_RR:
        needed = RR_SIZE + REPORT_BLOCK_SIZE * count
        if size < needed:
            raise _truncated("RR", size, needed)
        reports = [RtcpReportBlock.parse(data, RR_SIZE + REPORT_BLOCK_SIZE * i) for i in range(count)]
        return RtcpReceiverReport(struct.unpack_from("!I", data, 4)[0], reports, data[needed:])
    if packet_type == RTCP_SDES:
        return _parse_sdes(data, count)
    if packet_type == RTCP_BYE:
        reason_at = RTCP_HEADER_SIZE + 4 * count
        if size < reason_at:
            raise _truncated("BYE", size, reason_at)
        reason, end = None, reason_at
        if size > reason_at:
            if data[reason_at] > size - reason_at - 1:
                raise ParseError("rtcp_truncated", "RTCP BYE reason runs past the packet")
            reason = data[reason_at + 1 : reason_at + 1 + data[reason_at]]
            end = reason_at + 1 + len(reason)
            end += _pad4(end)
        return RtcpBye(list(struct.unpack_from(f"!{count}I", data, 4)), reason, data[end:])
    if packet_type == RTCP_APP:
        if size < APP_MIN_SIZE:
            raise _truncated("APP", size, APP_MIN_SIZE)
        return RtcpApp(count, struct.unpack_from("!I", data, 4)[0], data[8:12], data[12:])
    if packet_type in (RTCP_RTPFB, RTCP_PSFB):
        return _parse_feedback(data, packet_type, count)
    return RtcpPacket(packet_type, count, data[RTCP_HEADER_SIZE:])


def parse_rtcp(data: bytes, max_parts: int | None = None) -> list[RtcpAny]:
    """Parses an RTCP compound (or an RFC 5506 reduced-size packet) into its packets.

    Raises ParseError (a ValueError) for anything the engine drops; with `max_parts`, a compound of
    more packets is dropped as "oversize", as the engine does with its fixed array of views.
    """
    if len(data) < RTCP_HEADER_SIZE:
        raise ParseError("truncated_header", "RTCP packet is shorter than its 4-byte header")
    if len(data) > MAX_LENGTH:
        raise ParseError("oversize", "RTCP compound is longer than 65535 bytes")
    packets: list[RtcpAny] = []
    pos = 0
    while pos < len(data):
        remaining = len(data) - pos
        if remaining < RTCP_HEADER_SIZE:
            raise ParseError("rtcp_bad_length", f"RTCP compound has {remaining} bytes left after its last packet")
        first, _, length = struct.unpack_from("!BBH", data, pos)
        if first >> 6 != RTP_VERSION:
            raise ParseError("bad_version", f"RTCP packet has version {first >> 6}, not 2")
        size = 4 * (length + 1)
        if size > remaining:
            raise ParseError(
                "rtcp_bad_length", f"RTCP length field says {size} bytes but {remaining} are left in the datagram"
            )
        content = size
        padding = b""
        if first & 0x20:
            if size != remaining:
                raise ParseError("bad_padding", "RTCP padding on a packet other than the last of the compound")
            count = data[pos + size - 1]
            if count == 0:
                raise ParseError("bad_padding", "RTCP packet has a padding count of 0")
            # RFC 3550 says a multiple of 4, but libwebrtc pads transport-cc feedback with 1 to 3 bytes
            if count > size - RTCP_HEADER_SIZE:
                raise ParseError("bad_padding", "RTCP packet has padding longer than its body")
            content = size - count
            padding = data[pos + content : pos + size]
        if max_parts is not None and len(packets) >= max_parts:
            raise ParseError("oversize", f"RTCP compound has more than {max_parts} packets")
        packet = _parse_one(data[pos : pos + content])
        packet.padding = padding
        packets.append(packet)
        pos += size
    return packets


def serialize_rtcp(packets: list[RtcpAny] | RtcpAny) -> bytes:
    """Serializes one RTCP packet or a compound; only the last packet may carry padding."""
    if not isinstance(packets, list):
        packets = [packets]
    out = bytearray()
    for i, packet in enumerate(packets):
        body = packet.body()
        count = packet.count
        if not 0 <= count <= MAX_COUNT:
            raise ValueError(f"RTCP {type(packet).__name__} count {count} does not fit in 5 bits")
        # each packet in whole words: its body, or (as libwebrtc pads) its body and padding that fills it
        if (len(body) + len(packet.padding)) % 4:
            raise ValueError(f"RTCP {type(packet).__name__} body and padding are not in 32-bit words")
        _check_padding(packet.padding, "RTCP", multiple_of_4=False)
        if packet.padding and i != len(packets) - 1:
            raise ValueError("RTCP padding is only allowed on the last packet of a compound")
        size = RTCP_HEADER_SIZE + len(body) + len(packet.padding)
        first = RTP_VERSION << 6 | (0x20 if packet.padding else 0) | count
        out += struct.pack("!BBH", first, packet.packet_type, size // 4 - 1)
        out += body
        out += packet.padding
    return bytes(out)
