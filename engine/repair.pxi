# Loss repair at the engine (RFC 4585 NACK, RFC 4588 RTX). Each video producer keeps its last
# CACHE_SLOTS packets, as the publisher sent them, in a fixed ring indexed by sequence number (one
# C block per producer, allocated with it). A subscriber's NACK is answered from the ring with a
# retransmission to that subscriber only: on the consumer's RTX stream when it has one, else as the
# media packet again. Only the packets the ring misses are asked of the publisher, each at most once
# per NACK_RELAY_INTERVAL_MS whoever asks; the consumers that asked wait for them (pending), and the
# publisher's RTX goes to those consumers only (and into the ring, for the next one who asks). Each
# consumer may ask for NACK_WINDOW_LIMIT packets per NACK_WINDOW_MS; the rest is counted and ignored.


cdef inline void cache_store(Producer* p, const RtpView* v, uint64_t now_ms) noexcept nogil:
    cdef CacheEntry* e = &p.cache[v.sequence & (CACHE_SLOTS - 1)]
    memcpy(e.data, v.data, v.length)
    e.length = v.length
    e.seq = v.sequence
    e.stored_ms = now_ms if now_ms else 1


cdef inline CacheEntry* cache_find(Producer* p, uint16_t seq, uint64_t now_ms) noexcept nogil:
    cdef CacheEntry* e
    if p.cache == NULL:
        return NULL
    e = &p.cache[seq & (CACHE_SLOTS - 1)]
    if e.stored_ms == 0 or e.seq != seq or now_ms - e.stored_ms > CACHE_MAX_AGE_MS:
        return NULL
    return e


cdef inline bint nack_allowed(State* st, Consumer* c) noexcept nogil:
    """Spends one packet of the consumer's NACK budget; False (counted) when it is spent."""
    if st.now_ms - c.nack_window_ms >= NACK_WINDOW_MS:
        c.nack_window_ms = st.now_ms
        c.nack_window_count = 0
    if c.nack_window_count >= NACK_WINDOW_LIMIT:
        c.repair.nacks_rate_limited += 1
        st.engine.nack_rate_limited += 1
        return False
    c.nack_window_count += 1
    return True


cdef inline void pending_add(Consumer* c, uint16_t seq, uint64_t now_ms) noexcept nogil:
    # the slot of this number if already awaited, else a free or expired one, else the oldest
    cdef int i, free_slot = -1, oldest = 0
    for i in range(REPAIR_PENDING):
        if c.pending_ms[i] and c.pending_seq[i] == seq:
            c.pending_ms[i] = now_ms if now_ms else 1
            return
        if c.pending_ms[i] == 0 or now_ms - c.pending_ms[i] > REPAIR_PENDING_MS:
            if free_slot < 0:
                free_slot = i
        elif c.pending_ms[i] < c.pending_ms[oldest]:
            oldest = i
    i = free_slot if free_slot >= 0 else oldest
    c.pending_seq[i] = seq
    c.pending_ms[i] = now_ms if now_ms else 1


cdef inline bint pending_take(Consumer* c, uint16_t seq, uint64_t now_ms) noexcept nogil:
    """True when the consumer awaits `seq` (asked within REPAIR_PENDING_MS); it awaits it no more."""
    cdef int i
    cdef uint64_t asked
    for i in range(REPAIR_PENDING):
        if c.pending_ms[i] and c.pending_seq[i] == seq:
            asked = c.pending_ms[i]
            c.pending_ms[i] = 0
            return now_ms - asked <= REPAIR_PENDING_MS
    return False


cdef bint send_repair(State* st, Producer* p, Consumer* c, const uint8_t* data, uint16_t length) noexcept nogil:
    """Sends the publisher's packet `data` (as it was sent, in the producer's numbering) to `c`
    again: RTX on the consumer's stream, or the media packet itself without RTX, with the header
    extensions rewritten for the consumer's transport where it was told its ids (extensions.pxi).
    False when the packet lies outside the consumer's current mapping."""
    cdef RtpView v
    cdef ExtScan scan
    cdef uint16_t mapped
    cdef size_t header, body, sent
    cdef int slot
    cdef uint8_t* buf
    cdef uint8_t pt
    cdef uint32_t ts
    cdef uint16_t twcc_at = 0
    if rtp_parse(data, length, &v) != DROP_NONE or not consumer_map_original(c, v.sequence, &mapped):
        return False
    slot = tx_reserve(st)
    buf = tx_buffer(st, slot)
    ts = <uint32_t>(v.timestamp + c.ts_offset)
    body = length - v.payload_offset
    # the header as this consumer receives its media: its SSRC, numbering and extension ids
    if c.transport.ext_told:
        ext_scan(&v, p.transport, &scan, &st.engine)
        write_rtp_header(buf, &v, c, mapped, ts)
        header = rewritten_head(buf, &v, &scan, c, &twcc_at)
        st.engine.ext_rewritten += 1
    else:
        header = v.payload_offset
        memcpy(buf, data, header)
        write_rtp_header(buf, &v, c, mapped, ts)
    pt = c.rtx_payload_type if c.rtx_payload_type != RTX_PT_KEEP else p.rtx_payload_type
    if c.has_rtx and pt != RTX_PT_KEEP:
        # RFC 4588 section 4: that header on the RTX stream, the OSN, then the payload
        buf[1] = (data[1] & 0x80) | (pt & 0x7F)
        store16(buf + 2, c.rtx_seq)
        store32(buf + 8, c.rtx_ssrc)
        store16(buf + header, mapped)
        memcpy(buf + header + 2, data + v.payload_offset, body)
        sent = header + 2 + body
        c.rtx_seq += 1
        c.rtx_sent += 1
        st.engine.rtx_sent += 1
    else:
        memcpy(buf + header, data + v.payload_offset, body)
        sent = header + body
    c.repair.repairs_sent += 1
    st.engine.repairs_sent += 1
    tx_send_copy(st, c.transport, slot, <int>sent, 0, &c.counters, &p.counters, False, twcc_at)
    return True


