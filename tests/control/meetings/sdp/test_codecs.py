"""Codec negotiation: which offered codecs (and their RTX) Podium forwards."""

from __future__ import annotations

import pytest

from control.meetings.sdp import MediaSection, RtpCodec, negotiate_codecs


@pytest.mark.parametrize(
    "name, params, supported",
    [
        ("H264", {"packetization-mode": "1", "profile-level-id": "42e01f"}, True),
        ("H264", {"packetization-mode": "1", "profile-level-id": "640c1f"}, True),
        ("H264", {"packetization-mode": "1", "profile-level-id": "4d0032"}, True),
        ("H264", {"packetization-mode": "0", "profile-level-id": "42e01f"}, False),
        ("H264", {"packetization-mode": "1", "profile-level-id": "f4001f"}, False),  # high 4:4:4
        ("H264", {"packetization-mode": "1"}, True),  # RFC 6184 default: baseline 42001f
        ("VP9", {}, True),
        ("VP9", {"profile-id": "2"}, True),
        ("VP9", {"profile-id": "1"}, False),
        ("VP8", {}, True),
        ("AV1", {"profile": "0"}, True),
        ("H265", {}, False),
    ],
)
def test_video_codec_support(name, params, supported):
    media = MediaSection("video", 9, "UDP/TLS/RTP/SAVPF", ["96", "97"])
    media.codecs = [RtpCodec(96, name, 90000, None, dict(params)), RtpCodec(97, "rtx", 90000, None, {"apt": "96"})]
    negotiated = [c.payload_type for c in negotiate_codecs(media)]
    assert negotiated == ([96, 97] if supported else [])
