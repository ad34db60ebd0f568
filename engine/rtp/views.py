"""What the engine's packet views report (engine._testing.inspect_rtp / inspect_rtcp): the oracle's
side of the parity tests."""

from __future__ import annotations

import struct

from engine.rtp.common import RTP_HEADER_SIZE
from engine.rtp.packet import RtpPacket, _extension_form, serialize_rtp
from engine.rtp.rtcp import RtcpAny, serialize_rtcp


def rtp_view(packet: RtpPacket) -> dict:
    """The fields of the engine's RtpView of `packet` once serialized, as inspect_rtp returns them."""
    data = serialize_rtp(packet)
    header = RTP_HEADER_SIZE + 4 * len(packet.csrc)
    extension = packet.extension_profile is not None or bool(packet.extensions)
    ext_length = struct.unpack_from("!H", data, header + 2)[0] * 4 if extension else 0
    payload_offset = header + (4 + ext_length if extension else 0)
    form = _extension_form(struct.unpack_from("!H", data, header)[0]) if extension else 0
    elements = [(i, v) for i, v in packet.extensions if i != 0] if form else []
    lookup: dict[int, bytes] = {}
    for ext_id, value in elements:
        lookup.setdefault(ext_id, value)
    return {
        "length": len(data),
        "marker": int(packet.marker),
        "payload_type": packet.payload_type,
        "sequence": packet.sequence,
        "timestamp": packet.timestamp,
        "ssrc": packet.ssrc,
        "csrc": list(packet.csrc),
        "extension": extension,
        "ext_profile": struct.unpack_from("!H", data, header)[0] if extension else 0,
        "ext_offset": header + 4 if extension else 0,
        "ext_length": ext_length,
        "extensions": elements,
        "lookup": lookup,
        "payload_offset": payload_offset,
        "payload": packet.payload,
        "padding_length": len(packet.padding),
    }


def rtcp_view(packets: list[RtcpAny]) -> list[dict]:
    """The engine's RtcpViews of a compound once serialized, as inspect_rtcp returns them."""
    out, offset = [], 0
    for packet in packets:
        length = len(serialize_rtcp(packet))
        out.append(
            {
                "offset": offset,
                "length": length,
                "packet_type": packet.packet_type,
                "count": packet.count,
                "sender_ssrc": packet.sender_ssrc,
                "media_ssrc": getattr(packet, "media_ssrc", 0),
                "feedback": packet.feedback,
            }
        )
        offset += length
    return out
