"""Where a keyframe starts, read from an RTP payload's codec header: the reference for the fast
path's keyframe.pxi (a simulcast consumer switches layer only at such a packet).

- VP8 (RFC 7741 section 4.2): the payload descriptor (X R N S R PID, then with X: I L T K, a 7- or
  15-bit picture id with I, TL0PICIDX with L, TID/KEYIDX with T or K), then the VP8 payload header,
  whose P bit (bit 0) is 0 for a key frame; only at the start (S) of partition 0 (PID 0).
- VP9 (RFC 9628 section 4.2): B (the frame's first packet) set and P (inter-picture predicted) not.
- H.264 (RFC 6184): an SPS (7) or IDR slice (5) as a single NAL unit, in a STAP-A (24), or as the
  first fragment (S) of an FU-A (28).
"""

from __future__ import annotations

VP8_X, VP8_S, VP8_PID = 0x80, 0x10, 0x07
VP8_I, VP8_L, VP8_T, VP8_K, VP8_M = 0x80, 0x40, 0x20, 0x10, 0x80
VP9_P, VP9_B = 0x40, 0x08
H264_IDR, H264_SPS, H264_STAP_A, H264_FU_A = 5, 7, 24, 28
CODECS = ("vp8", "vp9", "h264")


def is_keyframe_start(codec: str, payload: bytes) -> bool:
    """True when `payload` (an RTP payload of `codec`) is the first packet of a keyframe."""
    if codec == "vp8":
        return _vp8(payload)
    if codec == "vp9":
        return len(payload) >= 1 and bool(payload[0] & VP9_B) and not payload[0] & VP9_P
    if codec == "h264":
        return _h264(payload)
    return False


def _vp8(payload: bytes) -> bool:
    if not payload or not payload[0] & VP8_S or payload[0] & VP8_PID:
        return False
    offset = 1
    if payload[0] & VP8_X:
        if len(payload) < 2:
            return False
        extension = payload[1]
        offset = 2
        if extension & VP8_I:
            if len(payload) < 3:
                return False
            offset += 2 if payload[2] & VP8_M else 1
        if extension & VP8_L:
            offset += 1
        if extension & (VP8_T | VP8_K):
            offset += 1
    return len(payload) > offset and not payload[offset] & 0x01


def _h264(payload: bytes) -> bool:
    if not payload:
        return False
    nal = payload[0] & 0x1F
    if nal in (H264_IDR, H264_SPS):
        return True
    if nal == H264_STAP_A:
        offset = 1
        while offset + 2 < len(payload):
            size = int.from_bytes(payload[offset : offset + 2], "big")
            if size == 0 or offset + 2 + size > len(payload):
                return False
            if payload[offset + 2] & 0x1F in (H264_IDR, H264_SPS):
                return True
            offset += 2 + size
        return False
    if nal == H264_FU_A:
        return len(payload) >= 2 and bool(payload[1] & 0x80) and payload[1] & 0x1F in (H264_IDR, H264_SPS)
    return False
