"""The transport-cc feedback reader (engine/twcc.pxi) against its pure-Python reference
(engine/rtp/twcc.py): the same packets and arrival times for every feedback, the same reason for
every malformed one; random bytes never crash it and never read past the packet (the hook parses a
copy of exactly the bytes given)."""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import _testing
from engine.rtp import ParseError
from engine.rtp.twcc import parse_twcc, serialize_twcc

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def engine_reads(fci: bytes, capacity: int = 1024):
    return _testing.twcc_feedback(fci, capacity)


def reference_reads(fci: bytes, capacity: int = 1024):
    try:
        fb = parse_twcc(fci, capacity)
    except ParseError as error:
        return error.reason
    return fb.base_seq, fb.reference_time, fb.feedback_count, fb.packets


def test_a_run_length_chunk_and_small_deltas() -> None:
    # base 5, 3 packets, reference time 1 (64 ms), feedback 7; run of 3 "small delta"; 1, 2, 3 ms
    fci = struct.pack("!HH", 5, 3) + b"\x00\x00\x01\x07" + struct.pack("!H", 0x2003) + bytes((4, 8, 12, 0))
    assert engine_reads(fci) == (5, 1, 7, [(5, 65_000), (6, 67_000), (7, 70_000)])


def test_status_vectors_one_and_two_bit_and_large_negative_deltas() -> None:
    # one-bit vector: received, lost, received (11 more symbols past the count are ignored)
    one_bit = struct.pack("!HH", 0xFFFF, 3) + b"\x00\x00\x00\x00" + struct.pack("!H", 0x8000 | 0b10100000000000)
    one_bit += bytes((1, 2)) + b"\x00\x00"
    assert engine_reads(one_bit) == (0xFFFF, 0, 0, [(0xFFFF, 250), (0, None), (1, 750)])
    # two-bit vector: large delta +1 s, then a negative one (-0.5 ms), then not received
    two_bit = struct.pack("!HH", 10, 3) + b"\x00\x00\x10\x01" + struct.pack("!H", 0xC000 | (2 << 12) | (2 << 10))
    two_bit += struct.pack("!hh", 4000, -2) + b"\x00\x00"
    base = 16 * 64_000
    assert engine_reads(two_bit) == (10, 16, 1, [(10, base + 1_000_000), (11, base + 999_500), (12, None)])


def test_the_reference_time_is_signed() -> None:
    fci = struct.pack("!HH", 0, 1) + b"\xff\xff\xff\x00" + struct.pack("!H", 0x2001) + b"\x00\x00\x00\x00"
    assert engine_reads(fci) == (0, -1, 0, [(0, -64_000)])


@pytest.mark.parametrize(
    ("fci", "reason"),
    [
        (struct.pack("!HH", 1, 0) + bytes(8), "empty"),
        (struct.pack("!HH", 1, 1025) + b"\x00\x00\x00\x00" + struct.pack("!H", 0x0401) + bytes(2), "too_many"),
        (struct.pack("!HH", 1, 20) + b"\x00\x00\x00\x00" + struct.pack("!H", 0x200A), "truncated_chunks"),
        (struct.pack("!HH", 1, 2) + b"\x00\x00\x00\x00" + struct.pack("!H", 0x6002) + bytes(2), "reserved_symbol"),
        (struct.pack("!HH", 1, 2) + b"\x00\x00\x00\x00" + struct.pack("!H", 0xF000) + bytes(2), "reserved_symbol"),
        (struct.pack("!HH", 1, 3) + b"\x00\x00\x00\x00" + struct.pack("!H", 0x2003) + b"\x01\x02", "truncated_deltas"),
        (struct.pack("!HH", 1, 1) + b"\x00\x00\x00\x00" + struct.pack("!H", 0x4001) + b"\x01", "truncated_deltas"),
        (b"\x00" * 7, "truncated_chunks"),
    ],
)
def test_malformed_feedback_is_refused_for_the_same_reason(fci: bytes, reason: str) -> None:
    assert engine_reads(fci) == reason == reference_reads(fci)


arrivals = st.lists(st.one_of(st.none(), st.integers(-2_000_000, 8_000_000)), min_size=1, max_size=120).filter(
    lambda values: any(v is not None for v in values)
)


def ordered(values: list[int | None]) -> list[int | None]:
    """Arrivals a receiver could report: each within two signed bytes of 250 us of the one before."""
    out: list[int | None] = []
    last = None
    for value in values:
        if value is not None and last is not None:
            value = max(min(value, last + 8_000_000), last - 8_000_000)
        out.append(value)
        last = value if value is not None else last
    return out


@FUZZ
@given(st.integers(0, 0xFFFF), arrivals.map(ordered), st.integers(0, 255))
def test_written_feedback_reads_back_alike_in_both(base: int, values, count: int) -> None:
    fci = serialize_twcc(base, values, count)
    got = engine_reads(fci)
    assert got == reference_reads(fci)
    assert got[0] == base and got[2] == count
    assert [seq for seq, _ in got[3]] == [(base + i) & 0xFFFF for i in range(len(values))]
    assert [at is None for _, at in got[3]] == [v is None for v in values]


@FUZZ
@given(st.binary(max_size=200), st.integers(0, 1024))
def test_random_bytes_read_as_the_reference_reads_them(fci: bytes, capacity: int) -> None:
    assert engine_reads(fci, capacity) == reference_reads(fci, capacity)


@FUZZ
@given(st.integers(0, 0xFFFF), arrivals.map(ordered), st.data())
def test_mutated_feedback_reads_as_the_reference_reads_it(base: int, values, data) -> None:
    fci = bytearray(serialize_twcc(base, values))
    for _ in range(data.draw(st.integers(1, 4))):
        fci[data.draw(st.integers(0, len(fci) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(fci)))
    assert engine_reads(bytes(fci[:cut])) == reference_reads(bytes(fci[:cut]))
