# Simulcast: each layer of a simulcast track is a producer of its own (its SSRC or RID, its RTX,
# its cache); a consumer forwards exactly one. A switch to another layer waits for that layer's next
# keyframe (keyframe.pxi): until then the consumer keeps forwarding its current layer and sits, as
# pending, in the target layer's consumer array as well; the target's first keyframe packet moves
# it over (the old layer's array lets it go), with a resync so that its sequence numbers and
# timestamps run on. A keyframe is asked of the target layer when the switch is set, and again at
# most once per keyframe interval while the consumer waits (the first one may have been missed).


cdef inline bint consumer_layer_ready(State* st, Producer* p, Consumer* c, const RtpView* v) noexcept nogil:
    """For a consumer pending on `p` (c.producer is another layer): True once `v` starts a keyframe
    of `p`, the consumer then fed from `p`; False (and perhaps a keyframe request) before."""
    if p.codec != CODEC_OTHER and not keyframe_start(v.data + v.payload_offset, v.payload_length, <Codec>p.codec):
        if st.now_ms - p.last_keyframe_request_ms >= st.keyframe_interval_ms:
            request_keyframe(st, p, False, False)
        return False
    if c.producer != NULL:
        producer_forget(c.producer, c)
    c.producer = p
    c.pending = NULL
    c.clock_rate = p.clock_rate
    consumer_reset_map(c, p.payload_type)
    c.resync = 1
    c.layer_switches += 1
    st.engine.layer_switches += 1
    return True


cdef inline void producer_forget(Producer* p, Consumer* c) noexcept nogil:
    """Takes `c` out of the producer's consumer array (order does not matter)."""
    cdef uint32_t i
    for i in range(p.consumer_count):
        if p.consumers[i] == c:
            p.consumer_count -= 1
            p.consumers[i] = p.consumers[p.consumer_count]
            return
