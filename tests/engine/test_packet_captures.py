"""Parser parity on real packets: VP8 and Opus RTP from PyAV encoders, RTCP compounds (tests/data)."""

import importlib.util
from collections import Counter
from pathlib import Path

import pytest

from engine import _testing
from engine.rtp import parse_rtcp, parse_rtp, rtcp_view, rtp_view, serialize_rtcp, serialize_rtp

DATA = Path(__file__).parent.parent / "data"


def _load_reader():
    spec = importlib.util.spec_from_file_location("make_captures", DATA / "make_captures.py")
    module = importlib.util.module_from_spec(spec)
    # Only read() is used: the module's encoder imports are cheap, nothing runs at import.
    spec.loader.exec_module(module)
    return module.read


CAPTURES = _load_reader()(DATA / "captures.bin")
RTP = [(label, data) for kind, label, data in CAPTURES if kind == "rtp"]
RTCP = [(label, data) for kind, label, data in CAPTURES if kind == "rtcp"]


def test_captures_cover_what_the_engine_meets():
    profiles = Counter(parse_rtp(data).extension_profile for _, data in RTP)
    assert profiles[0xBEDE] >= 40 and profiles[0x1000] >= 1
    assert {parse_rtp(data).payload_type for _, data in RTP} >= {96, 97, 111}
    assert any(parse_rtp(data).padding for _, data in RTP)
    feedback = {part["feedback"] for _, data in RTCP for part in _testing.inspect_rtcp(data)}
    assert feedback >= {"none", "nack", "pli", "fir", "remb", "twcc"}
    types = {part["packet_type"] for _, data in RTCP for part in _testing.inspect_rtcp(data)}
    assert types >= {200, 201, 202, 203, 205, 206}


@pytest.mark.parametrize("label, data", RTP, ids=[label for label, _ in RTP])
def test_rtp_capture(label, data):
    packet = parse_rtp(data)
    assert serialize_rtp(packet) == data
    assert _testing.classify_datagram(data) == "rtp"
    assert _testing.inspect_rtp(data) == rtp_view(packet)


@pytest.mark.parametrize("label, data", RTCP, ids=[label for label, _ in RTCP])
def test_rtcp_capture(label, data):
    packets = parse_rtcp(data)
    assert serialize_rtcp(packets) == data
    assert _testing.classify_datagram(data) == "rtcp"
    assert _testing.inspect_rtcp(data) == rtcp_view(packets)


def test_capture_extensions_decode():
    """abs-send-time (3 bytes), transport-wide sequence (2 bytes), audio level (1 byte), mid."""
    video = _testing.inspect_rtp(RTP[0][1])
    assert video["lookup"][1] == b"0" and len(video["lookup"][2]) == 3 and len(video["lookup"][3]) == 2
    audio = next(_testing.inspect_rtp(d) for label, d in RTP if label.startswith("opus"))
    assert audio["lookup"][1] == b"1" and audio["lookup"][4] == bytes((0x80 | 30,))
    two_byte = next(_testing.inspect_rtp(d) for label, d in RTP if "two-byte" in label)
    assert two_byte["lookup"][1] == b"camera-and-screen-share-1" and two_byte["lookup"][20] == b"hi"


def test_capture_vp8_keyframe_is_recognisable():
    """The forced keyframe's first packet: VP8 payload descriptor with S=1, then a key frame (P=0)."""
    first = next(parse_rtp(d) for label, d in RTP if label == "vp8 frame 12")
    descriptor = first.payload
    assert descriptor[0] & 0x10  # S: start of a partition
    offset = 1 + (1 if descriptor[0] & 0x80 else 0)  # X: extended control bits
    if descriptor[0] & 0x80 and descriptor[1] & 0x80:
        offset += 2 if descriptor[offset] & 0x80 else 1
    assert descriptor[offset] & 0x01 == 0  # VP8 frame tag: P=0 is a key frame
