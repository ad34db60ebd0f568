# Where a keyframe starts, from the RTP payload's codec header (RFC 7741 VP8, RFC 9628 VP9,
# RFC 6184 H.264): a simulcast consumer switches layer only at such a packet (simulcast.pxi), so
# the subscriber's decoder gets a picture it can start from. Reads only within the payload; a
# payload too short for its header is no keyframe.

CODEC_NAMES = ("other", "vp8", "vp9", "h264")


cdef bint keyframe_start(const uint8_t* payload, size_t length, Codec codec) noexcept nogil:
    """True when the payload begins a keyframe: its first packet."""
    if codec == CODEC_VP8:
        return _vp8_keyframe_start(payload, length)
    if codec == CODEC_VP9:
        # descriptor: I P L F B E V Z; B: the first packet of a frame, P: inter-picture predicted
        return length >= 1 and (payload[0] & 0x08) != 0 and (payload[0] & 0x40) == 0
    if codec == CODEC_H264:
        return _h264_keyframe_start(payload, length)
    return False


cdef bint _vp8_keyframe_start(const uint8_t* p, size_t length) noexcept nogil:
    # RFC 7741 section 4.2: X R N S R PID; with X: I L T K; with I: a 7- or 15-bit picture id
    # (M); with L: TL0PICIDX; with T or K: TID/Y/KEYIDX. Then the VP8 payload header, whose
    # bit 0 (P) is 0 for a key frame, at the start (S) of partition 0.
    cdef size_t offset = 1
    cdef uint8_t x
    if length < 1 or (p[0] & 0x10) == 0 or (p[0] & 0x07) != 0:
        return False
    if p[0] & 0x80:
        if length < 2:
            return False
        x = p[1]
        offset = 2
        if x & 0x80:
            if length < offset + 1:
                return False
            offset += 2 if p[offset] & 0x80 else 1
        if x & 0x40:
            offset += 1
        if x & 0x30:
            offset += 1
    return length > offset and (p[offset] & 0x01) == 0


cdef bint _h264_keyframe_start(const uint8_t* p, size_t length) noexcept nogil:
    # an SPS or an IDR slice begins the access unit: single NAL (types 1-23), the NALs of a STAP-A
    # (24: 2-byte sizes), or the first fragment of an FU-A (28: S bit)
    cdef uint8_t nal
    cdef size_t offset, size
    if length < 1:
        return False
    nal = p[0] & 0x1F
    if nal == 5 or nal == 7:
        return True
    if nal == 24:
        offset = 1
        while offset + 2 < length:
            size = (<size_t>p[offset] << 8) | p[offset + 1]
            if size == 0 or offset + 2 + size > length:
                return False
            if (p[offset + 2] & 0x1F) in (5, 7):
                return True
            offset += 2 + size
        return False
    if nal == 28:
        return length >= 2 and (p[1] & 0x80) != 0 and (p[1] & 0x1F) in (5, 7)
    return False
