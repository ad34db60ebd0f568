"""The NACK FCI reader and writer of the loss repair (engine/feedback.pxi) against the reference
parser (engine.rtp.RtcpNack): equal lost sequence numbers for generated, padded and mutated NACKs,
and what the writer packs reads back as exactly the numbers given."""

import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import _testing
from engine.rtp import ParseError, RtcpNack, parse_rtcp, serialize_rtcp

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)

nacks = st.builds(
    RtcpNack,
    ssrc=u32,
    media_ssrc=u32,
    items=st.lists(st.tuples(u16, u16), min_size=1, max_size=40),
    padding=st.one_of(st.just(b""), st.integers(1, 4).map(lambda n: b"\x00" * (4 * n - 1) + bytes((4 * n,)))),
)


def reference_lost(data: bytes) -> list[int] | None:
    try:
        (packet,) = parse_rtcp(data)
    except (ParseError, ValueError):
        return None
    return packet.lost() if isinstance(packet, RtcpNack) else None


@FUZZ
@given(nacks)
def test_lost_numbers_match_the_reference(nack):
    data = serialize_rtcp(nack)
    assert _testing.nack_lost(data) == nack.lost() == reference_lost(data)


@FUZZ
@given(nacks, st.data())
def test_mutated_nacks_never_disagree(nack, data):
    raw = bytearray(serialize_rtcp(nack))
    for _ in range(data.draw(st.integers(1, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 0xFF))
    raw = bytes(raw[: data.draw(st.integers(0, len(raw)))])
    ours = _testing.nack_lost(raw)
    if isinstance(ours, list):
        assert ours == reference_lost(raw)


@FUZZ
@given(st.lists(u16, max_size=200))
def test_packed_numbers_read_back_whole(lost):
    fci = _testing.nack_pack(lost)
    items = [struct.unpack("!HH", fci[i : i + 4]) for i in range(0, len(fci), 4)]
    read = RtcpNack(items=items).lost()
    assert set(read) == set(lost)
    assert len(read) == len(set(read)) or len(lost) != len(set(lost))


def test_a_run_of_lost_packets_packs_into_one_entry():
    assert _testing.nack_pack([65534, 65535, 0, 14]) == struct.pack("!HH", 65534, 0b1000_0000_0000_0011)
    assert _testing.nack_pack([10, 27]) == struct.pack("!HHHH", 10, 0, 27, 0)
    assert _testing.nack_pack([]) == b""
    assert _testing.nack_pack(list(range(0, 400, 17)), capacity=8) == struct.pack("!HHHH", 0, 0, 17, 0)


def test_feedback_that_is_not_a_nack_or_is_malformed():
    pli = struct.pack("!BBHII", 0x81, 206, 2, 1, 2)
    assert _testing.nack_lost(pli) == "not_nack"
    assert _testing.nack_lost(struct.pack("!BBHII", 0x81, 205, 2, 1, 2)) == "rtcp_truncated"  # no FCI
    assert _testing.nack_lost(struct.pack("!BBHIIHH", 0x81, 205, 9, 1, 2, 5, 0)) == "rtcp_bad_length"
