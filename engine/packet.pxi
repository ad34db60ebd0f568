# Packet views (RFC 3550, RFC 8285, RFC 5761, RFC 7983): placeholder until implemented.
from libc.stdint cimport uint8_t, uint16_t, uint32_t
from engine.includes.consts cimport *


cdef Kind classify(const uint8_t* data, size_t length) noexcept nogil:
    return KIND_UNKNOWN


cdef Drop rtp_parse(const uint8_t* data, size_t length, RtpView* view) noexcept nogil:
    return DROP_TRUNCATED_HEADER


cdef int rtp_extension(const RtpView* view, uint8_t ext_id, const uint8_t** value) noexcept nogil:
    return -1


cdef Drop rtcp_split(const uint8_t* data, size_t length, RtcpView* parts, int max_parts, int* count) noexcept nogil:
    count[0] = 0
    return DROP_TRUNCATED_HEADER
