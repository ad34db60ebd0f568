# Packet views (RFC 3550, RFC 8285, RFC 4585, RFC 5104, RFC 5506, RFC 5761, RFC 7983).
#
# Every function here reads a datagram in place: no copy, no Python object, no exception, and never a
# byte at or past `length`. A datagram that breaks its format gets a drop reason (consts.Drop):
#
#   DROP_TRUNCATED_HEADER     shorter than the 12-byte RTP header or the 4-byte RTCP header
#   DROP_OVERSIZE             longer than 65535 bytes (views hold 16-bit offsets), or an RTCP
#                             compound with more parts than the caller has room for
#   DROP_BAD_VERSION          version field not 2 (RTP, or any part of an RTCP compound)
#   DROP_TRUNCATED_CSRC       the CSRC list runs past the end
#   DROP_TRUNCATED_EXTENSION  the extension header or the extension block runs past the end
#   DROP_BAD_EXTENSION        an RFC 8285 element with id 15, a one-byte element with id 0 and a
#                             non-zero length, or an element running past the extension block
#   DROP_BAD_PADDING          padding count 0 or longer than what it pads; in RTCP also padding
#                             on a part other than the last (a count that is not a multiple of 4 is
#                             read: libwebrtc pads transport-cc feedback to 32 bits with 1 to 3 bytes)
#   DROP_RTCP_BAD_LENGTH      a part's length field runs past the datagram, the lengths do not add
#                             up to the datagram, or a PLI that is not exactly 12 bytes
#   DROP_RTCP_TRUNCATED       a part shorter than its type requires: SR < 28 + 24*RC,
#                             RR < 8 + 24*RC, SDES chunks or BYE reason running past the end,
#                             APP < 12, RTPFB/PSFB < 12, NACK < 16, TWCC < 20, FIR < 20 or with a
#                             partial entry, REMB < 20 + 4*N
from libc.stdint cimport uint8_t, uint16_t, uint32_t
from engine.includes.consts cimport *


# RFC constants (RTP_HEADER_SIZE, EXT_*, FMT_*, REMB_IDENTIFIER): engine/_rtp.pxd, shared with the
# test extension (engine/_testing.pyx).


# Names for the Python side (stats, tests), indexed by the enum value.
DROP_REASONS = (
    "none",
    "unknown_kind",
    "truncated_header",
    "bad_version",
    "truncated_csrc",
    "truncated_extension",
    "bad_extension",
    "bad_padding",
    "rtcp_bad_length",
    "rtcp_truncated",
    "oversize",
    "unknown_ssrc",
    "producer_gated",
    "slow_queue_full",
    "srtp_auth",
    "send_failed",
    "rtx_truncated",
)
KIND_NAMES = ("unknown", "stun", "dtls", "rtp", "rtcp")
FEEDBACK_NAMES = ("none", "nack", "twcc", "pli", "fir", "remb", "other")
if len(DROP_REASONS) != DROP_COUNT:
    raise ImportError("engine._rtp: DROP_REASONS is out of step with consts.Drop")


cdef inline uint16_t _be16(const uint8_t* p) noexcept nogil:
    return (<uint16_t>p[0] << 8) | p[1]


cdef inline uint32_t _be32(const uint8_t* p) noexcept nogil:
    return (<uint32_t>p[0] << 24) | (<uint32_t>p[1] << 16) | (<uint32_t>p[2] << 8) | p[3]


cdef Kind classify(const uint8_t* data, size_t length) noexcept nogil:
    """RFC 7983 demultiplexing by the first byte; RTP against RTCP by the second (RFC 5761)."""
    cdef uint8_t first
    if length == 0:
        return KIND_UNKNOWN
    first = data[0]
    if first <= 3:
        return KIND_STUN
    if 20 <= first <= 63:
        return KIND_DTLS
    if 128 <= first <= 191:
        # A one-byte datagram is RTP as far as can be told; rtp_parse drops it as truncated.
        if length >= 2 and 192 <= data[1] <= 223:
            return KIND_RTCP
        return KIND_RTP
    return KIND_UNKNOWN


