"""The per-consumer header extension rewrite and the audio-level read (engine/extensions.pxi)
against their pure-Python reference (engine/rtp/extensions.py): the same bytes out for every
packet, the same audio level, the same counts of what was left out; random input never crashes
it, and what it writes only ever uses the subscriber's ids."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import _testing
from engine.rtp import ParseError, RtpPacket, parse_rtp, serialize_rtp
from engine.rtp import extensions as reference

FUZZ = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])

CHROMIUM_AUDIO = {"audio_level": 1, "abs_send_time": 2, "transport_cc": 3, "mid": 4}
AIORTC = {"mid": 1, "audio_level": 2}
OFFERED = {"mid": 1, "abs_send_time": 2, "transport_cc": 3, "audio_level": 4}


def chromium_audio_packet(level: int = 0x8A, mid: bytes = b"0") -> bytes:
    packet = RtpPacket(
        111,
        False,
        7,
        960,
        0x1234,
        extension_profile=0xBEDE,
        extensions=[(1, bytes([level])), (2, b"\x01\x02\x03"), (3, b"\x00\x09"), (4, mid)],
        payload=b"\xaa" * 40,
    )
    return serialize_rtp(packet)


def rewrite(data: bytes, source: dict[str, int], target: dict[str, int], mid: bytes | None, twcc_seq=None):
    result = _testing.rewrite_extensions(data, source, target, mid, twcc_seq)
    assert not isinstance(result, str), result
    return result


def test_chromium_ids_become_the_subscribers_ids_with_its_own_mid() -> None:
    """The issue 14 meeting: an aiortc subscriber reads mid 1 and audio-level 2, never Chromium's."""
    out, level, counters = rewrite(chromium_audio_packet(), CHROMIUM_AUDIO, AIORTC, b"3")
    packet = parse_rtp(out)
    assert packet.extension_profile == 0xBEDE
    assert packet.extensions == [(1, b"3"), (2, b"\x8a")]
    assert packet.payload == b"\xaa" * 40 and (packet.sequence, packet.ssrc) == (7, 0x1234)
    assert level == 0x8A and counters == {"unmapped": 0, "oversize": 0, "foreign": 0}
    # our offer's ids: everything the publisher sent that we know, in its order, after the MID; the
    # publisher's transport-wide number never passes, the subscriber transport writes its own last
    out, _, _ = rewrite(chromium_audio_packet(), CHROMIUM_AUDIO, OFFERED, b"12")
    assert parse_rtp(out).extensions == [(1, b"12"), (4, b"\x8a"), (2, b"\x01\x02\x03")]
    out, _, _ = rewrite(chromium_audio_packet(), CHROMIUM_AUDIO, OFFERED, b"12", twcc_seq=0x1234)
    assert parse_rtp(out).extensions == [(1, b"12"), (4, b"\x8a"), (2, b"\x01\x02\x03"), (3, b"\x12\x34")]


def test_unknown_extensions_are_dropped_and_counted_and_nothing_left_clears_the_x_bit() -> None:
    out, level, counters = rewrite(chromium_audio_packet(), {"mid": 4}, AIORTC, None)
    assert level is None and counters["unmapped"] == 3
    packet = parse_rtp(out)
    assert packet.extension_profile is None and out[0] & 0x10 == 0 and packet.payload == b"\xaa" * 40
    # a profile that is not RFC 8285's is never forwarded
    foreign = serialize_rtp(RtpPacket(96, extension_profile=0xABCD, extension_data=b"\x01" * 8, payload=b"x"))
    out, _, counters = rewrite(foreign, CHROMIUM_AUDIO, AIORTC, b"0")
    assert parse_rtp(out).extensions == [(1, b"0")] and counters["foreign"] == 1


def test_ids_over_14_take_the_two_byte_form_and_long_values_are_not_forwarded() -> None:
    out, _, _ = rewrite(chromium_audio_packet(), CHROMIUM_AUDIO, {"mid": 1, "audio_level": 20}, b"7")
    packet = parse_rtp(out)
    assert packet.extension_profile == 0x1000 and packet.extensions == [(1, b"7"), (20, b"\x8a")]
    two_byte = RtpPacket(96, extension_profile=0x1000, extensions=[(200, b"\x01" * 20), (201, b""), (5, b"\x7f")])
    out, level, counters = rewrite(
        serialize_rtp(two_byte), {"abs_send_time": 200, "transport_cc": 201, "audio_level": 5}, OFFERED, None
    )
    # transport-cc is the subscriber transport's own, whatever the publisher's element holds
    assert parse_rtp(out).extensions == [(4, b"\x7f")] and level == 0x7F and counters["oversize"] == 1


