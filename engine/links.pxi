# A consumer and the producers that feed it (Core.add_consumer, switch_consumer, remove_consumer):
# made on its subscriber's transport, attached to a producer (listed in the producer's consumer
# array, its payload type and timestamps mapped afresh), a pending simulcast layer listed too until
# its keyframe (simulcast.pxi), detached.


cdef Consumer* consumer_new(State* st, Transport* t, Producer* p, uint32_t cid, uint32_t ssrc,
                            uint8_t payload_type, bint paused, object rtx_ssrc, object rtx_payload_type,
                            bytes mid) except NULL:
    """A consumer of `p` on `t`, in the id and SSRC tables and attached; ValueError for a clash or
    a value out of range, with nothing changed."""
    cdef Key kid = id_key(TAG_CONSUMER, cid)
    cdef Key kssrc = media_key(t.id, ssrc)
    cdef Key krtx
    cdef Consumer* c
    if payload_type > 127:
        raise ValueError(f"payload type out of range: {payload_type}")
    if table_get(&st.by_id, &kid) != NULL:
        raise ValueError(f"consumer {cid} exists")
    if table_get(&st.by_consumer, &kssrc) != NULL:
        raise ValueError(f"SSRC {ssrc} is already consumed on transport {t.id}")
    if rtx_ssrc is not None:
        krtx = media_key(t.id, rtx_ssrc)
        if rtx_ssrc == ssrc or table_get(&st.by_consumer, &krtx) != NULL:
            raise ValueError(f"SSRC {rtx_ssrc} is already consumed on transport {t.id}")
    if rtx_payload_type is not None and not 0 <= rtx_payload_type <= 127:
        raise ValueError(f"payload type out of range: {rtx_payload_type}")
    if mid is not None and not 0 < len(mid) <= EXT_VALUE_MAX:
        raise ValueError(f"a consumer's mid is 1 to {EXT_VALUE_MAX} bytes")
    c = <Consumer*>mem_alloc(st, sizeof(Consumer))
    if c == NULL:
        raise MemoryError()
    st.live_consumers += 1
    c.id = cid
    c.transport = t
    c.ssrc = ssrc
    c.payload_type = payload_type
    c.paused = paused
    if mid is not None:
        memcpy(c.mid, <const char*>mid, len(mid))
        c.mid_length = <uint8_t>len(mid)
    if rtx_ssrc is not None:
        c.has_rtx = 1
        c.rtx_ssrc = rtx_ssrc
        c.rtx_payload_type = RTX_PT_KEEP if rtx_payload_type is None else rtx_payload_type
        c.rtx_seq = <uint16_t>mix64(c.rtx_ssrc)   # an unpredictable start (RFC 3550 5.1)
    try:
        table_put_or_raise(st, &st.by_id, &kid, c)
        table_put_or_raise(st, &st.by_consumer, &kssrc, c)
        consumer_attach(st, p, c)
    except BaseException:
        table_del(&st.by_consumer, &kssrc)
        table_del(&st.by_id, &kid)
        mem_free(st, c)
        st.live_consumers -= 1
        raise
    return c


cdef int consumer_attach(State* st, Producer* p, Consumer* c) except -1:
    """Feeds `c` from `p` from now on: its payload type and timestamps mapped afresh."""
    producer_append(st, p, c)
    c.producer = p
    c.clock_rate = p.clock_rate
    consumer_reset_map(c, p.payload_type)
    c.resync = 1
    return 0


cdef int producer_append(State* st, Producer* p, Consumer* c) except -1:
    """Puts `c` in the producer's consumer array (grown as needed)."""
    cdef Consumer** grown
    cdef uint32_t capacity
    if p.consumer_count == p.consumer_capacity:
        capacity = p.consumer_capacity * 2 if p.consumer_capacity else 4
        grown = <Consumer**>mem_alloc(st, capacity * sizeof(Consumer*))
        if grown == NULL:
            raise MemoryError()
        if p.consumer_count:
            memcpy(grown, p.consumers, p.consumer_count * sizeof(Consumer*))
        mem_free(st, p.consumers)
        p.consumers = grown
        p.consumer_capacity = capacity
    p.consumers[p.consumer_count] = c
    p.consumer_count += 1
    return 0


cdef void consumer_detach(Consumer* c) noexcept:
    if c.producer != NULL:
        producer_forget(c.producer, c)
    c.producer = NULL


cdef void consumer_cancel_pending(Consumer* c) noexcept:
    """Drops the layer switch waiting for its keyframe, if any."""
    if c.pending != NULL:
        producer_forget(c.pending, c)
    c.pending = NULL
