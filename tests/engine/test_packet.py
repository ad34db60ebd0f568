"""The fast path's packet views (engine/packet.pxi): classification and exact drop reasons."""

import struct

import pytest

from engine import _rtp, _testing
from engine.rtp import (
    RtcpBye,
    RtcpFeedback,
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
    parse_rtcp,
    parse_rtp,
    rtcp_view,
    rtp_view,
    serialize_rtcp,
)

inspect_rtp = _testing.inspect_rtp
inspect_rtcp = _testing.inspect_rtcp


def header(first=0x80, second=96, sequence=1, timestamp=2, ssrc=3):
    return struct.pack("!BBHII", first, second, sequence, timestamp, ssrc)


def rtcp_header(packet_type, count, words, padding=False):
    return struct.pack("!BBH", 0x80 | (0x20 if padding else 0) | count, packet_type, words)


def agree_rtp(data):
    """The view and the oracle agree on `data`; returns the view."""
    view = inspect_rtp(data)
    try:
        assert view == rtp_view(parse_rtp(data))
    except ValueError as e:
        assert view == e.reason
    return view


def agree_rtcp(data):
    view = inspect_rtcp(data)
    try:
        assert view == rtcp_view(parse_rtcp(data, max_parts=32))
    except ValueError as e:
        assert view == e.reason
    return view


# ---- drop reasons: a stable mapping for the stats ----


def test_drop_reason_names_follow_the_enum():
    assert _rtp.DROP_REASONS[0] == "none"
    assert _rtp.DROP_REASONS[1] == "unknown_kind"
    assert _rtp.DROP_REASONS[-1] == "rtx_truncated"
    assert len(set(_rtp.DROP_REASONS)) == len(_rtp.DROP_REASONS)
    assert _rtp.KIND_NAMES == ("unknown", "stun", "dtls", "rtp", "rtcp")
    assert _rtp.FEEDBACK_NAMES == ("none", "nack", "twcc", "pli", "fir", "remb", "other")


# ---- classification (RFC 7983, RFC 5761) ----


@pytest.mark.parametrize("first", range(256))
def test_classify_by_first_byte(first):
    if first <= 3:
        expected = "stun"
    elif 20 <= first <= 63:
        expected = "dtls"
    elif 128 <= first <= 191:
        expected = "rtp"
    else:
        expected = "unknown"
    assert _testing.classify_datagram(bytes((first, 96)) + bytes(10)) == expected


@pytest.mark.parametrize("second", range(256))
def test_classify_rtcp_by_second_byte(second):
    expected = "rtcp" if 192 <= second <= 223 else "rtp"
    assert _testing.classify_datagram(bytes((0x80, second, 0, 1))) == expected


def test_classify_short_datagrams():
    assert _testing.classify_datagram(b"") == "unknown"
    assert _testing.classify_datagram(b"\x80") == "rtp"  # then dropped as a truncated header
    assert _testing.classify_datagram(b"\x00") == "stun"
    assert _testing.classify_datagram(b"\x16") == "dtls"


# ---- RTP ----


def test_rtp_minimal():
    view = agree_rtp(header(second=0x80 | 111, sequence=65535, timestamp=0xFFFFFFFF, ssrc=0xDEADBEEF))
    assert view["marker"] == 1 and view["payload_type"] == 111
    assert (view["sequence"], view["timestamp"], view["ssrc"]) == (65535, 0xFFFFFFFF, 0xDEADBEEF)
    assert view["payload"] == b"" and view["payload_offset"] == 12 and view["extension"] is False


def test_rtp_csrcs_extension_padding():
    data = (
        header(first=0x80 | 0x20 | 0x10 | 2)
        + struct.pack("!II", 7, 8)
        + b"\xbe\xde\x00\x02"
        + b"\x10\xaa\x21\xbb\xcc\x00\x00\x00"
        + b"hello"
        + b"\x00\x00\x03"
    )
    view = agree_rtp(data)
    assert view["csrc"] == [7, 8]
    assert view["ext_profile"] == 0xBEDE and view["ext_offset"] == 24 and view["ext_length"] == 8
    assert view["extensions"] == [(1, b"\xaa"), (2, b"\xbb\xcc")]
    assert view["lookup"] == {1: b"\xaa", 2: b"\xbb\xcc"}
    assert view["payload_offset"] == 32 and view["payload"] == b"hello" and view["padding_length"] == 3


