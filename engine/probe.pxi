# Bandwidth probing toward subscribers. The delay-based estimate never rises past 1.5 times what the
# subscriber acknowledged (estimator.pxi), so a subscriber held to a low layer could never show that
# its link now carries more: its estimate would stay near 1.5 times that layer. A probe sends it more
# than the media for a short cluster (PROBE_DURATION_US, in bursts of the engine's ticks): padding-
# only RTP packets on one of its consumers' RTX streams (RFC 4588; the receiver discards them, its
# transport-cc feedback counts them), so that the transport's sent rate reaches a target. Every
# packet numbered during the cluster, media included, is marked in the send history with the
# cluster's id; once feedback has reported them, the cluster's received rate is compared with its
# sent rate (the bytes between the first and the last packet of each span): received at 90 % of the
# sent rate or more, the link carried it all (the result is the lower of the two); less, the link
# was the bottleneck (95 % of the received rate). A result 5 % above the estimate, without overuse,
# becomes the delay-based rate and the loss bound at least (and the link capacity the AIMD
# controller remembered is forgotten).
#
# When: automatically while the 1.5 x acknowledged cap holds the rate controller and the delay
# detector is normal and the transport sends under PROBE_LIMITED_PERCENT of the delay-based rate
# (application-limited), and more bandwidth could change what the subscriber receives: one of its
# video consumers forwards, or switches to, a simulcast layer under its track's top layer
# (probe_due; a subscriber with every top layer would only climb to the ceiling with padding).
# First PROBE_FIRST_US after transport-cc feedback starts, then again PROBE_AGAIN_US after a probe
# that raised the estimate, or after a wait doubling from PROBE_BACKOFF_US to PROBE_BACKOFF_MAX_US
# after one that did not; an estimate drop not caused by a probe starts the wait again from
# PROBE_BACKOFF_US, and a large one gets one probe back toward the estimate before it, whatever the
# layers. Until an automatic probe at twice the estimate has been measured raising nothing, the
# transport is probed whatever it sends, still only while more bandwidth could raise a layer (its
# start: the budget fills a starting estimate, which is a guess; a requested probe, or one judged
# on too few packets, found nothing about the link and does not end it). Target: twice the estimate, at
# most PROBE_CEILING_BPS. Core.probe_transport (Transport.probe) starts one at any target.


# ---- the estimator's side: plain numbers, a test's clock or the engine's -----------------------

cdef void probe_begin(Estimator* e, uint64_t target_bps, uint64_t now_us) noexcept nogil:
    """Starts a cluster at `target_bps` (a cluster still sent or judged is dropped unjudged)."""
    e.probe_cluster = <uint16_t>(e.probe_cluster + 1) if e.probe_cluster != 0xFFFF else 1
    e.probe_finding = 0                   # the caller says when it is an automatic one (probe_due)
    e.probe_sending = 1
    e.probe_judging = 0
    e.probe_target_bps = clamp_bps(<double>target_bps)
    e.probe_start_us = now_us if now_us else 1
    e.probe_sent_bits = 0
    e.probe_numbered = e.probe_reported = e.probe_received = 0
    e.probe_bytes_sent = e.probe_bytes_received = 0
    e.probes_started += 1


cdef inline void probe_end_sending(Estimator* e, uint64_t now_us) noexcept nogil:
    """A cluster ends after PROBE_DURATION_US with twice PROBE_MIN_PACKETS numbered, or after four
    times that long whatever it numbered."""
    cdef uint64_t elapsed = elapsed_us(e.probe_start_us, now_us)
    if e.probe_sending and (elapsed >= 4 * PROBE_DURATION_US or (
            elapsed >= PROBE_DURATION_US and e.probe_numbered >= 2 * PROBE_MIN_PACKETS)):
        e.probe_sending = 0
        e.probe_judging = 1


