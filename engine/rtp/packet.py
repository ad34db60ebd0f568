"""The reference RTP parser and serializer (RFC 3550, RFC 8285 header extensions)."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from engine.rtp.common import (
    EXTENSION_ID_RESERVED,
    EXTENSION_PROFILE_ONE_BYTE,
    EXTENSION_PROFILE_TWO_BYTE,
    EXTENSION_PROFILE_TWO_BYTE_MASK,
    MAX_LENGTH,
    RTP_HEADER_SIZE,
    RTP_VERSION,
    ParseError,
    _check_padding,
    _pad4,
)


@dataclass
class RtpPacket:
    """An RTP packet (RFC 3550 section 5.1) with its RFC 8285 header extensions."""

    payload_type: int = 0
    marker: bool = False
    sequence: int = 0
    timestamp: int = 0
    ssrc: int = 0
    csrc: list[int] = field(default_factory=list)
    extension_profile: int | None = None
    """"defined by profile" of the extension header: 0xBEDE, 0x100x, another value, or None (X=0)."""
    extensions: list[tuple[int, bytes]] = field(default_factory=list)
    """RFC 8285 elements (id, value), in order; (0, b"") is one padding byte between elements.
    Trailing padding to the 32-bit boundary is implicit."""
    extension_data: bytes = b""
    """The extension block of a profile other than RFC 8285's, kept opaque."""
    payload: bytes = b""
    padding: bytes = b""
    """Padding bytes, the last one being their count (RFC 3550 section 5.1, P bit)."""

    def extension(self, ext_id: int) -> bytes | None:
        """The value of the first element with this id, or None."""
        for element_id, value in self.extensions:
            if element_id == ext_id and element_id != 0:
                return value
        return None


def _extension_form(profile: int) -> int:
    """1: one-byte form, 2: two-byte form, 0: not RFC 8285."""
    if profile == EXTENSION_PROFILE_ONE_BYTE:
        return 1
    if profile & EXTENSION_PROFILE_TWO_BYTE_MASK == EXTENSION_PROFILE_TWO_BYTE:
        return 2
    return 0


def _parse_extension_elements(block: bytes, one_byte: bool) -> list[tuple[int, bytes]]:
    elements: list[tuple[int, bytes]] = []
    pos = 0
    while pos < len(block):
        b = block[pos]
        if b == 0:
            elements.append((0, b""))
            pos += 1
            continue
        if one_byte:
            ext_id, size = b >> 4, (b & 0x0F) + 1
            if ext_id == EXTENSION_ID_RESERVED:
                raise ParseError("bad_extension", "RTP header extension uses reserved id 15")
            if ext_id == 0:
                raise ParseError("bad_extension", "RTP header extension has id 0 with a non-zero length")
            start = pos + 1
        else:
            if len(block) - pos < 2:
                raise ParseError("bad_extension", "RTP header extension element has a truncated header")
            ext_id, size = b, block[pos + 1]
            start = pos + 2
        if start + size > len(block):
            raise ParseError("bad_extension", "RTP header extension element runs past the extension block")
        elements.append((ext_id, block[start : start + size]))
        pos = start + size
    # Trailing padding is implicit: up to 3 bytes are what the serializer adds back.
    trailing = 0
    while trailing < 3 and trailing < len(elements) and elements[-1 - trailing] == (0, b""):
        trailing += 1
    return elements[: len(elements) - trailing]


