# SSRC learning: browsers' simulcast (and any sender whose SDP names no SSRC) announces a stream by
# its MID and RID header extensions only. An RTP packet with an unknown SSRC on a transport that has
# extension ids (Core.set_transport_extensions) is queued here as a small record: the extension
# values, not the packet, so decrypted media never leaves C. Python maps MID (+RID) to a producer and
# adds the SSRC with a versioned table operation. The mapping stays in Python: it happens once per
# stream, needs the producers' MIDs and RIDs (strings), and must be a table operation anyway.
# The packet itself is dropped (unknown_ssrc) until the SSRC is in the table; a sender keeps the
# extensions on its first packets for exactly this reason (RFC 9143 section 9.2).


cdef inline int _learn_value(const RtpView* v, uint8_t ext_id, uint8_t* out) noexcept nogil:
    cdef const uint8_t* value
    cdef int n
    if ext_id == 0:
        return -1
    n = rtp_extension(v, ext_id, &value)
    if n < 0 or n > LEARN_VALUE_MAX:
        return -1
    memcpy(out, value, n)
    return n


cdef void learn_push(State* st, Transport* t, const RtpView* v) noexcept nogil:
    cdef LearnRecord* r
    cdef int i
    for i in range(st.learn.count):
        r = &st.learn.records[(st.learn.head + i) % LEARN_QUEUE_SIZE]
        if r.transport_id == t.id and r.ssrc == v.ssrc:
            return                           # already waiting for Python
    if st.learn.count == LEARN_QUEUE_SIZE:
        st.engine.ssrc_learn_overflow += 1
        return
    r = &st.learn.records[(st.learn.head + st.learn.count) % LEARN_QUEUE_SIZE]
    r.transport_id = t.id
    r.ssrc = v.ssrc
    r.payload_type = v.payload_type
    r.mid_length = _learn_value(v, t.mid_ext, r.mid)
    r.rid_length = _learn_value(v, t.rid_ext, r.rid)
    r.rrid_length = _learn_value(v, t.rrid_ext, r.rrid)
    st.learn.count += 1
    st.engine.ssrc_learn_queued += 1


cdef object _learn_bytes(const uint8_t* value, int length):
    if length < 0:
        return None
    return (<const char*>value)[:length].decode("utf-8", "replace")


cdef object learn_pop(State* st):
    """The oldest record as (transport id, ssrc, payload type, mid, rid, repaired rid), or None."""
    cdef LearnRecord* r
    if st.learn.count == 0:
        return None
    r = &st.learn.records[st.learn.head]
    out = (r.transport_id, r.ssrc, r.payload_type, _learn_bytes(r.mid, r.mid_length),
           _learn_bytes(r.rid, r.rid_length), _learn_bytes(r.rrid, r.rrid_length))
    st.learn.head = (st.learn.head + 1) % LEARN_QUEUE_SIZE
    st.learn.count -= 1
    return out
