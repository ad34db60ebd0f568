"""The pure-Python reference parser and serializer (engine/rtp.py): messages, fields, round trips."""

import struct

import pytest

from engine.rtp import (
    ParseError,
    RtcpApp,
    RtcpBye,
    RtcpFir,
    RtcpNack,
    RtcpPacket,
    RtcpPli,
    RtcpReceiverReport,
    RtcpRemb,
    RtcpReportBlock,
    RtcpSdesChunk,
    RtcpSenderReport,
    RtcpSourceDescription,
    RtcpTransportFeedback,
    RtpPacket,
    parse_rtcp,
    parse_rtp,
    serialize_rtcp,
    serialize_rtp,
)


def test_parse_error_is_a_value_error_with_a_reason():
    with pytest.raises(ValueError, match="RTP packet has truncated CSRC list") as e:
        parse_rtp(b"\x81" + bytes(11))
    assert isinstance(e.value, ParseError) and e.value.reason == "truncated_csrc"


@pytest.mark.parametrize(
    "data, message",
    [
        (b"\x80", "RTP packet is shorter than its 12-byte header"),
        (b"\x40" + bytes(11), "RTP packet has version 1, not 2"),
        (b"\x90" + bytes(11), "RTP packet has truncated extension header"),
        (b"\x90" + bytes(11) + b"\xbe\xde\x00\x01", "RTP packet has truncated extension"),
        (b"\x90" + bytes(11) + b"\xbe\xde\x00\x01\xf0\x00\x00\x00", "RTP header extension uses reserved id 15"),
        (
            b"\x90" + bytes(11) + b"\xbe\xde\x00\x01\x13\x00\x00\x00",
            "RTP header extension element runs past the extension block",
        ),
        (b"\xa0" + bytes(11), "RTP packet has the padding bit set but no padding"),
        (b"\xa0" + bytes(11) + b"\x00", "RTP packet has a padding count of 0"),
        (b"\xa0" + bytes(11) + b"\x02", "RTP packet has padding longer than its payload"),
    ],
)
def test_rtp_messages(data, message):
    with pytest.raises(ValueError, match=f"^{message}$"):
        parse_rtp(data)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"\x80\xc9", "RTCP packet is shorter than its 4-byte header"),
        (b"\x80\xc9\x00\x02" + bytes(4), "RTCP length field says 12 bytes but 8 are left in the datagram"),
        (b"\x80\xc9\x00\x01" + bytes(6), "RTCP compound has 2 bytes left after its last packet"),
        (b"\x81\xce\x00\x03" + bytes(12), "RTCP PLI is 16 bytes, not 12"),
        (b"\x81\xc9\x00\x01" + bytes(4), "RTCP RR of 8 bytes is shorter than the 32 it needs"),
    ],
)
def test_rtcp_messages(data, message):
    with pytest.raises(ValueError, match=f"^{message}$"):
        parse_rtcp(data)


def test_rtp_fields():
    data = (
        struct.pack("!BBHII", 0xB1, 0xE0, 0xABCD, 0x01020304, 0x0A0B0C0D)
        + struct.pack("!I", 99)
        + b"\xbe\xde\x00\x02"
        + b"\x22abc\x00\x31xy"
        + b"payload"
        + b"\x00\x02"
    )
    packet = parse_rtp(data)
    assert packet == RtpPacket(
        96,
        True,
        0xABCD,
        0x01020304,
        0x0A0B0C0D,
        [99],
        0xBEDE,
        [(2, b"abc"), (0, b""), (3, b"xy")],
        b"",
        b"payload",
        b"\x00\x02",
    )
    assert packet.extension(3) == b"xy" and packet.extension(4) is None and packet.extension(0) is None
    assert serialize_rtp(packet) == data


def test_rtp_trailing_extension_padding_is_implicit():
    packet = RtpPacket(extension_profile=0xBEDE, extensions=[(1, b"a")])
    data = serialize_rtp(packet)
    assert data[12:] == b"\xbe\xde\x00\x01\x10a\x00\x00"
    assert parse_rtp(data).extensions == [(1, b"a")]
    # Four padding bytes past the boundary are not implicit: they are kept, so the round trip holds.
    longer = b"\x90" + data[1:14] + b"\x00\x02" + b"\x10a" + bytes(6)
    assert serialize_rtp(parse_rtp(longer)) == longer


def test_serialize_rtp_picks_the_extension_form():
    assert serialize_rtp(RtpPacket(extensions=[(1, b"x")]))[12:14] == b"\xbe\xde"
    assert serialize_rtp(RtpPacket(extensions=[(1, b"x" * 17)]))[12:14] == b"\x10\x00"
    assert serialize_rtp(RtpPacket(extensions=[(15, b"x")]))[12:14] == b"\x10\x00"
    assert serialize_rtp(RtpPacket(extensions=[(1, b"")]))[12:14] == b"\x10\x00"