def test_malformed_blocks_are_refused_before_any_rewrite() -> None:
    bad = bytearray(chromium_audio_packet())
    bad[16] = 0xF0  # id 15 in the one-byte form
    assert _testing.rewrite_extensions(bytes(bad), CHROMIUM_AUDIO, AIORTC, b"0") == "bad_extension"


# ---- parity with the reference, and fuzzing ---------------------------------------------------

KNOWN = reference.KINDS
one_byte_elements = st.lists(
    st.one_of(st.tuples(st.integers(1, 14), st.binary(min_size=1, max_size=16)), st.just((0, b""))), max_size=8
)
two_byte_elements = st.lists(
    st.one_of(st.tuples(st.integers(1, 255), st.binary(max_size=24)), st.just((0, b""))), max_size=8
)


@st.composite
def packets(draw) -> RtpPacket:
    packet = RtpPacket(
        draw(st.integers(0, 127)),
        draw(st.booleans()),
        draw(st.integers(0, 0xFFFF)),
        draw(st.integers(0, 0xFFFFFFFF)),
        draw(st.integers(0, 0xFFFFFFFF)),
        draw(st.lists(st.integers(0, 0xFFFFFFFF), max_size=4)),
        payload=draw(st.binary(max_size=64)),
    )
    if draw(st.booleans()):
        count = draw(st.integers(1, 20))
        packet.padding = bytes(count - 1) + bytes((count,))
    form = draw(st.sampled_from(["none", "one", "two", "other"]))
    if form == "one":
        packet.extension_profile, packet.extensions = 0xBEDE, draw(one_byte_elements)
    elif form == "two":
        packet.extension_profile = 0x1000 | draw(st.integers(0, 15))
        packet.extensions = draw(two_byte_elements)
    elif form == "other":
        packet.extension_profile = draw(st.integers(0, 0xFFFF).filter(lambda p: p != 0xBEDE and p & 0xFFF0 != 0x1000))
        packet.extension_data = draw(st.integers(0, 4).flatmap(lambda n: st.binary(min_size=4 * n, max_size=4 * n)))
    return packet


def id_maps(max_id: int):
    """Extension → id, each id naming one extension (as a negotiation gives them)."""
    return (
        st.lists(st.integers(1, max_id), min_size=len(KNOWN), max_size=len(KNOWN))
        .map(lambda ids: {name: i for name, i in zip(KNOWN, ids) if i not in ids[: KNOWN.index(name)]})
        .flatmap(
            lambda ids: st.sets(st.sampled_from(KNOWN)).map(lambda kept: {k: v for k, v in ids.items() if k in kept})
        )
    )


mids = st.one_of(st.none(), st.binary(min_size=1, max_size=16))


twcc_seqs = st.one_of(st.none(), st.integers(0, 0xFFFF))


@FUZZ
@given(packets(), id_maps(255), st.one_of(id_maps(14), id_maps(255)), mids, twcc_seqs)
def test_rewrite_matches_the_reference(packet: RtpPacket, source, target, mid, twcc_seq) -> None:
    data = serialize_rtp(packet)
    out, level, counters = rewrite(data, source, target, mid, twcc_seq)
    parsed = parse_rtp(data)
    expected = reference.rewrite(parsed, source, target, mid, twcc_seq)
    assert out == serialize_rtp(expected)
    scan = reference.scan(parsed, source)
    assert level == scan.audio_level
    assert counters == {"unmapped": scan.unmapped, "oversize": scan.oversize, "foreign": scan.foreign}


@FUZZ
@given(st.binary(min_size=12, max_size=300), id_maps(255), id_maps(255), mids)
def test_random_bytes_are_refused_as_the_reference_does_or_rewritten_to_the_targets_ids(
    data: bytes, source, target, mid
) -> None:
    data = bytes([0x90 | (data[0] & 0x2F)]) + data[1:]  # version 2, an extension: the rewrite's input
    result = _testing.rewrite_extensions(data, source, target, mid)
    try:
        parsed = parse_rtp(data)
    except ParseError as error:
        assert result == error.reason
        return
    assert not isinstance(result, str)
    out = parse_rtp(result[0])
    assert {i for i, _ in out.extensions if i} <= set(target.values())
    assert out.payload == parsed.payload and out.padding == parsed.padding and out.csrc == parsed.csrc
    assert result[0] == serialize_rtp(reference.rewrite(parsed, source, target, mid))


@pytest.mark.parametrize("level", [0, 0x7F, 0x80 | 30])
def test_audio_level_is_the_first_byte_of_the_element(level: int) -> None:
    _, got, _ = rewrite(chromium_audio_packet(level), CHROMIUM_AUDIO, {}, None)
    assert got == level
