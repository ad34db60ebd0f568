# RTCP at the engine (RFC 3550, RFC 4585, RFC 5104). The engine is the RTP endpoint of each leg:
# - SR from a producer: rewritten per consumer (SSRC, RTP timestamp through the consumer's
#   offset, the consumer's own packet and octet counts) and sent to each subscriber;
# - NACK from a subscriber: answered from the producer's packet cache, misses asked of the
#   publisher (repair.pxi);
# - PLI/FIR from a subscriber about a consumer SSRC: rewritten to the producer's SSRC and sent to
#   the publisher, limited to one per producer per keyframe interval (KEYFRAME_INTERVAL_MS by default),
#   since every subscriber asks for the same keyframe. The engine's own requests (a gate opens, a
#   consumer starts or switches) are only merged within KEYFRAME_COALESCE_MS: the keyframe an
#   older request produced may have been dropped by the gate or sent before the consumer existed;
# - RR, REMB, TWCC from a subscriber: terminated here, counted, and read into its transport's
#   bandwidth estimate (twcc.pxi, estimator.pxi; RR and SR report blocks about its consumers only);
# - SDES, BYE, APP, XR: terminated here and counted.


cdef void relay_rtcp(State* st, Transport* t, const uint8_t* data, size_t length) noexcept nogil:
    cdef RtcpView parts[MAX_RTCP_PARTS]
    cdef int count = 0
    cdef int i
    cdef RtcpView* part
    cdef Drop reason = rtcp_split(data, length, parts, MAX_RTCP_PARTS, &count)
    if reason != DROP_NONE:
        drop(st, &t.counters, NULL, reason)
        return
    st.engine.rtcp_handled += 1
    for i in range(count):
        part = &parts[i]
        if part.packet_type == RTCP_SR:
            relay_sender_report(st, t, part)
            estimate_from_receiver_report(st, t, part, 28)
        elif part.packet_type == RTCP_RR:
            st.engine.rr_terminated += 1
            estimate_from_receiver_report(st, t, part, 8)
        elif part.feedback == FB_PLI:
            relay_pli(st, t, part)
        elif part.feedback == FB_FIR:
            relay_fir(st, t, part)
        elif part.feedback == FB_NACK:
            repair_nack(st, t, part)
        elif part.feedback == FB_REMB:
            st.engine.remb_terminated += 1
            remb_received(st, t, part)
            estimate_from_remb(st, t, part)
        elif part.feedback == FB_TWCC:
            st.engine.twcc_terminated += 1
            twcc_feedback(st, t, part)
        else:
            st.engine.rtcp_other_terminated += 1


cdef inline int content_length(const RtcpView* part) noexcept nogil:
    # a part's length counts its padding (only the last part may have some; rtcp_split checked it)
    if part.data[0] & 0x20:
        return part.length - part.data[part.length - 1]
    return part.length


cdef inline Consumer* consumer_by_ssrc(State* st, Transport* t, uint32_t ssrc) noexcept nogil:
    cdef Key k = media_key(t.id, ssrc)
    return <Consumer*>table_get(&st.by_consumer, &k)


cdef void relay_sender_report(State* st, Transport* t, const RtcpView* part) noexcept nogil:
    cdef Key k = media_key(t.id, part.sender_ssrc)
    cdef Producer* p = <Producer*>table_get(&st.by_media, &k)
    cdef Consumer* c
    cdef uint32_t i
    cdef int slot
    cdef uint8_t* buf
    if p == NULL or part.length < 28:
        st.engine.rtcp_other_terminated += 1
        return
    p.sender_reports += 1
    if p.paused:
        return
    for i in range(p.consumer_count):
        c = p.consumers[i]
        # only a consumer with a settled timestamp space has a mapping to report (of this layer)
        if c.producer != p or c.paused or c.resync or not c.started or not c.transport.has_remote:
            continue
        slot = tx_reserve(st)
        buf = tx_buffer(st, slot)
        buf[0] = 0x80                         # V=2, no report blocks: they describe the publisher's reception
        buf[1] = RTCP_SR
        store16(buf + 2, 6)                   # 28 bytes
        store32(buf + 4, c.ssrc)
        memcpy(buf + 8, part.data + 8, 8)     # NTP timestamp, unchanged
        store32(buf + 16, <uint32_t>(load32(part.data + 16) + c.ts_offset))
        store32(buf + 20, <uint32_t>c.packets_sent)
        store32(buf + 24, <uint32_t>c.octets_sent)
        tx_send_copy(st, c.transport, slot, 28, 1, NULL, NULL)
        c.sender_reports += 1
        st.engine.sr_rewritten += 1


cdef bint request_keyframe(State* st, Producer* p, bint fir, bint own) noexcept nogil:
    """Sends a PLI (or FIR) for `p` to its publisher unless one went out within the interval
    (the keyframe interval for relayed requests, KEYFRAME_COALESCE_MS for the engine's own)."""
    cdef int slot
    cdef uint8_t* buf
    cdef uint64_t interval = KEYFRAME_COALESCE_MS if own else st.keyframe_interval_ms
    if p.keyframe_requests and st.now_ms - p.last_keyframe_request_ms < interval:
        p.keyframe_rate_limited += 1
        st.engine.keyframe_rate_limited += 1
        return False
    if not p.transport.has_remote or not p.has_ssrc:
        return False
    p.last_keyframe_request_ms = st.now_ms
    p.keyframe_requests += 1
    st.engine.keyframe_requests_sent += 1
    slot = tx_reserve(st)
    buf = tx_buffer(st, slot)
    buf[1] = RTCP_PSFB
    store32(buf + 4, st.rtcp_ssrc)
    if fir:
        buf[0] = 0x80 | 4                     # FMT 4: FIR
        store16(buf + 2, 4)                   # 20 bytes
        store32(buf + 8, 0)                   # media source: unused for FIR (RFC 5104)
        store32(buf + 12, p.ssrc)
        buf[16] = p.fir_seq
        buf[17] = buf[18] = buf[19] = 0
        p.fir_seq += 1
        tx_send_copy(st, p.transport, slot, 20, 1, NULL, NULL)
    else:
        buf[0] = 0x80 | 1                     # FMT 1: PLI
        store16(buf + 2, 2)                   # 12 bytes
        store32(buf + 8, p.ssrc)
        tx_send_copy(st, p.transport, slot, 12, 1, NULL, NULL)
    return True


cdef void relay_pli(State* st, Transport* t, const RtcpView* part) noexcept nogil:
    cdef Consumer* c = consumer_by_ssrc(st, t, part.media_ssrc)
    if c == NULL or c.producer == NULL:
        st.engine.rtcp_other_terminated += 1
        return
    c.keyframe_requests_in += 1
    if request_keyframe(st, c.producer, False, False):
        st.engine.pli_relayed += 1


cdef void relay_fir(State* st, Transport* t, const RtcpView* part) noexcept nogil:
    # FCI entries (8 bytes: SSRC, command sequence number, reserved) name the consumers
    cdef Consumer* c
    cdef bint found = False
    cdef int offset = 12
    cdef int end = content_length(part)
    while offset + 8 <= end:
        c = consumer_by_ssrc(st, t, load32(part.data + offset))
        if c != NULL and c.producer != NULL:
            found = True
            c.keyframe_requests_in += 1
            if request_keyframe(st, c.producer, True, False):
                st.engine.fir_relayed += 1
        offset += 8
    if not found:
        st.engine.rtcp_other_terminated += 1