def test_rtp_two_byte_form():
    block = b"\x01\x00" + b"\x00" + b"\x1e\x03abc" + b"\xff\x01z" + b"\x00"  # zero-length, padding, ids 30, 255
    data = header(first=0x90) + struct.pack("!HH", 0x1003, len(block) // 4) + block + b"pay"
    view = agree_rtp(data)
    assert view["ext_profile"] == 0x1003
    assert view["extensions"] == [(1, b""), (30, b"abc"), (255, b"z")]
    assert view["lookup"] == {1: b"", 30: b"abc", 255: b"z"}
    assert view["payload"] == b"pay"


def test_rtp_extension_returns_the_first_of_repeated_ids():
    data = header(first=0x90) + b"\xbe\xde\x00\x01" + b"\x10\x01\x10\x02"
    assert agree_rtp(data)["lookup"] == {1: b"\x01"}


def test_rtp_other_extension_profile_is_opaque():
    data = header(first=0x90) + b"\x12\x34\x00\x01" + b"\xff\xff\xff\xff" + b"x"
    view = agree_rtp(data)
    assert view["ext_profile"] == 0x1234 and view["ext_length"] == 4
    assert view["extensions"] == [] and view["lookup"] == {} and view["payload"] == b"x"


def test_rtp_empty_extension_block():
    view = agree_rtp(header(first=0x90) + b"\xbe\xde\x00\x00" + b"x")
    assert view["extension"] is True and view["ext_length"] == 0 and view["extensions"] == []


def test_rtp_padding_may_fill_the_whole_payload():
    view = agree_rtp(header(first=0xA0) + bytes(254) + b"\xff")
    assert view["payload"] == b"" and view["padding_length"] == 255


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "truncated_header"),
        (header()[:11], "truncated_header"),
        (header(first=0x00), "bad_version"),
        (header(first=0x40), "bad_version"),
        (header(first=0xC0), "bad_version"),
        (header(first=0x81), "truncated_csrc"),
        (header(first=0x83) + bytes(8), "truncated_csrc"),
        (header(first=0x8F) + bytes(56), "truncated_csrc"),
        (header(first=0x90), "truncated_extension"),
        (header(first=0x90) + b"\xbe\xde\x00", "truncated_extension"),
        (header(first=0x90) + b"\xbe\xde\x00\x01" + b"\x10\x01\x00", "truncated_extension"),
        (header(first=0x91) + bytes(4) + b"\xbe\xde\x00\x02" + bytes(7), "truncated_extension"),
        (header(first=0x90) + b"\xbe\xde\x00\x01" + b"\xf0\x00\x00\x00", "bad_extension"),  # id 15
        (header(first=0x90) + b"\xbe\xde\x00\x01" + b"\x10\xaa\xf0\x00", "bad_extension"),  # id 15 later
        (header(first=0x90) + b"\xbe\xde\x00\x01" + b"\x13\x01\x02\x03", "bad_extension"),  # 4 bytes in 3
        (header(first=0x90) + b"\xbe\xde\x00\x01" + b"\x00\x00\x00\x1f", "bad_extension"),  # runs past end
        (header(first=0x90) + b"\xbe\xde\x00\x01" + b"\x05\x00\x00\x00", "bad_extension"),  # id 0, length 6
        (header(first=0x90) + b"\x10\x00\x00\x01" + b"\x00\x00\x00\x05", "bad_extension"),  # two-byte, cut
        (header(first=0x90) + b"\x10\x00\x00\x01" + b"\x01\x03\x01\x02", "bad_extension"),  # two-byte, past
        (header(first=0xA0), "bad_padding"),  # no room for it
        (header(first=0xA0) + b"ab\x00", "bad_padding"),  # count 0
        (header(first=0xA0) + b"ab\x04", "bad_padding"),  # past payload
        (header(first=0xB0) + b"\xbe\xde\x00\x00" + b"\x05", "bad_padding"),  # into extension
        (header() + bytes(65536 - 12), "oversize"),
    ],
)
def test_rtp_drop_reasons(data, reason):
    assert inspect_rtp(data) == reason
    with pytest.raises(ValueError) as e:
        parse_rtp(data)
    assert e.value.reason == reason


def test_rtp_largest_view():
    view = agree_rtp(header() + bytes(65535 - 12))
    assert view["length"] == 65535 and len(view["payload"]) == 65535 - 12


