# REMB (draft-alvestrand-rmcat-remb) to a publisher: the bitrate it may send at. Until the engine
# estimates a publisher's link, it announces a fixed ceiling (Engine(publisher_bitrate=...)): a
# browser starts at a few hundred kbit/s and raises its target to a REMB that comes before any loss
# report, which is what lets it send every simulcast layer.


cdef bint send_remb(State* st, Transport* t, uint64_t bitrate, const uint32_t* ssrcs, int count) noexcept nogil:
    """Queues one REMB for `ssrcs` to the transport's peer; False when it has no address yet."""
    cdef int slot, i
    cdef uint8_t* buf
    cdef uint8_t exponent = 0
    if not t.has_remote or count <= 0 or count > MAX_REMB_SSRCS:
        return False
    while bitrate > 0x3FFFF:              # an 18-bit mantissa and a 6-bit exponent
        bitrate >>= 1
        exponent += 1
    slot = tx_reserve(st)
    buf = tx_buffer(st, slot)
    buf[0] = 0x80 | FMT_AFB
    buf[1] = RTCP_PSFB
    store16(buf + 2, <uint16_t>(4 + count))   # 20 bytes and 4 per SSRC, in words, minus one
    store32(buf + 4, st.rtcp_ssrc)
    store32(buf + 8, 0)                       # media source: unused (the SSRCs follow)
    store32(buf + 12, REMB_IDENTIFIER)
    buf[16] = <uint8_t>count
    buf[17] = (exponent << 2) | <uint8_t>(bitrate >> 16)
    store16(buf + 18, <uint16_t>(bitrate & 0xFFFF))
    for i in range(count):
        store32(buf + 20 + 4 * i, ssrcs[i])
    tx_send_copy(st, t, slot, 20 + 4 * count, 1, NULL, NULL)
    st.engine.remb_sent += 1
    return True


cdef uint64_t remb_bitrate(const RtcpView* part) noexcept nogil:
    """The bitrate of a REMB part (rtcp_split checked it holds at least 20 bytes)."""
    cdef uint8_t exponent = part.data[17] >> 2
    cdef uint64_t mantissa = (<uint64_t>(part.data[17] & 0x03) << 16) | load16(part.data + 18)
    if exponent > 45:                     # 18 + 45 bits: beyond any link, and no overflow
        exponent = 45
    return mantissa << exponent


cdef void remb_received(State* st, Transport* t, const RtcpView* part) noexcept nogil:
    """A peer's REMB (a subscriber's estimate of its downlink): kept, and with pace_from_remb the
    rate its video is paced at, unless Core.set_transport_pacing set one."""
    t.remb_bps = remb_bitrate(part)
    if st.pace_from_remb and not t.pace_explicit and t.remb_bps:
        pace_set_rate(st, t, pace_rate_from(t.remb_bps))
