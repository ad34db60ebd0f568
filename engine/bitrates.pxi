# The bandwidth tick in one pass over the id table (Core.bandwidth_report): every video producer's
# bitrate, measured from the media bytes it received since the last pass, and every subscriber
# transport's estimate (estimator.pxi), each returned only when it moved by more than
# BW_CHANGE_PERCENT since it was last told; a producer also when it fell silent (two passes without
# media) or came back; after bw_retell (a control plane connected) all of them once. The control
# plane's budget (control.domain.budget) turns them into the layer each subscriber gets; telling it
# every wobble would only churn layers.
#
# In C because the tick is per meeting: a worker's 1,000 meetings spent 9 to 11 ms of every second
# in Python reading these fields one call at a time, and a meeting with steady media has nothing to
# tell, so the pass hands Python only what moved.


cdef inline bint bw_moved(uint64_t told, uint64_t now) noexcept nogil:
    """Whether `now` differs from `told` by more than BW_CHANGE_PERCENT of it (of 1 when 0)."""
    cdef uint64_t base = told if told > 1 else 1
    cdef uint64_t delta = now - told if now >= told else told - now
    return delta * 100 > <uint64_t>BW_CHANGE_PERCENT * base


cdef bint bw_sample_producer(Producer* p, uint64_t now_us, uint64_t* told) noexcept nogil:
    """Takes the producer's media bytes at `now_us`; True, with its bitrate (bit/s) in `told`, when
    that moved since told, or the producer fell silent (no media bytes in two passes running: a
    simulcast layer its browser stopped, or was told to stop; one pass could be a loaded publisher's
    slow second, and each switch away and back costs keyframes) or came back (p.bw_flags & BW_SILENT
    says which was told). A first sample, a clock that did not advance or a counter that went back
    gives no bitrate: the next pass does. The bitrate is smoothed (BW_SMOOTHING_PERCENT): a silent
    layer's decays, as its cost to the budget (control.domain.budget) only the bitrate tells."""
    cdef uint64_t last = p.bw_bytes
    cdef uint64_t last_us = p.bw_at_us
    cdef uint64_t total = p.media_bytes
    cdef bint sampled = p.bw_flags & BW_SAMPLED
    cdef bint silent
    cdef double fresh, rate
    cdef uint64_t rounded
    p.bw_bytes = total
    p.bw_at_us = now_us
    p.bw_flags |= BW_SAMPLED
    if not sampled or now_us <= last_us or total < last:
        return False
    if total == last:
        silent = (p.bw_flags & BW_QUIET) != 0    # the pass before had nothing either
        p.bw_flags |= BW_QUIET
    else:
        silent = False
        p.bw_flags &= ~BW_QUIET
    fresh = <double>(total - last) * 8.0 * 1e6 / <double>(now_us - last_us)
    if p.bw_flags & BW_RATED:
        rate = (BW_SMOOTHING_PERCENT * fresh + (100 - BW_SMOOTHING_PERCENT) * p.bw_rate) / 100.0
    else:
        rate = fresh
    p.bw_rate = rate
    p.bw_flags |= BW_RATED
    rounded = <uint64_t>(rate + 0.5)
    if (p.bw_flags & BW_TOLD and not bw_moved(p.bw_told, rounded)
            and silent == ((p.bw_flags & BW_SILENT) != 0)):
        return False
    p.bw_told = rounded
    p.bw_flags |= BW_TOLD
    if silent:
        p.bw_flags |= BW_SILENT
    else:
        p.bw_flags &= ~BW_SILENT
    told[0] = rounded
    return True


cdef bint bw_sample_transport(Transport* t, uint64_t now_us, uint64_t* told) noexcept nogil:
    """True, with the transport's estimate in `told`, when it rests on something (feedback, REMB or
    receiver reports) and moved since told."""
    cdef uint64_t estimate
    if estimator_source(&t.est, now_us) == 0:
        return False
    estimate = t.est.estimate_bps
    if estimate == 0 or (t.bw_told != 0 and not bw_moved(t.bw_told, estimate)):
        return False
    t.bw_told = estimate
    told[0] = estimate
    return True


cdef void bw_mark_consumed(State* st) noexcept nogil:
    """Marks with this pass every transport that has a consumer; forgets what was told about the
    others (told again once they consume: the control plane dropped their estimate with them)."""
    cdef uint32_t i
    cdef Slot* slot
    st.bw_pass += 1
    for i in range(st.by_id.capacity):
        slot = &st.by_id.slots[i]
        if slot.used and slot.key.c == TAG_CONSUMER:
            (<Consumer*>slot.value).transport.bw_pass = st.bw_pass


cdef tuple bw_report(State* st, uint64_t now_us):
    """One pass: ([(router id, producer id, bit/s, silent)], [(router id, transport id, bit/s)]) of
    what moved."""
    cdef list bitrates = []
    cdef list estimates = []
    cdef uint32_t i
    cdef uint64_t told = 0
    cdef Slot* slot
    cdef Producer* p
    cdef Transport* t
    bw_mark_consumed(st)
    for i in range(st.by_id.capacity):
        slot = &st.by_id.slots[i]
        if not slot.used:
            continue
        if slot.key.c == TAG_PRODUCER:
            p = <Producer*>slot.value
            if p.video and bw_sample_producer(p, now_us, &told):
                bitrates.append((p.transport.router_id, p.id, told, bool(p.bw_flags & BW_SILENT)))
        elif slot.key.c == TAG_TRANSPORT:
            t = <Transport*>slot.value
            if t.bw_pass != st.bw_pass or t.pipe:
                t.bw_told = 0
            elif bw_sample_transport(t, now_us, &told):
                estimates.append((t.router_id, t.id, told))
    return bitrates, estimates


cdef void bw_retell(State* st) noexcept nogil:
    """Forgets what was told: the next pass tells every video producer's bitrate (and whether it is
    silent) and every consumed transport's estimate, moved or not. For a control plane that has just
    connected (again, or a new one after a restart): it holds none of what was told before, events
    are not kept while disconnected, and a steady meeting would otherwise tell it nothing."""
    cdef uint32_t i
    cdef Slot* slot
    for i in range(st.by_id.capacity):
        slot = &st.by_id.slots[i]
        if not slot.used:
            continue
        if slot.key.c == TAG_PRODUCER:
            (<Producer*>slot.value).bw_flags &= ~BW_TOLD
        elif slot.key.c == TAG_TRANSPORT:
            (<Transport*>slot.value).bw_told = 0
