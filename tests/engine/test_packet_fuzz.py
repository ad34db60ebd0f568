"""Parser-level fuzzing: random and mutated datagrams never crash the views, and the views accept
exactly what the reference parser accepts, with equal fields, or reject with the same reason."""

import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import _testing
from engine.rtp import (
    RtcpApp,
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
    RtpPacket,
    parse_rtcp,
    parse_rtp,
    rtcp_view,
    rtp_view,
    serialize_rtcp,
    serialize_rtp,
)

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)


def words(max_words=6):
    return st.integers(0, max_words).flatmap(lambda n: st.binary(min_size=4 * n, max_size=4 * n))


def padding(multiple_of_4):
    size = st.integers(1, 16).map(lambda n: 4 * n) if multiple_of_4 else st.integers(1, 255)
    return st.one_of(
        st.just(b""), size.flatmap(lambda n: st.binary(min_size=n - 1, max_size=n - 1).map(lambda b: b + bytes((n,))))
    )


one_byte_elements = st.lists(
    st.one_of(st.tuples(st.integers(1, 14), st.binary(min_size=1, max_size=16)), st.just((0, b""))), max_size=6
)
two_byte_elements = st.lists(
    st.one_of(st.tuples(st.integers(1, 255), st.binary(max_size=40)), st.just((0, b""))), max_size=5
)


@st.composite
def rtp_packets(draw):
    packet = RtpPacket(
        draw(st.integers(0, 127)),
        draw(st.booleans()),
        draw(u16),
        draw(u32),
        draw(u32),
        draw(st.lists(u32, max_size=15)),
        payload=draw(st.binary(max_size=200)),
        padding=draw(padding(False)),
    )
    form = draw(st.sampled_from(["none", "one", "two", "other"]))
    if form == "one":
        packet.extension_profile, packet.extensions = 0xBEDE, draw(one_byte_elements)
    elif form == "two":
        packet.extension_profile = 0x1000 | draw(st.integers(0, 15))
        packet.extensions = draw(two_byte_elements)
    elif form == "other":
        packet.extension_profile = draw(u16.filter(lambda p: p != 0xBEDE and p & 0xFFF0 != 0x1000))
        packet.extension_data = draw(words())
    return packet


report_blocks = st.builds(RtcpReportBlock, u32, u8, st.integers(-(1 << 23), (1 << 23) - 1), u32, u32, u32, u32)
sdes_text = st.binary(max_size=30)
rtcp_packets = st.one_of(
    st.builds(
        RtcpSenderReport,
        ssrc=u32,
        ntp_timestamp=st.integers(0, (1 << 64) - 1),
        rtp_timestamp=u32,
        packet_count=u32,
        octet_count=u32,
        reports=st.lists(report_blocks, max_size=3),
        extension=words(2),
    ),
    st.builds(RtcpReceiverReport, ssrc=u32, reports=st.lists(report_blocks, max_size=3), extension=words(2)),
    st.builds(
        RtcpSourceDescription,
        st.lists(
            st.builds(RtcpSdesChunk, u32, st.lists(st.tuples(st.integers(1, 255), sdes_text), max_size=3)), max_size=3
        ),
    ),
    st.builds(RtcpBye, st.lists(u32, max_size=3), st.one_of(st.none(), st.binary(max_size=20))),
    st.builds(RtcpApp, subtype=st.integers(0, 31), ssrc=u32, name=st.binary(min_size=4, max_size=4), data=words(3)),
    st.builds(RtcpNack, ssrc=u32, media_ssrc=u32, items=st.lists(st.tuples(u16, u16), min_size=1, max_size=4)),
    st.builds(RtcpPli, ssrc=u32, media_ssrc=u32),
    st.builds(RtcpFir, ssrc=u32, media_ssrc=u32, entries=st.lists(st.tuples(u32, u8), min_size=1, max_size=3)),
    st.builds(
        RtcpRemb,
        ssrc=u32,
        media_ssrc=u32,
        exponent=st.integers(0, 63),
        mantissa=st.integers(0, (1 << 18) - 1),
        ssrcs=st.lists(u32, max_size=3),
    ),
    st.builds(
        RtcpTransportFeedback,
        ssrc=u32,
        media_ssrc=u32,
        fci=st.integers(2, 6).flatmap(lambda n: st.binary(min_size=4 * n, max_size=4 * n)),
    ),
    # Feedback of no class of its own: not NACK/TWCC (RTPFB 1/15), PLI/FIR (PSFB 1/4) or REMB.
    st.builds(RtcpFeedback, st.just(205), st.sampled_from([0, 2, 3, 5, 31]), u32, u32, words(3)),
    st.builds(
        RtcpFeedback,
        st.just(206),
        st.sampled_from([0, 2, 3, 5, 15, 31]),
        u32,
        u32,
        words(3).filter(lambda fci: fci[:4] != b"REMB"),
    ),
    st.builds(RtcpPacket, st.sampled_from([192, 195, 207, 208, 223]), st.integers(0, 31), words(3)),
)