cdef void repair_nack(State* st, Transport* t, const RtcpView* part) noexcept nogil:
    """A subscriber's NACK about one of its consumers: cached packets are sent to it again, the
    others asked of the publisher in one NACK (the numbers it has not been asked for lately)."""
    cdef Consumer* c = consumer_by_ssrc(st, t, part.media_ssrc)
    cdef Producer* p
    cdef uint16_t lost[MAX_NACK_LOST]
    cdef uint16_t ask[MAX_NACK_LOST]
    cdef int count, asking = 0, i, written, slot
    cdef uint16_t seq, mapped
    cdef CacheEntry* e
    cdef CacheEntry* slot_entry
    cdef uint8_t* buf
    if c == NULL or c.producer == NULL or c.resync or not c.started:
        st.engine.rtcp_other_terminated += 1
        return
    p = c.producer
    c.nacks_in += 1
    count = nack_lost(part, lost, MAX_NACK_LOST)
    for i in range(count):
        seq = <uint16_t>(lost[i] - c.seq_offset)          # the publisher's number
        # numbers from before the last resync, or not sent yet, belong to no packet of this stream
        if not consumer_map_original(c, seq, &mapped):
            st.engine.nack_unmapped += 1
            continue
        if not nack_allowed(st, c):
            continue
        e = cache_find(p, seq, st.now_ms)
        if e != NULL:
            c.repair.cache_hits += 1
            st.engine.nack_cache_hits += 1
            send_repair(st, p, c, e.data, e.length)
            continue
        c.repair.cache_misses += 1
        st.engine.nack_cache_misses += 1
        pending_add(c, seq, st.now_ms)
        if p.cache != NULL:
            # the ring slot remembers the last miss asked of the publisher, for every consumer
            slot_entry = &p.cache[seq & (CACHE_SLOTS - 1)]
            if slot_entry.asked_ms and slot_entry.asked_seq == seq and st.now_ms - slot_entry.asked_ms < NACK_RELAY_INTERVAL_MS:
                continue
            slot_entry.asked_seq = seq
            slot_entry.asked_ms = st.now_ms if st.now_ms else 1
        ask[asking] = seq
        asking += 1
    if asking == 0 or not p.transport.has_remote or not p.has_ssrc:
        return
    slot = tx_reserve(st)
    buf = tx_buffer(st, slot)
    written = nack_pack(ask, asking, buf + 12, MAX_DATAGRAM - 12)
    buf[0] = 0x80 | FMT_NACK
    buf[1] = RTCP_RTPFB
    store16(buf + 2, <uint16_t>((12 + written) // 4 - 1))
    store32(buf + 4, st.rtcp_ssrc)
    store32(buf + 8, p.ssrc)
    p.nacks += 1
    st.engine.nack_relayed += 1
    tx_send_copy(st, p.transport, slot, 12 + written, 1, NULL, NULL)


cdef void repair_from_publisher(State* st, Transport* t, Producer* p, const RtpView* v) noexcept nogil:
    """The publisher's retransmission (RFC 4588) on the producer's RTX SSRC: the original packet is
    rebuilt (the producer's SSRC and payload type, the OSN as its sequence number), cached, and sent
    to the consumers that await it; the gates apply as to media."""
    cdef uint8_t original[MAX_DATAGRAM]
    cdef RtpView rebuilt
    cdef Consumer* c
    cdef uint32_t i
    cdef bint taken = False
    cdef uint16_t osn = load16(v.data + v.payload_offset)
    cdef int header = v.payload_offset
    cdef uint16_t length = <uint16_t>(v.length - 2)
    p.rtx_payload_type = v.payload_type
    memcpy(original, v.data, header)
    original[1] = (v.data[1] & 0x80) | p.payload_type
    store16(original + 2, osn)
    store32(original + 8, p.ssrc)
    memcpy(original + header, v.data + header + 2, v.length - header - 2)
    if p.cache != NULL and rtp_parse(original, length, &rebuilt) == DROP_NONE:
        if cache_find(p, osn, st.now_ms) == NULL:
            cache_store(p, &rebuilt, st.now_ms)
    for i in range(p.consumer_count):
        c = p.consumers[i]
        if c.producer != p or not pending_take(c, osn, st.now_ms):
            continue
        taken = True
        if c.paused or not c.transport.has_remote:
            c.gated += 1
            continue
        if not send_repair(st, p, c, original, length):
            c.rtx_unmapped += 1
            st.engine.rtx_unmapped += 1
    if not taken:
        st.engine.rtx_unrequested += 1