@pytest.mark.parametrize(
    "packet, message",
    [
        (RtpPacket(csrc=[0] * 16), "more than 15 CSRCs"),
        (RtpPacket(padding=b"\x00\x00"), "padding must end with its own length"),
        (RtpPacket(extension_profile=0xBEDE, extensions=[(15, b"x")]), "id 15 is outside 1..14"),
        (RtpPacket(extension_profile=0xBEDE, extensions=[(1, b"")]), "outside 1..16"),
        (RtpPacket(extension_profile=0x1234, extension_data=b"abc"), "multiple of 4"),
    ],
)
def test_serialize_rtp_refuses(packet, message):
    with pytest.raises(ValueError, match=message):
        serialize_rtp(packet)


def test_rtcp_fields_round_trip():
    packets = [
        RtcpSenderReport(1, 0xE8F2A1B2C3D4E5F6, 3, 4, 5, [RtcpReportBlock(6, 7, -8, 9, 10, 11, 12)]),
        RtcpSourceDescription([RtcpSdesChunk(1, [(1, b"user@host")]), RtcpSdesChunk(2, [])]),
        RtcpApp(3, 1, b"PODM", b"\x00\x01\x02\x03"),
        RtcpBye([1, 2], b"leaving"),
    ]
    data = serialize_rtcp(packets)
    assert parse_rtcp(data) == packets
    assert parse_rtcp(data)[0].reports[0].packets_lost == -8


def test_receiver_report_keeps_profile_extension():
    packet = RtcpReceiverReport(1, [], extension=b"\x01\x02\x03\x04")
    assert parse_rtcp(serialize_rtcp(packet)) == [packet]


def test_sdes_extra_null_octets_are_kept():
    """aiortc writes two null octets after the items: legal, and kept for the round trip."""
    data = b"\x81\xca\x00\x03" + struct.pack("!I", 5) + b"\x01\x01a" + b"\x00" + b"\x00\x00\x00\x00"
    [sdes] = parse_rtcp(data)
    assert sdes.chunks == [RtcpSdesChunk(5, [(1, b"a")])] and sdes.trailer == b"\x00\x00\x00\x00"
    assert serialize_rtcp(sdes) == data


def test_nack_lost_sequences():
    nack = RtcpNack(1, 2, [(65534, 0b1000_0000_0000_0011)])
    assert nack.lost() == [65534, 65535, 0, 14]
    assert parse_rtcp(serialize_rtcp(nack)) == [nack]


def test_remb_bitrate():
    remb = RtcpRemb(1, 0, exponent=4, mantissa=100_000, ssrcs=[7, 8])
    [parsed] = parse_rtcp(serialize_rtcp(remb))
    assert parsed == remb and parsed.bitrate == 1_600_000


def test_fir_entries_and_twcc_header():
    fir = RtcpFir(1, 0, [(0x33, 9), (0x34, 255)])
    assert parse_rtcp(serialize_rtcp(fir)) == [fir]
    twcc = RtcpTransportFeedback(1, 2, struct.pack("!HHIHBB", 100, 3, 0x123456 << 8 | 7, 0xD555, 4, 4))
    [parsed] = parse_rtcp(serialize_rtcp(twcc))
    assert (parsed.base_sequence, parsed.status_count, parsed.feedback_count) == (100, 3, 7)


def test_rtcp_padding_round_trip():
    packets = [RtcpReceiverReport(1), RtcpPli(1, 2, padding=bytes(3) + b"\x04")]
    data = serialize_rtcp(packets)
    assert data[8] & 0x20 and parse_rtcp(data) == packets


def test_rtcp_byte_padding_round_trips_and_fills_the_last_word():
    # libwebrtc pads transport-cc feedback with 1 to 3 bytes: the body ends mid-word, the padding fills it
    # (found by the mutation fuzz: its parity view re-serialized such a packet and was refused)
    data = serialize_rtcp([RtcpReceiverReport(1), RtcpPacket(207, 0, bytes(11), padding=b"\x01")])
    assert len(data) == 8 + 16 and data[8] & 0x20
    parsed = parse_rtcp(data)
    assert parsed[1].data == bytes(11) and parsed[1].padding == b"\x01" and serialize_rtcp(parsed) == data
    with pytest.raises(ValueError, match="32-bit words"):
        serialize_rtcp(RtcpPacket(207, 0, bytes(11), padding=b"\x02\x02"))


def test_serialize_rtcp_refuses():
    with pytest.raises(ValueError, match="only allowed on the last packet"):
        serialize_rtcp([RtcpPli(1, 2, padding=bytes(3) + b"\x04"), RtcpPli(1, 2)])
    with pytest.raises(ValueError, match="does not fit in 5 bits"):
        serialize_rtcp(RtcpBye(list(range(32))))
    with pytest.raises(ValueError, match="32-bit words"):
        serialize_rtcp(RtcpPacket(207, 0, b"abc"))