# ---- RTCP ----


RR = RtcpReceiverReport(ssrc=0x11, reports=[RtcpReportBlock(ssrc=0x22, fraction_lost=1, packets_lost=-3)])
SR = RtcpSenderReport(
    ssrc=0x33,
    ntp_timestamp=1 << 63,
    rtp_timestamp=9,
    packet_count=10,
    octet_count=11,
    reports=[RtcpReportBlock(ssrc=0x22, jitter=5)],
)
SDES = RtcpSourceDescription([RtcpSdesChunk(0x33, [(1, b"cname"), (6, b"tool")]), RtcpSdesChunk(0x34)])
NACK = RtcpNack(ssrc=0x11, media_ssrc=0x33, items=[(100, 0b101)])
PLI = RtcpPli(ssrc=0x11, media_ssrc=0x33)
FIR = RtcpFir(ssrc=0x11, media_ssrc=0, entries=[(0x33, 4), (0x34, 5)])
REMB = RtcpRemb(ssrc=0x11, media_ssrc=0, exponent=3, mantissa=123456, ssrcs=[0x33, 0x34])
TWCC = RtcpTransportFeedback(ssrc=0x11, media_ssrc=0x33, fci=bytes.fromhex("000a0002000f4201d600020a"))


def test_rtcp_compound_views():
    packets = [
        SR,
        SDES,
        RtcpBye([0x33], b"bye"),
        NACK,
        PLI,
        FIR,
        REMB,
        TWCC,
        RtcpFeedback(206, 15, 0x11, 0, b"ABCD"),
        RtcpFeedback(205, 3, 0x11, 0x33, b""),
        RtcpPacket(207, 0, struct.pack("!I", 0x11) + bytes(8)),
        RR,
    ]
    data = serialize_rtcp(packets)
    views = agree_rtcp(data)
    assert [v["feedback"] for v in views] == [
        "none",
        "none",
        "none",
        "nack",
        "pli",
        "fir",
        "remb",
        "twcc",
        "other",
        "other",
        "none",
        "none",
    ]
    assert [v["packet_type"] for v in views] == [200, 202, 203, 205, 206, 206, 206, 205, 206, 205, 207, 201]
    assert views[0]["sender_ssrc"] == 0x33 and views[0]["count"] == 1
    assert views[3]["media_ssrc"] == 0x33 and views[6]["media_ssrc"] == 0
    assert sum(v["length"] for v in views) == len(data)
    assert [v["offset"] for v in views] == [sum(v["length"] for v in views[:i]) for i in range(len(views))]


@pytest.mark.parametrize("packet", [PLI, NACK, FIR, REMB, TWCC], ids=lambda p: p.feedback)
def test_rtcp_reduced_size(packet):
    """RFC 5506: a lone feedback packet is a valid datagram."""
    [view] = agree_rtcp(serialize_rtcp(packet))
    assert view["feedback"] == packet.feedback


def test_rtcp_padding_on_the_last_packet():
    data = serialize_rtcp([RR, RtcpPli(0x11, 0x33, padding=bytes(7) + b"\x08")])
    views = agree_rtcp(data)
    assert views[1]["feedback"] == "pli" and views[1]["length"] == 20


def test_rtcp_empty_sdes_and_bye():
    views = agree_rtcp(serialize_rtcp([RR, RtcpSourceDescription(), RtcpBye(), RtcpBye([], b"")]))
    assert [v["sender_ssrc"] for v in views] == [0x11, 0, 0, 0]


def test_rtcp_afb_without_remb_identifier_is_other_feedback():
    [view] = agree_rtcp(rtcp_header(206, 15, 2) + struct.pack("!II", 1, 2))
    assert view["feedback"] == "other"


def test_rtcp_too_many_parts():
    empty_rr = rtcp_header(201, 0, 1) + bytes(4)
    assert len(agree_rtcp(empty_rr * 32)) == 32
    assert inspect_rtcp(empty_rr * 33) == "oversize"
    assert inspect_rtcp(empty_rr * 3, 2) == "oversize"
    assert len(inspect_rtcp(empty_rr * 2, 2)) == 2


