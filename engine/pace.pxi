# Pacing: a token bucket per transport over the video sent to its peer, so that a burst (a keyframe
# after a layer switch up, a repaired gap) leaves at the transport's rate instead of at once.
#
# The bucket holds credit in bit-microseconds (bytes * 8 * 10^6 over the rate: no division per
# packet), refilled at pace_rate_bps from State.now_us. An idle transport's credit is capped at
# PACE_BURST_US of the rate; one that holds packets keeps all it earns, so a late tick of the loop's
# timer sends what was due then instead of losing the time. A video datagram is sent when the
# transport holds nothing and the credit covers it; otherwise it is copied, whole and not yet
# numbered nor protected, into the transport's PaceQueue and released in order on a later tick: at
# the start of every receive batch and on the loop's pace timer (Core.pace), which runs while
# anything is held. It takes its transport-wide number (twcc.pxi) and its SRTP protection as it
# leaves, so the numbers follow the order of departure and feedback counts no held packet lost.
#
# The rate is pacing_bps (2.5 times the estimate toward the peer, or what Core.set_transport_pacing
# set), raised to PACE_DEMAND_PERCENT of what the peer was offered (sent, plus the growth of the
# queue) in each of the last two windows of PACE_DEMAND_US: a rate sustained that long, not one
# keyframe's burst, which is what pacing spreads. An SFU cannot make a forwarded stream smaller than it
# arrives (choosing a lower layer is the allocation's job): a bucket slower than what it is offered
# only delays every packet more, without bound. An estimate that stands on little (a receiver's
# REMB about a few tiny frames) must not turn pacing into a growing delay.
#
# The queue is bounded: past PACE_QUEUE_US of the rate (or PACE_QUEUE_SLOTS packets) its oldest
# packets are sent early (counted: early) rather than dropped, since a frame missing a packet is
# not decoded and a switch up would wait for the next keyframe; and no packet is held longer than
# PACE_QUEUE_US. Audio, RTCP, probes and retransmissions bypass the queue and spend credit too
# (down to one burst of debt), so they take video's share instead of adding to it.


cdef inline int64_t pace_cost(size_t length) noexcept nogil:
    return <int64_t>length * 8000000


cdef inline int64_t pace_burst(const Transport* t) noexcept nogil:
    cdef int64_t burst = <int64_t>t.pace_rate_bps * PACE_BURST_US
    cdef int64_t floor = pace_cost(PACE_MIN_BURST)
    return burst if burst > floor else floor


cdef inline bint pace_holding(const Transport* t) noexcept nogil:
    return t.pace != NULL and t.pace.count != 0


cdef inline void pace_cap(Transport* t) noexcept nogil:
    """An idle transport saves at most one burst."""
    cdef int64_t burst = pace_burst(t)
    if t.pace_credit > burst and not pace_holding(t):
        t.pace_credit = burst


cdef inline void pace_refill(State* st, Transport* t) noexcept nogil:
    cdef uint64_t elapsed
    if st.now_us <= t.pace_at_us:
        return
    elapsed = st.now_us - t.pace_at_us
    if elapsed > 1000000:                 # a stall of over a second is not made up for
        elapsed = 1000000
    t.pace_at_us = st.now_us
    t.pace_credit += <int64_t>(elapsed * t.pace_rate_bps)
    pace_measure(st, t)
    pace_cap(t)


cdef inline uint64_t pace_rate_of(const Transport* t) noexcept nogil:
    cdef uint64_t demand = t.pace_demand_bps * PACE_DEMAND_PERCENT // 100
    return demand if demand > t.pacing_bps else t.pacing_bps


cdef inline int64_t pace_held_cost(const Transport* t) noexcept nogil:
    return t.pace.cost if t.pace != NULL else 0