# Next RFC 8285 element of an extension block, from pos[0]; padding bytes are skipped.
# Returns the element's length (id and value set, pos[0] moved past it), EXT_END at the end of the
# block, or EXT_MALFORMED.
cdef int extension_next(const uint8_t* block, size_t size, bint one_byte, size_t* pos,
                         uint8_t* ext_id, const uint8_t** value) noexcept nogil:
    cdef size_t p = pos[0]
    cdef size_t n
    cdef uint8_t b
    while p < size:
        b = block[p]
        if b == 0:
            p += 1
            continue
        if one_byte:
            if (b >> 4) == 0 or (b >> 4) == EXT_ID_RESERVED:
                return EXT_MALFORMED
            n = (b & 0x0F) + 1
            if n > size - p - 1:
                return EXT_MALFORMED
            ext_id[0] = b >> 4
            value[0] = block + p + 1
            pos[0] = p + 1 + n
            return <int>n
        if size - p < 2:
            return EXT_MALFORMED
        n = block[p + 1]
        if n > size - p - 2:
            return EXT_MALFORMED
        ext_id[0] = b
        value[0] = block + p + 2
        pos[0] = p + 2 + n
        return <int>n
    pos[0] = p
    return EXT_END


cdef int extension_form(uint16_t profile) noexcept nogil:
    """1: one-byte form, 2: two-byte form, 0: not RFC 8285."""
    if profile == EXT_ONE_BYTE_PROFILE:
        return 1
    if (profile & EXT_TWO_BYTE_MASK) == EXT_TWO_BYTE_PROFILE:
        return 2
    return 0


cdef Drop rtp_parse(const uint8_t* data, size_t length, RtpView* view) noexcept nogil:
    cdef size_t offset, ext_size, pos = 0, payload_length
    cdef uint8_t first, padding = 0, ext_id
    cdef uint16_t profile = 0
    cdef size_t ext_offset = 0
    cdef const uint8_t* value
    cdef int form, n
    if length < RTP_HEADER_SIZE:
        return DROP_TRUNCATED_HEADER
    if length > MAX_VIEW_LENGTH:
        return DROP_OVERSIZE
    first = data[0]
    if (first >> 6) != 2:
        return DROP_BAD_VERSION
    offset = RTP_HEADER_SIZE + 4 * <size_t>(first & 0x0F)
    if offset > length:
        return DROP_TRUNCATED_CSRC
    ext_size = 0
    if first & 0x10:
        if length - offset < 4:
            return DROP_TRUNCATED_EXTENSION
        profile = _be16(data + offset)
        ext_size = 4 * <size_t>_be16(data + offset + 2)
        offset += 4
        if ext_size > length - offset:
            return DROP_TRUNCATED_EXTENSION
        ext_offset = offset
        form = extension_form(profile)
        if form != 0:
            while True:
                n = extension_next(data + offset, ext_size, form == 1, &pos, &ext_id, &value)
                if n == EXT_END:
                    break
                if n == EXT_MALFORMED:
                    return DROP_BAD_EXTENSION
        offset += ext_size
    payload_length = length - offset
    if first & 0x20:
        if payload_length == 0:
            return DROP_BAD_PADDING
        padding = data[length - 1]
        if padding == 0 or padding > payload_length:
            return DROP_BAD_PADDING
        payload_length -= padding
    view.data = data
    view.length = <uint16_t>length
    view.marker = data[1] >> 7
    view.payload_type = data[1] & 0x7F
    view.sequence = _be16(data + 2)
    view.timestamp = _be32(data + 4)
    view.ssrc = _be32(data + 8)
    view.csrc_count = first & 0x0F
    view.ext_profile = profile
    view.ext_offset = <uint16_t>ext_offset
    view.ext_length = <uint16_t>ext_size
    view.payload_offset = <uint16_t>offset
    view.payload_length = <uint16_t>payload_length
    view.padding_length = padding
    return DROP_NONE


cdef int rtp_extension(const RtpView* view, uint8_t ext_id, const uint8_t** value) noexcept nogil:
    cdef int form, n
    cdef size_t pos = 0
    cdef uint8_t found
    if ext_id == 0 or view.ext_length == 0:
        return -1
    form = extension_form(view.ext_profile)
    if form == 0 or (form == 1 and ext_id >= EXT_ID_RESERVED):
        return -1
    while True:
        n = extension_next(view.data + view.ext_offset, view.ext_length, form == 1, &pos, &found, value)
        if n < 0:
            return -1
        if found == ext_id:
            return n


cdef Drop _sdes_check(const uint8_t* p, size_t size, uint8_t chunks) noexcept nogil:
    """Each chunk: SSRC, items (type, length, text), a null octet, then up to the next 32-bit word."""
    cdef size_t pos = RTCP_HEADER_SIZE
    cdef uint8_t i
    for i in range(chunks):
        if size - pos < 4:
            return DROP_RTCP_TRUNCATED
        pos += 4
        while True:
            if pos >= size:
                return DROP_RTCP_TRUNCATED
            if p[pos] == 0:
                break
            if size - pos < 2 or p[pos + 1] > size - pos - 2:
                return DROP_RTCP_TRUNCATED
            pos += 2 + p[pos + 1]
        pos = (pos + 4) & ~(<size_t>3)
        if pos > size:
            return DROP_RTCP_TRUNCATED
    return DROP_NONE