cdef int64_t probe_owed(Estimator* e, uint64_t now_us) noexcept nogil:
    """Bytes the cluster owes at `now_us`: its target rate over the time since it began and one
    burst ahead, less what the transport sent since (media included). It ends once sent for
    PROBE_DURATION_US (then it is judged)."""
    cdef int64_t bits
    probe_end_sending(e, now_us)
    if not e.probe_sending:
        return 0
    bits = <int64_t>(e.probe_target_bps * (elapsed_us(e.probe_start_us, now_us) + PACE_BURST_US) // 1000000)
    bits -= <int64_t>e.probe_sent_bits
    return bits // 8 if bits > 0 else 0


cdef uint16_t probe_count_sent(Estimator* e, uint16_t size, bint padding) noexcept nogil:
    """A packet numbered now, of `size` bytes: the cluster it belongs to (0: none)."""
    if not e.probe_sending:
        return 0
    e.probe_sent_bits += <uint64_t>size * 8
    e.probe_numbered += 1
    if padding:
        e.probe_packets += 1
        e.probe_bytes += size
    return e.probe_cluster


cdef void probe_observe(Estimator* e, const TwccSent* sent, int64_t arrival_us) noexcept nogil:
    """A packet of the cluster being judged, as feedback reports it."""
    cdef int64_t send_us = <int64_t>sent.send_us
    e.probe_reported += 1
    if arrival_us == TWCC_LOST:
        return
    e.probe_received += 1
    e.probe_bytes_sent += sent.size
    e.probe_bytes_received += sent.size
    if e.probe_received == 1:
        e.probe_first_send_us = e.probe_last_send_us = send_us
        e.probe_first_arrival_us = e.probe_last_arrival_us = arrival_us
        e.probe_last_send_size = e.probe_first_arrival_size = sent.size
        return
    if send_us < e.probe_first_send_us:
        e.probe_first_send_us = send_us
    if send_us >= e.probe_last_send_us:
        e.probe_last_send_us = send_us
        e.probe_last_send_size = sent.size
    if arrival_us < e.probe_first_arrival_us:
        e.probe_first_arrival_us = arrival_us
        e.probe_first_arrival_size = sent.size
    if arrival_us > e.probe_last_arrival_us:
        e.probe_last_arrival_us = arrival_us


cdef uint64_t probe_rate(const Estimator* e) noexcept nogil:
    """The cluster's result (bit/s), 0 when it cannot be judged: too few packets received (or under
    80 % of those it numbered), or no span to measure; at most twice its target."""
    cdef double send_s, arrival_s, sent_bps, received_bps
    if e.probe_received < PROBE_MIN_PACKETS or e.probe_received * 5 < e.probe_numbered * 4:
        return 0
    send_s = (e.probe_last_send_us - e.probe_first_send_us) / 1e6
    arrival_s = (e.probe_last_arrival_us - e.probe_first_arrival_us) / 1e6
    if send_s <= 0 or arrival_s <= 0:
        return 0
    sent_bps = (e.probe_bytes_sent - e.probe_last_send_size) * 8 / send_s
    received_bps = (e.probe_bytes_received - e.probe_first_arrival_size) * 8 / arrival_s
    if received_bps < 0.9 * sent_bps:
        received_bps *= 0.95
    elif sent_bps < received_bps:
        received_bps = sent_bps
    if received_bps > 2.0 * e.probe_target_bps:
        received_bps = 2.0 * e.probe_target_bps    # packets bunched in one burst: no more than asked
    return clamp_bps(received_bps)


cdef inline void probe_wait(Estimator* e, uint64_t now_us, bint raised) noexcept nogil:
    if raised:
        e.probe_next_us = now_us + PROBE_AGAIN_US
        e.probe_backoff_us = PROBE_BACKOFF_US
        return
    e.probe_next_us = now_us + e.probe_backoff_us
    e.probe_backoff_us = e.probe_backoff_us * 2 if e.probe_backoff_us * 2 < PROBE_BACKOFF_MAX_US else PROBE_BACKOFF_MAX_US


cdef void probe_judge(Estimator* e, uint64_t now_us) noexcept nogil:
    """After a feedback: the cluster judged once all its packets were reported (or its feedback
    waited for long enough), the estimate raised by what it showed."""
    cdef uint64_t result
    probe_end_sending(e, now_us)
    if not e.probe_judging:
        return
    if e.probe_reported < e.probe_numbered and elapsed_us(e.probe_start_us, now_us) < 4 * PROBE_DURATION_US + PROBE_RESULT_WAIT_US:
        return
    e.probe_judging = 0
    e.probe_quiet_us = now_us + PROBE_RESULT_WAIT_US
    if e.probe_backoff_us == 0:
        e.probe_backoff_us = PROBE_BACKOFF_US
    result = probe_rate(e)
    e.probe_result_bps = result
    if result * 100 > e.estimate_bps * PROBE_RAISE_PERCENT and e.signal != USAGE_OVER:
        if result > e.delay_bps:
            e.delay_bps = result
        if result > e.loss_bps:
            e.loss_bps = result
        e.link_bps = -1.0                 # the capacity the controller last saw is no more
        estimator_combine(e, now_us)
        e.probes_raised += 1
        probe_wait(e, now_us, True)       # there may be more
    else:
        e.probes_failed += 1
        if e.probe_finding and result:    # measured, and no more than the estimate: start-up is over
            e.probe_settled = 1           # (not a requested probe's, nor one too few packets judged)
        probe_wait(e, now_us, False)


cdef void probe_after_feedback(Estimator* e, uint64_t before_bps, uint64_t now_us) noexcept nogil:
    """The cluster judged; an estimate drop that no probe caused starts the backoff again."""
    probe_judge(e, now_us)
    if e.estimate_bps < before_bps * 0.95 and now_us >= e.probe_quiet_us and not e.probe_sending:
        e.probe_backoff_us = PROBE_BACKOFF_US
        e.probe_next_us = now_us + PROBE_BACKOFF_US
        if e.estimate_bps * 100 < before_bps * PROBE_DROP_PERCENT and (
                before_bps > e.probe_drop_from_bps or elapsed_us(e.probe_drop_us, now_us) >= PROBE_DROP_WINDOW_US):
            e.probe_drop_from_bps = before_bps    # the highest of a run of drops
            e.probe_drop_us = now_us


cdef uint64_t probe_wanted(Estimator* e, uint64_t now_us, bint* for_cap) noexcept nogil:
    """The target of an automatic probe due now, 0 when none is: one is sent or judged, the
    transport-cc feedback is not fresh, it is too early, the detector is not normal, the rate is not
    held down by what the transport sends, or the estimate is at the ceiling already. `for_cap` is
    set when the target is the one for the 1.5 x acknowledged cap (the engine sends that one only
    while more bandwidth could raise a layer: probe_due). After a large drop (one overuse on a
    short dip of what was acknowledged can take a high estimate to its floor), one probe toward the
    estimate before it, whatever is sent: what is sent then is held down by the dropped estimate
    itself, so the drop would otherwise be climbed back at 8 %/s. Until an automatic probe at twice
    the estimate has been measured raising nothing (Estimator.probe_settled), whatever is sent: a subscriber joining a meeting of several
    cameras is given, by the control plane's budget, layers that fill its starting estimate, so it
    would never look application-limited and its estimate would climb past that guess only at the
    rate controller's pace (libwebrtc probes at a call's start for the same reason)."""
    cdef uint64_t target
    for_cap[0] = 0
    if e.probe_sending or e.probe_judging or not fresh(e.twcc_us, now_us):
        return 0
    if e.probe_next_us == 0:
        e.probe_next_us = now_us + PROBE_FIRST_US
        e.probe_backoff_us = PROBE_BACKOFF_US
        return 0
    if now_us < e.probe_next_us or e.signal != USAGE_NORMAL:
        return 0
    if e.probe_drop_from_bps and elapsed_us(e.probe_drop_us, now_us) < PROBE_DROP_WINDOW_US:
        target = e.probe_drop_from_bps * PROBE_DROP_TARGET_PERCENT // 100
        e.probe_drop_from_bps = 0
        target = target if target < PROBE_CEILING_BPS else PROBE_CEILING_BPS
        if target > e.estimate_bps:
            return target
    e.probe_drop_from_bps = 0
    target = 2 * e.estimate_bps if 2 * e.estimate_bps < PROBE_CEILING_BPS else PROBE_CEILING_BPS
    if e.probe_settled:
        if not e.rate_capped:
            return 0
        if e.sent_bps * 100 > e.delay_bps * PROBE_LIMITED_PERCENT:
            return 0                      # it sends what it may: the cap is the link's doing
    for_cap[0] = target > e.estimate_bps
    return target if target > e.estimate_bps else 0


# ---- the engine's side: padding on a consumer's RTX stream --------------------------------------

cdef inline uint8_t probe_rtx_payload_type(const Consumer* c) noexcept nogil:
    return c.rtx_payload_type if c.rtx_payload_type != RTX_PT_KEEP else c.producer.rtx_payload_type


cdef inline bint probe_carrier(const State* st, const Consumer* c) noexcept nogil:
    """Whether `c`'s RTX stream can carry padding: it has one, with a payload type, and forwards
    video now (open, a packet within PROBE_CARRIER_IDLE_MS: the subscriber has a stream for it;
    its last timestamp is the padding's)."""
    return (c.has_rtx and c.started and not c.paused and c.producer != NULL and c.producer.video
            and probe_rtx_payload_type(c) != RTX_PT_KEEP
            and st.now_ms <= c.last_sent_ms + PROBE_CARRIER_IDLE_MS)


cdef Consumer* probe_consumer(State* st, Transport* t) noexcept nogil:
    """The consumer of `t` whose RTX stream carries its probes: the last one chosen while it can,
    else the first found (a scan of the consumer table, once per cluster at most); NULL: none."""
    cdef Consumer* c = consumer_by_ssrc(st, t, t.probe_ssrc) if t.probe_ssrc else NULL
    cdef uint32_t i
    if c != NULL and probe_carrier(st, c):
        return c
    for i in range(st.by_consumer.capacity):
        if st.by_consumer.slots[i].used:
            c = <Consumer*>st.by_consumer.slots[i].value
            if c.transport == t and probe_carrier(st, c):
                t.probe_ssrc = c.ssrc
                return c
    t.probe_ssrc = 0
    return NULL


cdef bint probe_could_raise(State* st, Transport* t) noexcept nogil:
    """Whether more bandwidth could raise what `t`'s peer receives: one of its open video consumers
    forwards, or switches to, a simulcast layer under its track's top layer (Producer.below_top; a
    scan of the consumer table, at most once per PROBE_AGAIN_US). Not a track without layers, nor
    one on its top layer: the subscriber has all the publisher sends."""
    cdef Consumer* c
    cdef uint32_t i
    for i in range(st.by_consumer.capacity):
        if st.by_consumer.slots[i].used:
            c = <Consumer*>st.by_consumer.slots[i].value
            if c.transport == t and not c.paused and c.producer != NULL and c.producer.video and (
                    c.producer.below_top or (c.pending != NULL and c.pending.below_top)):
                return True
    return False


cdef uint64_t probe_due(State* st, Transport* t, bint* finding) noexcept nogil:
    """The target of an automatic probe toward `t` due now (probe_wanted), 0: none. The one at
    twice the estimate (`finding`: its result may end start-up) only while more bandwidth could
    raise a layer (probe_could_raise): a subscriber that has the top layer of every track would
    have its estimate climbed to PROBE_CEILING_BPS with padding for nothing. Declined, it is asked
    again PROBE_AGAIN_US later (a layer switched down meanwhile gets its probe then)."""
    cdef uint64_t target = probe_wanted(&t.est, st.now_us, finding)
    if target and finding[0] and not probe_could_raise(st, t):
        t.est.probe_next_us = st.now_us + PROBE_AGAIN_US
        return 0
    return target


cdef inline void probe_list(State* st, Transport* t) noexcept nogil:
    if not t.probe_listed:
        t.probe_next = st.probing
        st.probing = t
        t.probe_listed = 1
        st.probing_count += 1


cdef void probe_unlist(State* st, Transport* t) noexcept nogil:
    cdef Transport** link = &st.probing
    if not t.probe_listed:
        return
    while link[0] != NULL:
        if link[0] == t:
            link[0] = t.probe_next
            break
        link = &link[0].probe_next
    t.probe_next = NULL
    t.probe_listed = 0
    st.probing_count -= 1


cdef bint probe_start(State* st, Transport* t, uint64_t target_bps) noexcept nogil:
    """Starts a cluster toward `t`'s peer; False (counted) when it has no transport-cc numbering,
    no peer address, or no consumer whose RTX stream could carry the padding."""
    if (t.twcc == NULL or not t.ext_ids[EXT_KIND_TRANSPORT_CC] or not t.has_remote
            or probe_consumer(st, t) == NULL):
        st.engine.probe_unavailable += 1
        return False
    probe_begin(&t.est, target_bps, st.now_us)
    st.engine.probes_started += 1
    probe_list(st, t)
    return True


cdef int probe_send_padding(State* st, Transport* t, Consumer* c) noexcept nogil:
    """One padding-only packet on `c`'s RTX stream, transport-cc numbered in the cluster and
    protected like any other packet to `t`: its size."""
    cdef int slot = tx_reserve(st)
    cdef uint8_t* buf = tx_buffer(st, slot)
    cdef RtpView none                   # no packet's extensions to carry: MID and transport-cc only
    cdef ExtScan scan
    cdef size_t head, ext
    cdef uint16_t size
    none.data = buf
    scan.count = 0
    scan.cached = 0
    buf[0] = 0xA0                       # version 2, padding
    buf[1] = probe_rtx_payload_type(c) & 0x7F
    store16(buf + 2, c.rtx_seq)
    store32(buf + 4, c.last_ts)
    store32(buf + 8, c.rtx_ssrc)
    ext = ext_write_block(buf + RTP_HEADER_SIZE, &none, &scan, t, c.mid, c.mid_length, t.twcc_seq, NULL)
    if ext:
        buf[0] |= 0x10
    head = RTP_HEADER_SIZE + ext
    memset(buf + head, 0, PROBE_PADDING - 1)
    buf[head + PROBE_PADDING - 1] = PROBE_PADDING
    size = <uint16_t>(head + PROBE_PADDING)
    twcc_take_seq(t, size, st.now_us, True)
    st.engine.twcc_seq_written += 1
    c.rtx_seq += 1
    st.engine.probe_packets += 1
    st.engine.probe_bytes += size
    tx_send_copy(st, t, slot, size, 0, NULL, NULL)
    return size


cdef void probe_send_due(State* st) noexcept nogil:
    """Each probing transport's padding due at this tick (PROBE_BURST_PACKETS at most); a cluster
    whose consumers are gone ends early and is judged on what it sent."""
    cdef Transport* t = st.probing
    cdef Transport* after
    cdef Consumer* c
    cdef int64_t owed
    cdef int n
    while t != NULL:
        after = t.probe_next
        owed = probe_owed(&t.est, st.now_us)
        c = probe_consumer(st, t) if owed > 0 and t.has_remote else NULL
        if owed > 0 and c == NULL:
            t.est.probe_sending = 0
            t.est.probe_judging = 1
        n = 0
        while c != NULL and owed > 0 and n < PROBE_BURST_PACKETS:
            owed -= probe_send_padding(st, t, c)
            n += 1
        if not t.est.probe_sending:
            probe_unlist(st, t)
        t = after
