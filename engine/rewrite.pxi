# A consumer's own stream: SSRC, payload type, and sequence/timestamp spaces that stay continuous
# across pause/resume of either gate and across a switch to another producer.
#
# out_seq = in_seq + seq_offset and out_ts = in_ts + ts_offset (modular). The offsets are chosen
# again at the first packet after a resync (resume, switch): the sequence number continues at
# last_seq + 1, and the timestamp at last_ts + the wall time elapsed in the stream's clock (at
# least one tick), so the subscriber sees neither a sequence gap nor a timestamp going back.
from libc.stdint cimport int16_t


cdef inline void consumer_resync(Consumer* c, const RtpView* v, uint64_t now_ms) noexcept nogil:
    cdef uint64_t elapsed, ticks
    if c.started:
        c.seq_offset = <uint16_t>(c.last_seq + 1 - v.sequence)
        elapsed = now_ms - c.last_sent_ms if now_ms > c.last_sent_ms else 0
        ticks = elapsed * c.clock_rate // 1000
        if ticks == 0:
            ticks = 1
        c.ts_offset = <uint32_t>(c.last_ts + ticks - v.timestamp)
    else:
        c.seq_offset = 0      # a fresh consumer starts with the producer's numbering
        c.ts_offset = 0
    c.resync = 0
    c.resync_seq = <uint16_t>(v.sequence + c.seq_offset)
    c.since_resync = 0


cdef inline bint consumer_map(Consumer* c, const RtpView* v, uint64_t now_ms,
                              uint16_t* seq, uint32_t* ts) noexcept nogil:
    """The packet's sequence number and timestamp in the consumer's space; False: do not send."""
    cdef uint16_t out_seq
    if c.resync or not c.started:
        consumer_resync(c, v, now_ms)
    out_seq = <uint16_t>(v.sequence + c.seq_offset)
    if c.since_resync < STALE_WINDOW:
        # a late packet from before the resync point would repeat sequence numbers already sent
        if <int16_t>(out_seq - c.resync_seq) < 0:
            c.stale += 1
            return False
        c.since_resync += 1
    seq[0] = out_seq
    ts[0] = <uint32_t>(v.timestamp + c.ts_offset)
    if not c.started or <int16_t>(out_seq - c.last_seq) > 0:
        c.last_seq = out_seq
        c.last_ts = ts[0]
        c.last_sent_ms = now_ms
    c.started = 1
    return True


cdef inline void write_rtp_header(uint8_t* out, const RtpView* v, const Consumer* c,
                                  uint16_t seq, uint32_t ts) noexcept nogil:
    # the first 12 bytes are the consumer's; CSRCs, extensions and payload pass through
    out[0] = v.data[0]
    out[1] = (v.data[1] & 0x80) | c.pt_map[v.payload_type & 0x7F]
    store16(out + 2, seq)
    store32(out + 4, ts)
    store32(out + 8, c.ssrc)


cdef void consumer_reset_map(Consumer* c, uint8_t producer_pt) noexcept nogil:
    cdef int i
    for i in range(128):
        c.pt_map[i] = i
    c.pt_map[producer_pt & 0x7F] = c.payload_type & 0x7F


# RTX (RFC 4588): a retransmission carries the original sequence number (OSN) as the first two
# bytes of its payload. The consumer's RTX stream has its own SSRC, payload type and contiguous
# sequence numbers; its timestamp and OSN go through the consumer's media mapping, so the OSN names
# the packet as this subscriber numbered (or would have numbered) it.

cdef inline bint consumer_map_original(const Consumer* c, uint16_t osn, uint16_t* out) noexcept nogil:
    """The consumer's sequence number for the publisher's `osn`; False when that packet lies outside
    what the current mapping covers: before the consumer started or its last resync (sent before a
    gate closed, or never sent while it was closed), or after the last packet sent."""
    cdef uint16_t mapped
    if not c.started or c.resync:
        return False
    mapped = <uint16_t>(osn + c.seq_offset)
    if <int16_t>(c.last_seq - mapped) < 0:
        return False
    if c.since_resync < STALE_WINDOW and <int16_t>(mapped - c.resync_seq) < 0:
        return False
    out[0] = mapped
    return True


cdef inline void write_rtx_header(uint8_t* out, const RtpView* v, Consumer* c, uint16_t osn) noexcept nogil:
    # `out` already holds the whole packet: rewrite the fixed header and the OSN
    cdef uint8_t pt = v.payload_type if c.rtx_payload_type == RTX_PT_KEEP else c.rtx_payload_type
    out[1] = (v.data[1] & 0x80) | (pt & 0x7F)
    store16(out + 2, c.rtx_seq)
    store32(out + 4, <uint32_t>(v.timestamp + c.ts_offset))
    store32(out + 8, c.rtx_ssrc)
    store16(out + v.payload_offset, osn)
    c.rtx_seq += 1