cdef void pace_measure(State* st, Transport* t) noexcept nogil:
    """Closes a demand window once it spans PACE_DEMAND_US: what the peer was offered in it is
    what left plus what the queue grew by (both in pace_cost units, bits * 10^6, over microseconds:
    bit/s). The demand is the lesser of it and the window's before, and the bucket's rate follows
    (pace_rate_of)."""
    cdef uint64_t elapsed = st.now_us - t.pace_window_us
    cdef int64_t held = pace_held_cost(t)
    cdef int64_t offered
    cdef uint64_t window_bps
    if elapsed < PACE_DEMAND_US:
        return
    offered = t.pace_window_sent + held - t.pace_window_held
    window_bps = <uint64_t>(offered // <int64_t>elapsed) if offered > 0 else 0
    t.pace_demand_bps = window_bps if window_bps < t.pace_window_bps else t.pace_window_bps
    t.pace_window_bps = window_bps
    t.pace_window_us = st.now_us
    t.pace_window_sent = 0
    t.pace_window_held = held
    t.pace_rate_bps = pace_rate_of(t)


cdef inline uint64_t pace_rate_from(uint64_t estimate_bps) noexcept nogil:
    """The pacing rate for a peer's estimate (its REMB, or the engine's estimate toward it):
    PACE_REMB_PERCENT of it, never below PACE_MIN_BPS."""
    cdef uint64_t rate = estimate_bps * PACE_REMB_PERCENT // 100
    return rate if rate > PACE_MIN_BPS else PACE_MIN_BPS


cdef void pace_set_rate(State* st, Transport* t, uint64_t bps) noexcept nogil:
    """A new rate; 0 unpaces the transport and sends whatever it holds at the next release."""
    if t.pacing_bps == 0 and bps != 0:    # a fresh bucket starts full, and measures afresh
        t.pacing_bps = t.pace_rate_bps = bps
        t.pace_demand_bps = t.pace_window_bps = 0
        t.pace_at_us = t.pace_window_us = st.now_us
        t.pace_window_sent = 0
        t.pace_window_held = pace_held_cost(t)
        t.pace_credit = pace_burst(t)
        return
    pace_refill(st, t)
    t.pacing_bps = bps
    t.pace_rate_bps = pace_rate_of(t) if bps != 0 else 0


cdef inline void pace_spend(State* st, Transport* t, size_t length) noexcept nogil:
    """A datagram leaves for a paced transport's peer: its credit pays, down to one burst of debt."""
    cdef int64_t debt = -pace_burst(t)
    pace_refill(st, t)
    t.pace_credit -= pace_cost(length)
    t.pace_window_sent += pace_cost(length)
    if t.pace_credit < debt:
        t.pace_credit = debt


cdef bint pace_admit(State* st, Transport* t, int slot, int iovlen, size_t length, uint16_t twcc_at,
                     bint protect, Counters* consumer, Counters* producer) noexcept nogil:
    """Whether video send slot `slot` (not yet numbered nor protected) goes out now. False: the
    pacer holds a copy, which leaves numbered at `twcc_at` (0: not numbered), and SRTP-protected if
    `protect`."""
    cdef int64_t cost = pace_cost(length)
    cdef PaceQueue* q = t.pace
    cdef PacedPacket* e
    pace_refill(st, t)
    if (q == NULL or q.count == 0) and t.pace_credit >= cost:
        return True
    if q == NULL:
        q = t.pace = <PaceQueue*>mem_alloc(st, sizeof(PaceQueue))
        if q == NULL:
            return True                   # no memory to hold it: it goes unpaced
    # the ring has room: pace_bound leaves it below PACE_QUEUE_SLOTS packets
    e = &q.packets[(q.head + q.count) % PACE_QUEUE_SLOTS]
    memcpy(e.data, st.tx.iov[2 * slot].iov_base, st.tx.iov[2 * slot].iov_len)
    if iovlen == 2:
        memcpy(e.data + st.tx.iov[2 * slot].iov_len, st.tx.iov[2 * slot + 1].iov_base,
               st.tx.iov[2 * slot + 1].iov_len)
    e.length = <uint16_t>length
    e.twcc_at = twcc_at
    e.protect = protect
    e.held_us = st.now_us
    e.consumer = consumer
    e.producer = producer
    q.count += 1
    q.cost += cost
    st.paced_count += 1
    t.pacing.held += 1
    st.engine.paced_held += 1
    if not t.pace_listed:
        t.pace_listed = 1
        t.pace_next = st.paced
        st.paced = t
    pace_bound(st, t, q)
    return False


cdef void pace_bound(State* st, Transport* t, PaceQueue* q) noexcept nogil:
    """Past PACE_QUEUE_US of the rate, or with its ring full, the queue sends its oldest packets
    now, ahead of the bucket, and flushes (the send queue borrows them)."""
    cdef int64_t bound = <int64_t>t.pace_rate_bps * PACE_QUEUE_US
    cdef int early = 0
    while q.count and (q.count >= PACE_QUEUE_SLOTS or q.cost - t.pace_credit > bound):
        pace_send_head(st, t, q)
        early += 1
    if early:
        pace_count_early(st, t, early)
        if q.count == 0:
            pace_unlist(st, t)
        tx_flush(st)


cdef inline void pace_count_early(State* st, Transport* t, int early) noexcept nogil:
    t.pacing.early += early
    st.engine.pace_early += early


cdef void pace_send_head(State* st, Transport* t, PaceQueue* q) noexcept nogil:
    """The oldest held packet leaves: numbered, protected, queued to send (its bucket pays)."""
    cdef PacedPacket* e = &q.packets[q.head]
    cdef int length = e.length
    cdef int slot
    q.head = (q.head + 1) % PACE_QUEUE_SLOTS
    q.count -= 1
    q.cost -= pace_cost(e.length)
    st.paced_count -= 1
    t.pacing.released += 1
    st.engine.paced_released += 1
    if not t.has_remote:
        drop(st, &t.counters, e.consumer, DROP_SEND_FAILED)
        return
    if e.twcc_at:
        tx_number(st, t, e.data, e.twcc_at, e.length)
    if e.protect and t.protect != NULL and t.protect(t.crypto, e.data, &length, 0) != DROP_NONE:
        drop(st, &t.counters, e.consumer, DROP_SEND_FAILED)
        return
    slot = tx_reserve(st)
    st.tx.iov[2 * slot].iov_base = e.data
    st.tx.iov[2 * slot].iov_len = length
    tx_commit(st, t, 1, e.consumer, e.producer)


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
    """Sends what the paced transports' credit now covers (all of it for an unpaced one), and any
    packet held PACE_QUEUE_US already (early), then flushes: the send queue borrows the held
    datagrams, which a later hold may overwrite."""
    cdef Transport* t = st.paced
    cdef Transport* after
    cdef PaceQueue* q
    cdef PacedPacket* e
    while t != NULL:
        after = t.pace_next
        q = t.pace
        pace_refill(st, t)
        while q.count:
            e = &q.packets[q.head]
            if t.pacing_bps != 0 and t.pace_credit < pace_cost(e.length):
                if st.now_us - e.held_us < PACE_QUEUE_US:
                    break                     # (tx_commit spends the credit)
                pace_count_early(st, t, 1)
            pace_send_head(st, t, q)
        if q.count == 0:
            pace_unlist(st, t)
            pace_cap(t)
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
