# Pacing: a token bucket per transport over the video sent to its peer, so that a burst (a keyframe
# after a layer switch up, a repaired gap) leaves at the transport's rate instead of at once.
#
# The bucket holds credit in bit-microseconds (bytes * 8 * 10^6 over the rate: no division per
# packet), refilled at pacing_bps from State.now_us and capped at PACE_BURST_US of the rate. A video
# datagram is sent when the transport holds nothing and the credit covers it; otherwise it is copied
# (whole, protected if SRTP) into the transport's PaceQueue and released on a later tick, in order:
# at the start of every receive batch and on the loop's pace timer (Core.pace). Audio, RTCP and
# retransmissions bypass the queue and spend credit too (down to one burst of debt), so they take
# video's share instead of adding to it. A full queue drops the new packet (pace_queue_full).


cdef inline int64_t pace_cost(const Transport* t, size_t length) noexcept nogil:
    return <int64_t>length * 8000000


cdef inline int64_t pace_burst(const Transport* t) noexcept nogil:
    cdef int64_t burst = <int64_t>t.pacing_bps * PACE_BURST_US
    cdef int64_t floor = <int64_t>PACE_MIN_BURST * 8000000
    return burst if burst > floor else floor


cdef inline void pace_refill(State* st, Transport* t) noexcept nogil:
    cdef uint64_t elapsed
    cdef int64_t burst
    if st.now_us <= t.pace_at_us:
        return
    elapsed = st.now_us - t.pace_at_us
    if elapsed > 1000000:                 # anything over a second refills the whole burst anyway
        elapsed = 1000000
    t.pace_at_us = st.now_us
    t.pace_credit += <int64_t>(elapsed * t.pacing_bps)
    burst = pace_burst(t)
    if t.pace_credit > burst:
        t.pace_credit = burst


cdef void pace_set_rate(State* st, Transport* t, uint64_t bps) noexcept nogil:
    """A new rate; 0 unpaces the transport and sends whatever it holds at the next release."""
    if t.pacing_bps == 0 and bps != 0:    # a fresh bucket starts full
        t.pacing_bps = bps
        t.pace_at_us = st.now_us
        t.pace_credit = pace_burst(t)
        return
    pace_refill(st, t)
    t.pacing_bps = bps


cdef bint pace_admit(State* st, Transport* t, int slot, int iovlen, size_t length,
                     Counters* consumer, Counters* producer, bint paced) noexcept nogil:
    """Whether send slot `slot` goes out now. False: the pacer held a copy (or dropped it)."""
    cdef int64_t cost = pace_cost(t, length)
    cdef PaceQueue* q = t.pace
    cdef PacedPacket* e
    pace_refill(st, t)
    if not paced:
        t.pace_credit -= cost
        if t.pace_credit < -pace_burst(t):
            t.pace_credit = -pace_burst(t)
        return True
    if (q == NULL or q.count == 0) and t.pace_credit >= cost:
        t.pace_credit -= cost
        return True
    if q == NULL:
        q = t.pace = <PaceQueue*>mem_alloc(st, sizeof(PaceQueue))
    if q == NULL or q.count == PACE_QUEUE_SLOTS:
        t.pacing.overflow += 1
        st.engine.pace_overflow += 1
        drop(st, &t.counters, consumer, DROP_PACE_QUEUE_FULL)
        return False
    e = &q.packets[(q.head + q.count) % PACE_QUEUE_SLOTS]
    memcpy(e.data, st.tx.iov[2 * slot].iov_base, st.tx.iov[2 * slot].iov_len)
    if iovlen == 2:
        memcpy(e.data + st.tx.iov[2 * slot].iov_len, st.tx.iov[2 * slot + 1].iov_base,
               st.tx.iov[2 * slot + 1].iov_len)
    e.length = <uint16_t>length
    e.consumer = consumer
    e.producer = producer
    q.count += 1
    st.paced_count += 1
    t.pacing.held += 1
    st.engine.paced_held += 1
    if not t.pace_listed:
        t.pace_listed = 1
        t.pace_next = st.paced
        st.paced = t
    return False


cdef void pace_unlist(State* st, Transport* t) noexcept nogil:
    cdef Transport** link = &st.paced
    while link[0] != NULL:
        if link[0] == t:
            link[0] = t.pace_next
            break
        link = &link[0].pace_next
    t.pace_next = NULL
    t.pace_listed = 0


cdef void pace_release(State* st) noexcept nogil:
    """Sends what the paced transports' credit now covers (all of it for an unpaced one), then
    flushes: the send queue borrows the held datagrams, which a later hold may overwrite."""
    cdef Transport* t = st.paced
    cdef Transport* after
    cdef PaceQueue* q
    cdef PacedPacket* e
    cdef int64_t cost
    cdef int slot
    while t != NULL:
        after = t.pace_next
        q = t.pace
        pace_refill(st, t)
        while q.count:
            e = &q.packets[q.head]
            cost = pace_cost(t, e.length)
            if t.pacing_bps != 0 and t.pace_credit < cost:
                break                         # (tx_commit spends the credit)
            q.head = (q.head + 1) % PACE_QUEUE_SLOTS
            q.count -= 1
            st.paced_count -= 1
            t.pacing.released += 1
            st.engine.paced_released += 1
            if not t.has_remote:
                drop(st, &t.counters, e.consumer, DROP_SEND_FAILED)
                continue
            slot = tx_reserve(st)
            st.tx.iov[2 * slot].iov_base = e.data
            st.tx.iov[2 * slot].iov_len = e.length
            tx_commit(st, t, 1, e.consumer, e.producer, False)
        if q.count == 0:
            pace_unlist(st, t)
        t = after
    tx_flush(st)


cdef void pace_forget_counters(State* st, const Counters* gone) noexcept nogil:
    """A consumer or producer is removed: its held packets still go, credited to nobody for it."""
    cdef Transport* t = st.paced
    cdef PaceQueue* q
    cdef int i
    cdef PacedPacket* e
    while t != NULL:
        q = t.pace
        for i in range(q.count):
            e = &q.packets[(q.head + i) % PACE_QUEUE_SLOTS]
            if e.consumer == gone:
                e.consumer = NULL
            if e.producer == gone:
                e.producer = NULL
        t = t.pace_next


cdef void pace_discard(State* st, Transport* t) noexcept nogil:
    """The transport goes, and the packets it holds with it."""
    if t.pace_listed:
        st.paced_count -= t.pace.count
        pace_unlist(st, t)
    mem_free(st, t.pace)
    t.pace = NULL
