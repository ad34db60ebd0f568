# The C contract of the fast path's packet views. Implemented in packet.pxi (included by _rtp.pyx).
from libc.stdint cimport uint8_t, uint16_t, uint32_t

from engine.includes.consts cimport Drop, Kind, Feedback


cdef struct RtpView:
    const uint8_t* data       # borrowed from the receive buffer; never owned
    uint16_t length           # whole datagram
    uint8_t marker
    uint8_t payload_type
    uint16_t sequence
    uint32_t timestamp
    uint32_t ssrc
    uint8_t csrc_count
    uint16_t ext_profile      # 0xBEDE one-byte, 0x100x two-byte, other, or 0 when absent
    uint16_t ext_offset       # offset of the first extension element (after the 4-byte header)
    uint16_t ext_length       # bytes of extension elements
    uint16_t payload_offset
    uint16_t payload_length   # without padding
    uint8_t padding_length


cdef struct RtcpView:         # one packet of a compound
    const uint8_t* data       # borrowed; points at this packet's first byte
    uint16_t length           # bytes of this packet: 4 * (length field + 1)
    uint8_t packet_type       # RtcpType
    uint8_t count             # RC, SC or FMT
    uint32_t sender_ssrc
    uint32_t media_ssrc       # feedback packets (RTPFB/PSFB): the media source; else 0
    uint8_t feedback          # Feedback


cdef Kind classify(const uint8_t* data, size_t length) noexcept nogil
cdef Drop rtp_parse(const uint8_t* data, size_t length, RtpView* view) noexcept nogil
# Value of header extension `ext_id` (one- or two-byte form): its length, or -1 when absent.
cdef int rtp_extension(const RtpView* view, uint8_t ext_id, const uint8_t** value) noexcept nogil
# Splits and validates a compound: every part, or a drop reason and no parts.
cdef Drop rtcp_split(const uint8_t* data, size_t length, RtcpView* parts, int max_parts, int* count) noexcept nogil