def _rr():
    return rtcp_header(201, 0, 1) + struct.pack("!I", 0x11)


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "truncated_header"),
        (b"\x80\xc9\x00", "truncated_header"),
        (rtcp_header(201, 0, 1)[:1] + b"\xc9" + b"\x00\x01" + bytes(3), "rtcp_bad_length"),  # 7 of 8 bytes
        (rtcp_header(201, 0, 2) + bytes(4), "rtcp_bad_length"),  # length lies
        (rtcp_header(201, 0, 0xFFFF) + bytes(4), "rtcp_bad_length"),
        (_rr() + b"\x80\xce", "rtcp_bad_length"),  # 2 stray bytes
        (_rr() + rtcp_header(206, 1, 3) + bytes(8), "rtcp_bad_length"),  # second one lies
        (b"\x40\xc9\x00\x01" + bytes(4), "bad_version"),
        (_rr() + b"\xc0\xce\x00\x02" + bytes(8), "bad_version"),  # second part v3
        (rtcp_header(200, 0, 5) + bytes(20), "rtcp_truncated"),  # SR < 28
        (rtcp_header(200, 1, 6) + bytes(24), "rtcp_truncated"),  # SR, RC=1, no block
        (rtcp_header(201, 0, 0), "rtcp_truncated"),  # RR < 8
        (rtcp_header(201, 2, 7) + bytes(28), "rtcp_truncated"),  # RR, 1 of 2 blocks
        (rtcp_header(202, 1, 0), "rtcp_truncated"),  # SDES, no chunk
        (rtcp_header(202, 1, 1) + struct.pack("!I", 1), "rtcp_truncated"),  # SDES, no null item
        (rtcp_header(202, 1, 2) + struct.pack("!I", 1) + b"\x01\x05abcd"[:4], "rtcp_truncated"),  # item past end
        (rtcp_header(202, 2, 2) + struct.pack("!I", 1) + bytes(4), "rtcp_truncated"),  # 1 of 2 chunks
        (rtcp_header(203, 2, 1) + struct.pack("!I", 1), "rtcp_truncated"),  # BYE, 1 of 2 SSRCs
        (rtcp_header(203, 1, 2) + struct.pack("!I", 1) + b"\x04abc", "rtcp_truncated"),  # reason past end
        (rtcp_header(204, 0, 1) + bytes(4), "rtcp_truncated"),  # APP < 12
        (rtcp_header(206, 1, 1) + bytes(4), "rtcp_truncated"),  # PLI without media
        (rtcp_header(206, 1, 3) + bytes(12), "rtcp_bad_length"),  # PLI of 16
        (rtcp_header(206, 4, 2) + bytes(8), "rtcp_truncated"),  # FIR, no entry
        (rtcp_header(206, 4, 5) + bytes(20), "rtcp_truncated"),  # FIR, 1.5 entries
        (rtcp_header(205, 1, 2) + bytes(8), "rtcp_truncated"),  # NACK, no FCI
        (rtcp_header(205, 15, 3) + bytes(12), "rtcp_truncated"),  # TWCC < 20
        (rtcp_header(205, 3, 1) + bytes(4), "rtcp_truncated"),  # other RTPFB < 12
        (rtcp_header(206, 15, 3) + bytes(8) + b"REMB", "rtcp_truncated"),  # REMB < 20
        (rtcp_header(206, 15, 4) + bytes(8) + b"REMB\x02\x00\x00\x00" + bytes(4), "rtcp_truncated"),  # 1 of 2
        (rtcp_header(201, 0, 1, padding=True) + bytes(3) + b"\x00", "bad_padding"),  # count 0
        (rtcp_header(201, 0, 1, padding=True) + bytes(3) + b"\x08", "bad_padding"),  # eats the header
        (rtcp_header(201, 0, 2, padding=True) + bytes(7) + b"\x04" + _rr(), "bad_padding"),  # not the last part
        (_rr() * 10 + bytes(65536 - 80), "oversize"),
    ],
)
def test_rtcp_drop_reasons(data, reason):
    assert inspect_rtcp(data) == reason
    with pytest.raises(ValueError) as e:
        parse_rtcp(data)
    assert e.value.reason == reason


def test_rtcp_padding_leaving_too_little_is_truncated():
    # 12 bytes with 8 of padding leave a 4-byte RR: shorter than RR's 8.
    data = rtcp_header(201, 0, 2, padding=True) + bytes(7) + b"\x08"
    assert inspect_rtcp(data) == "rtcp_truncated"