cdef Drop _rtcp_check(const uint8_t* p, size_t size, RtcpView* view) noexcept nogil:
    """Validates one part of `size` bytes (padding excluded) and fills its view."""
    cdef uint8_t packet_type = p[1]
    cdef uint8_t count = p[0] & 0x1F
    cdef size_t reason_at
    view.data = p
    view.packet_type = packet_type
    view.count = count
    view.sender_ssrc = _be32(p + 4) if size >= 8 else 0
    view.media_ssrc = 0
    view.feedback = FB_NONE
    if packet_type == RTCP_SR:
        if size < 28 + 24 * <size_t>count:
            return DROP_RTCP_TRUNCATED
    elif packet_type == RTCP_RR:
        if size < 8 + 24 * <size_t>count:
            return DROP_RTCP_TRUNCATED
    elif packet_type == RTCP_SDES:
        if count == 0:
            view.sender_ssrc = 0       # no chunk, so no SSRC: what follows is not one
        return _sdes_check(p, size, count)
    elif packet_type == RTCP_BYE:
        if count == 0:
            view.sender_ssrc = 0
        reason_at = RTCP_HEADER_SIZE + 4 * <size_t>count
        if size < reason_at:
            return DROP_RTCP_TRUNCATED
        if size > reason_at and p[reason_at] > size - reason_at - 1:
            return DROP_RTCP_TRUNCATED
    elif packet_type == RTCP_APP:
        if size < 12:
            return DROP_RTCP_TRUNCATED
    elif packet_type == RTCP_RTPFB or packet_type == RTCP_PSFB:
        if size < 12:
            return DROP_RTCP_TRUNCATED
        view.media_ssrc = _be32(p + 8)
        view.feedback = FB_OTHER
        if packet_type == RTCP_RTPFB:
            if count == FMT_NACK:
                view.feedback = FB_NACK
                if size < 16:
                    return DROP_RTCP_TRUNCATED
            elif count == FMT_TWCC:
                view.feedback = FB_TWCC
                if size < 20:
                    return DROP_RTCP_TRUNCATED
        elif count == FMT_PLI:
            view.feedback = FB_PLI
            if size != 12:
                return DROP_RTCP_BAD_LENGTH
        elif count == FMT_FIR:
            view.feedback = FB_FIR
            if size < 20 or (size - 12) % 8 != 0:
                return DROP_RTCP_TRUNCATED
        elif count == FMT_AFB and size >= 16 and _be32(p + 12) == REMB_IDENTIFIER:
            view.feedback = FB_REMB
            if size < 20 or size < 20 + 4 * <size_t>p[16]:
                return DROP_RTCP_TRUNCATED
    return DROP_NONE


cdef Drop rtcp_split(const uint8_t* data, size_t length, RtcpView* parts, int max_parts, int* count) noexcept nogil:
    cdef size_t offset = 0, remaining, size, content
    cdef const uint8_t* p
    cdef uint8_t padding
    cdef int n = 0
    cdef Drop reason
    count[0] = 0
    if length < RTCP_HEADER_SIZE:
        return DROP_TRUNCATED_HEADER
    if length > MAX_VIEW_LENGTH:
        return DROP_OVERSIZE
    while offset < length:
        remaining = length - offset
        if remaining < RTCP_HEADER_SIZE:
            return DROP_RTCP_BAD_LENGTH
        p = data + offset
        if (p[0] >> 6) != 2:
            return DROP_BAD_VERSION
        size = 4 * (<size_t>_be16(p + 2) + 1)
        if size > remaining:
            return DROP_RTCP_BAD_LENGTH
        content = size
        if p[0] & 0x20:
            # RFC 3550 section 6.4.1: only the last packet of a compound may carry padding.
            if size != remaining:
                return DROP_BAD_PADDING
            padding = p[size - 1]
            if padding == 0 or padding > size - RTCP_HEADER_SIZE:
                return DROP_BAD_PADDING
            content = size - padding
        if n >= max_parts:
            return DROP_OVERSIZE
        reason = _rtcp_check(p, content, &parts[n])
        if reason != DROP_NONE:
            return reason
        parts[n].length = <uint16_t>size
        n += 1
        offset += size
    count[0] = n
    return DROP_NONE