def parse_rtp(data: bytes) -> RtpPacket:
    """Parses an RTP packet; raises ParseError (a ValueError) for anything the engine drops."""
    if len(data) < RTP_HEADER_SIZE:
        raise ParseError("truncated_header", "RTP packet is shorter than its 12-byte header")
    if len(data) > MAX_LENGTH:
        raise ParseError("oversize", "RTP packet is longer than 65535 bytes")
    first, second, sequence, timestamp, ssrc = struct.unpack_from("!BBHII", data)
    if first >> 6 != RTP_VERSION:
        raise ParseError("bad_version", f"RTP packet has version {first >> 6}, not 2")
    csrc_count = first & 0x0F
    pos = RTP_HEADER_SIZE + 4 * csrc_count
    if pos > len(data):
        raise ParseError("truncated_csrc", "RTP packet has truncated CSRC list")
    packet = RtpPacket(
        payload_type=second & 0x7F,
        marker=bool(second >> 7),
        sequence=sequence,
        timestamp=timestamp,
        ssrc=ssrc,
        csrc=list(struct.unpack_from(f"!{csrc_count}I", data, RTP_HEADER_SIZE)),
    )
    if first & 0x10:
        if len(data) - pos < 4:
            raise ParseError("truncated_extension", "RTP packet has truncated extension header")
        profile, words = struct.unpack_from("!HH", data, pos)
        pos += 4
        if pos + 4 * words > len(data):
            raise ParseError("truncated_extension", "RTP packet has truncated extension")
        block = data[pos : pos + 4 * words]
        pos += 4 * words
        packet.extension_profile = profile
        form = _extension_form(profile)
        if form:
            packet.extensions = _parse_extension_elements(block, form == 1)
        else:
            packet.extension_data = block
    end = len(data)
    if first & 0x20:
        if end == pos:
            raise ParseError("bad_padding", "RTP packet has the padding bit set but no padding")
        count = data[-1]
        if count == 0:
            raise ParseError("bad_padding", "RTP packet has a padding count of 0")
        if count > end - pos:
            raise ParseError("bad_padding", "RTP packet has padding longer than its payload")
        end -= count
        packet.padding = data[end:]
    packet.payload = data[pos:end]
    return packet


def _serialize_extension_elements(elements: list[tuple[int, bytes]], one_byte: bool) -> bytes:
    out = bytearray()
    for ext_id, value in elements:
        if ext_id == 0:
            if value:
                raise ValueError("RTP header extension padding (id 0) has no value")
            out.append(0)
        elif one_byte:
            if not 1 <= ext_id <= 14:
                raise ValueError(f"RTP one-byte header extension id {ext_id} is outside 1..14")
            if not 1 <= len(value) <= 16:
                raise ValueError(f"RTP one-byte header extension value of {len(value)} bytes is outside 1..16")
            out.append(ext_id << 4 | (len(value) - 1))
            out += value
        else:
            if not 1 <= ext_id <= 255:
                raise ValueError(f"RTP two-byte header extension id {ext_id} is outside 1..255")
            if len(value) > 255:
                raise ValueError(f"RTP two-byte header extension value of {len(value)} bytes is over 255")
            out += bytes((ext_id, len(value)))
            out += value
    return bytes(out) + bytes(_pad4(len(out)))


def serialize_rtp(packet: RtpPacket) -> bytes:
    """Serializes an RTP packet. With extensions but no profile, picks the one-byte form if it fits."""
    if len(packet.csrc) > 15:
        raise ValueError("RTP packet has more than 15 CSRCs")
    _check_padding(packet.padding, "RTP", multiple_of_4=False)
    profile = packet.extension_profile
    if profile is None and packet.extensions:
        one_byte = all(i == 0 or (1 <= i <= 14 and 1 <= len(v) <= 16) for i, v in packet.extensions)
        profile = EXTENSION_PROFILE_ONE_BYTE if one_byte else EXTENSION_PROFILE_TWO_BYTE
    first = RTP_VERSION << 6 | len(packet.csrc)
    if packet.padding:
        first |= 0x20
    if profile is not None:
        first |= 0x10
    out = bytearray(
        struct.pack(
            "!BBHII",
            first,
            int(packet.marker) << 7 | packet.payload_type,
            packet.sequence,
            packet.timestamp,
            packet.ssrc,
        )
    )
    out += struct.pack(f"!{len(packet.csrc)}I", *packet.csrc)
    if profile is not None:
        form = _extension_form(profile)
        if form:
            if packet.extension_data:
                raise ValueError("RTP extension_data is for profiles other than RFC 8285's")
            block = _serialize_extension_elements(packet.extensions, form == 1)
        else:
            if packet.extensions:
                raise ValueError(f"RTP extension profile {profile:#06x} has no RFC 8285 elements")
            if len(packet.extension_data) % 4:
                raise ValueError("RTP extension_data must be a multiple of 4 bytes")
            block = packet.extension_data
        out += struct.pack("!HH", profile, len(block) // 4)
        out += block
    out += packet.payload
    out += packet.padding
    return bytes(out)
