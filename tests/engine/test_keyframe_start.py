"""Where a keyframe starts (engine/keyframe.pxi) against the reference (engine.rtp.keyframe):
known VP8, VP9 and H.264 payloads, and agreement on generated and random payloads of every codec."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import _testing
from engine.rtp.keyframe import CODECS, is_keyframe_start

FUZZ = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])

KNOWN = [
    ("vp8", b"\x10\x00\x9d\x01\x2a", True),  # S, PID 0, P=0: a key frame
    ("vp8", b"\x10\x01", False),  # an inter frame
    ("vp8", b"\x00\x00", False),  # not the start of a partition
    ("vp8", b"\x11\x00", False),  # partition 1
    ("vp8", b"\x90\x80\x81\x23\x00", True),  # X, I with a 15-bit picture id, then P=0
    ("vp8", b"\x90\x80\x05\x00", True),  # a 7-bit picture id
    ("vp8", b"\x90\xe0\x81\x23\x07\x40\x00", True),  # I, L, T
    ("vp8", b"\x90\xe0\x81\x23\x07\x40", False),  # truncated before the VP8 header
    ("vp8", b"\x90", False),
    ("vp8", b"", False),
    ("vp9", b"\x88", True),  # B, not P
    ("vp9", b"\xc8", False),  # P
    ("vp9", b"\x84", False),  # E only
    ("h264", b"\x67\x42", True),  # SPS
    ("h264", b"\x65\x88", True),  # IDR slice
    ("h264", b"\x41\x9a", False),  # a non-IDR slice
    ("h264", b"\x18\x00\x02\x09\x10\x00\x03\x67\x42\x00", True),  # STAP-A: AUD, then SPS
    ("h264", b"\x18\x00\x09\x09", False),  # STAP-A whose size runs past the end
    ("h264", b"\x7c\x85\x88", True),  # FU-A, S, IDR
    ("h264", b"\x7c\x05\x88", False),  # FU-A, not the first fragment
    ("other", b"\x10\x00", False),
]


@pytest.mark.parametrize(("codec", "payload", "expected"), KNOWN)
def test_known_payloads(codec: str, payload: bytes, expected: bool) -> None:
    assert is_keyframe_start(codec, payload) is expected
    assert _testing.keyframe_start(codec, payload) is expected


@st.composite
def vp8_payloads(draw):
    first = draw(st.integers(0, 0xFF))
    out = bytes([first])
    if first & 0x80:
        ext = draw(st.integers(0, 0xFF))
        out += bytes([ext])
        if ext & 0x80:
            out += draw(st.sampled_from([b"\x05", b"\x81\x23"]))
        out += b"\x07" * bool(ext & 0x40) + b"\x40" * bool(ext & 0x30)
    return out + draw(st.binary(max_size=4))


@st.composite
def h264_payloads(draw):
    kind = draw(st.sampled_from([1, 5, 7, 8, 24, 28]))
    if kind == 24:
        nals = draw(st.lists(st.binary(min_size=1, max_size=5), max_size=3))
        body = b"".join(len(n).to_bytes(2, "big") + n for n in nals)
        return bytes([0x18]) + body + draw(st.binary(max_size=3))
    if kind == 28:
        return bytes([0x7C, draw(st.integers(0, 0xFF))]) + draw(st.binary(max_size=3))
    return bytes([0x60 | kind]) + draw(st.binary(max_size=3))


@FUZZ
@given(st.one_of(st.tuples(st.just("vp8"), vp8_payloads()), st.tuples(st.just("h264"), h264_payloads())))
def test_generated_payloads_agree(case) -> None:
    codec, payload = case
    assert _testing.keyframe_start(codec, payload) is is_keyframe_start(codec, payload)


@FUZZ
@given(st.sampled_from((*CODECS, "other")), st.binary(max_size=24))
def test_random_payloads_agree(codec: str, payload: bytes) -> None:
    assert _testing.keyframe_start(codec, payload) is is_keyframe_start(codec, payload)
