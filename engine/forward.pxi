# The per-datagram path: classify, find the transport by address, then RTP to the producer's
# consumers or RTCP to the relay. One hash lookup per level, one loop over consumers.


cdef void handle_datagram(State* st, uint8_t* data, size_t length, int truncated,
                          const sockaddr_in6* addr) noexcept nogil:
    cdef Kind kind
    cdef Transport* t
    cdef Key k
    cdef int plain_length
    cdef Drop reason
    st.engine.datagrams_in += 1
    count_in(&st.counters, length)
    if truncated or length > MAX_DATAGRAM:
        drop(st, NULL, NULL, DROP_OVERSIZE)
        return
    kind = classify(data, length)
    if kind == KIND_STUN:
        st.engine.stun_in += 1
        if not slow_push(st, data, length, addr):
            st.engine.slow_overflow_stun += 1
        return
    if kind == KIND_DTLS:
        st.engine.dtls_in += 1
        if not slow_push(st, data, length, addr):
            st.engine.slow_overflow_dtls += 1
        return
    if kind != KIND_RTP and kind != KIND_RTCP:
        drop(st, NULL, NULL, DROP_UNKNOWN_KIND)
        return
    k = addr_key(addr)
    t = <Transport*>table_get(&st.by_addr, &k)
    if t == NULL:
        st.engine.unknown_source += 1
        if not slow_push(st, data, length, addr):
            st.engine.slow_overflow_unknown_source += 1
        return
    count_in(&t.counters, length)
    if t.unprotect != NULL:
        plain_length = <int>length
        reason = t.unprotect(t.crypto, data, &plain_length, kind == KIND_RTCP)
        if reason != DROP_NONE:
            drop(st, &t.counters, NULL, reason)
            return
        length = <size_t>plain_length
    if kind == KIND_RTP:
        st.engine.rtp_in += 1
        forward_rtp(st, t, data, length)
    else:
        st.engine.rtcp_in += 1
        relay_rtcp(st, t, data, length)


cdef void forward_rtp(State* st, Transport* t, const uint8_t* data, size_t length) noexcept nogil:
    cdef RtpView v
    cdef Producer* p
    cdef Consumer* c
    cdef Key k
    cdef uint32_t i
    cdef uint16_t seq
    cdef uint32_t ts
    cdef ExtScan scan
    cdef bint scanned = False
    cdef Drop reason = rtp_parse(data, length, &v)
    if reason != DROP_NONE:
        drop(st, &t.counters, NULL, reason)
        return
    k = media_key(t.id, v.ssrc)
    p = <Producer*>table_get(&st.by_media, &k)
    if p == NULL:
        p = <Producer*>table_get(&st.by_rtx, &k)
        if p != NULL:
            forward_rtx(st, t, p, &v, length)
            return
        if t.learn:
            learn_push(st, t, &v)
        drop(st, &t.counters, NULL, DROP_UNKNOWN_SSRC)
        return
    count_in(&p.counters, length)
    if p.paused:
        drop(st, &t.counters, &p.counters, DROP_PRODUCER_GATED)
        return
    st.engine.rtp_routed += 1
    if v.payload_length:               # padding-only packets probe the publisher's link, not media
        p.media_bytes += length
    if not p.video and p.transport.ext_ids[EXT_KIND_AUDIO_LEVEL]:
        ext_scan(&v, p.transport, &scan, &st.engine)
        scanned = True
        if scan.audio_level >= 0:
            level_record(p, <uint8_t>scan.audio_level)
            st.engine.audio_levels += 1
    if p.cache != NULL and p.consumer_count:   # nobody to repair for: no copy
        cache_store(p, &v, st.now_ms)
    for i in range(p.consumer_count):
        c = p.consumers[i]
        if c.producer != p and not consumer_layer_ready(st, p, c, &v):
            continue              # pending on this layer, fed from another until its keyframe
        if c.paused or not c.transport.has_remote:
            c.gated += 1
            continue
        if consumer_map(c, &v, st.now_ms, &seq, &ts):
            if c.transport.ext_told:
                if not scanned:
                    ext_scan(&v, p.transport, &scan, &st.engine)
                    scanned = True
                send_rtp_rewritten(st, p, c, &v, &scan, seq, ts)
            else:
                send_rtp(st, p, c, &v, seq, ts)


cdef inline void send_rtp(State* st, Producer* p, Consumer* c, const RtpView* v,
                          uint16_t seq, uint32_t ts) noexcept nogil:
    cdef int slot = tx_reserve(st)
    cdef uint8_t* buf = tx_buffer(st, slot)
    cdef Transport* t = c.transport
    write_rtp_header(buf, v, c, seq, ts)
    c.packets_sent += 1
    c.octets_sent += v.payload_length
    if t.protect != NULL:
        # SRTP needs the whole packet in one buffer of its own to encrypt in place
        memcpy(buf + 12, v.data + 12, v.length - 12)
        tx_send_copy(st, t, slot, v.length, 0, &c.counters, &p.counters, p.video)
        return
    # plain RTP: the rewritten header from the slot, the rest borrowed from the receive buffer
    st.tx.iov[2 * slot].iov_base = buf
    st.tx.iov[2 * slot].iov_len = 12
    st.tx.iov[2 * slot + 1].iov_base = <void*>(v.data + 12)
    st.tx.iov[2 * slot + 1].iov_len = v.length - 12
    tx_send_media(st, t, slot, 2 if v.length > 12 else 1, &c.counters, &p.counters, p.video, 0)


cdef void forward_rtx(State* st, Transport* t, Producer* p, const RtpView* v, size_t length) noexcept nogil:
    """A retransmission (RFC 4588) on the producer's RTX SSRC: to the consumers that asked for it
    (repair.pxi); the gates apply as to media."""
    count_in(&p.counters, length)
    if p.paused:
        drop(st, &t.counters, &p.counters, DROP_PRODUCER_GATED)
        return
    if v.payload_length == 0 and v.padding_length != 0:
        # padding only: the publisher probing its bandwidth (libwebrtc pads on the RTX stream), no
        # retransmission and no malformed packet; it ends here, as the engine answers for the link
        st.engine.rtp_routed += 1
        st.engine.rtx_padding += 1
        return
    if v.payload_length < 2:
        drop(st, &t.counters, &p.counters, DROP_RTX_TRUNCATED)
        return
    st.engine.rtp_routed += 1
    st.engine.rtx_in += 1
    p.rtx_in += 1
    repair_from_publisher(st, t, p, v)