@st.composite
def rtcp_compounds(draw):
    packets = draw(st.lists(rtcp_packets, min_size=1, max_size=5))
    packets[-1].padding = draw(padding(True))
    return packets


@st.composite
def mutated(draw, valid):
    data = bytearray(draw(valid))
    for _ in range(draw(st.integers(1, 3))):
        action = draw(st.sampled_from(["truncate", "flip", "lie16", "byte", "append"]))
        if action == "truncate" and data:
            del data[draw(st.integers(0, len(data) - 1)) :]
        elif action == "flip" and data:
            data[draw(st.integers(0, len(data) - 1))] ^= 1 << draw(st.integers(0, 7))
        elif action == "lie16" and len(data) >= 2:
            # A length field (RTCP length, extension length) that lies: any 16-bit word, anywhere.
            at = draw(st.integers(0, len(data) - 2))
            data[at : at + 2] = struct.pack("!H", draw(st.sampled_from([0, 1, 2, 3, 0xFFFF]) | u16))
        elif action == "byte" and data:
            data[draw(st.integers(0, len(data) - 1))] = draw(u8)
        elif action == "append":
            data += draw(st.binary(min_size=1, max_size=12))
    return bytes(data)


def rtp_datagrams():
    return rtp_packets().map(serialize_rtp)


def rtcp_datagrams():
    return rtcp_compounds().map(serialize_rtcp)


def check_rtp(data):
    view = _testing.inspect_rtp(data)
    try:
        packet = parse_rtp(data)
    except ValueError as e:
        assert view == e.reason, (view, str(e))
        return None
    assert view == rtp_view(packet)
    return packet


def check_rtcp(data):
    view = _testing.inspect_rtcp(data)
    try:
        packets = parse_rtcp(data, max_parts=32)
    except ValueError as e:
        assert view == e.reason, (view, str(e))
        return None
    assert view == rtcp_view(packets)
    return packets


@FUZZ
@given(rtp_packets())
def test_generated_rtp_round_trip_and_parity(packet):
    data = serialize_rtp(packet)
    parsed = check_rtp(data)
    assert parsed is not None and serialize_rtp(parsed) == data
    assert _testing.classify_datagram(data) in ("rtp", "rtcp")  # RTCP when PT|M lands in 192..223


@FUZZ
@given(rtcp_compounds())
def test_generated_rtcp_round_trip_and_parity(packets):
    data = serialize_rtcp(packets)
    parsed = check_rtcp(data) if len(packets) <= 32 else None
    assert parsed is not None and serialize_rtcp(parsed) == data
    assert _testing.classify_datagram(data) == "rtcp"


@FUZZ
@given(mutated(rtp_datagrams()))
def test_mutated_rtp(data):
    check_rtp(data)


@FUZZ
@given(mutated(rtcp_datagrams()))
def test_mutated_rtcp(data):
    check_rtcp(data)


@FUZZ
@given(st.binary(max_size=120))
def test_random_bytes(data):
    check_rtp(data)
    check_rtcp(data)
    assert _testing.classify_datagram(data) in ("unknown", "stun", "dtls", "rtp", "rtcp")


@FUZZ
@given(st.binary(min_size=1, max_size=80).map(lambda b: bytes((0x80 | b[0] & 0x3F,)) + b[1:]))
def test_random_bytes_with_version_2(data):
    check_rtp(data)
    check_rtcp(data)
