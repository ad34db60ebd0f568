# The bandwidth estimate of a subscriber transport, in the spirit of Google Congestion Control
# (draft-ietf-rmcat-gcc-02). Sans-I/O and deterministic: every function takes `now_us` and plain
# numbers (the engine's clock, or a test's), so a simulated link drives it exactly as a real one.
#
# Delay-based, from transport-cc feedback: packets sent within GROUP_SPAN_US form a group; between
# two complete groups, d = (arrival delta - send delta) is the one-way delay variation. A trendline
# filter accumulates d, smooths it, and fits a least-squares slope over the last TREND_WINDOW
# samples; the slope, scaled by the samples seen, is compared with an adaptive threshold (it follows
# |trend| slowly from below, faster from above) to signal overuse, underuse or normal. An AIMD rate
# controller decreases to BETA times the acknowledged bitrate on overuse (at most once per
# DECREASE_INTERVAL_US), holds on underuse, and increases otherwise: multiplicatively (8 %/s) far
# from the link capacity it last saw, additively near it, never past 1.5 times what was acknowledged.
#
# Loss-based: the packets reported lost, over at least LOSS_MIN_PACKETS: more than 10 % bounds the
# estimate to (1 - loss / 2) times itself (at most once per 300 ms), less than 2 % lets the bound
# grow by 8 %/s. Without fresh transport-cc feedback the subscriber's REMB stands for the delay-based
# rate and its receiver reports' fraction lost for the loss; a fresh REMB is always a ceiling.
from libc.math cimport sqrt, pow, fabs

cdef enum BandwidthUsage:
    USAGE_NORMAL = 0
    USAGE_OVER = 1
    USAGE_UNDER = 2

cdef enum RateState:
    RATE_HOLD = 0
    RATE_INCREASE = 1
    RATE_DECREASE = 2

USAGE_NAMES = ("normal", "overuse", "underuse")

cdef double SMOOTHING = 0.9              # trendline: weight of the previous smoothed delay
cdef double TREND_GAIN = 4.0             # the slope's scale, times min(deltas, TREND_DELTAS_CAP)
cdef double TREND_DELTAS_CAP = 60.0
cdef double THRESHOLD_START_MS = 12.5
cdef double THRESHOLD_MIN_MS = 6.0
cdef double THRESHOLD_MAX_MS = 600.0
cdef double K_UP = 0.0087                # threshold adaptation when |trend| is above it
cdef double K_DOWN = 0.039               # ... below it
cdef double OVERUSE_TIME_MS = 10.0       # the trend must stay over the threshold this long
cdef double BETA = 0.85                  # decrease factor on overuse
cdef uint64_t DECREASE_INTERVAL_US = 200000
cdef double RESPONSE_TIME_MS = 200.0     # assumed round trip plus 100 ms, for the additive increase
cdef double PACKET_BITS = 1200.0 * 8.0
cdef uint32_t LOSS_MIN_PACKETS = 20
cdef uint64_t LOSS_DECREASE_INTERVAL_US = 300000
cdef uint64_t SENT_WINDOW_US = 250000        # the sent bitrate is measured over this much send time


cdef void estimator_init(Estimator* e) noexcept nogil:
    memset(e, 0, sizeof(Estimator))
    e.estimate_bps = e.delay_bps = ESTIMATE_START_BPS
    e.loss_bps = ESTIMATE_MAX_BPS
    e.threshold_ms = THRESHOLD_START_MS
    e.overuse_ms = -1.0
    e.link_bps = -1.0


cdef inline uint64_t elapsed_us(uint64_t since_us, uint64_t now_us) noexcept nogil:
    """Time from `since_us` to `now_us`; 0 when the clocks of two reports cross."""
    return now_us - since_us if now_us > since_us else 0


cdef inline double elapsed_s(uint64_t since_us, uint64_t now_us) noexcept nogil:
    """Likewise in seconds, at most one: a step of the controllers never spans a longer silence."""
    cdef double dt = elapsed_us(since_us, now_us) / 1e6
    return dt if dt < 1.0 else 1.0


cdef inline uint64_t clamp_bps(double bps) noexcept nogil:
    if bps < ESTIMATE_MIN_BPS:
        return ESTIMATE_MIN_BPS
    if bps > ESTIMATE_MAX_BPS:
        return ESTIMATE_MAX_BPS
    return <uint64_t>bps


# ---- delay-based: groups, trendline, overuse detector --------------------------------------

cdef void estimator_detect(Estimator* e, double send_delta_ms, int64_t now_us) noexcept nogil:
    """The overuse detector over the trendline's last value, and its threshold's adaptation."""
    cdef double trend = e.trend, magnitude, k, dt_ms
    if e.deltas < 2:
        e.signal = USAGE_NORMAL
    elif trend > e.threshold_ms:
        e.overuse_ms = send_delta_ms / 2 if e.overuse_ms < 0 else e.overuse_ms + send_delta_ms
        e.overuse_count += 1
        if e.overuse_ms > OVERUSE_TIME_MS and e.overuse_count > 1 and trend >= e.previous_trend:
            e.overuse_ms = 0
            e.overuse_count = 0
            if e.signal != USAGE_OVER:
                e.overuses += 1
            e.signal = USAGE_OVER
    elif trend < -e.threshold_ms:
        e.overuse_ms = -1.0
        e.overuse_count = 0
        e.signal = USAGE_UNDER
    else:
        e.overuse_ms = -1.0
        e.overuse_count = 0
        e.signal = USAGE_NORMAL
    e.previous_trend = trend
    magnitude = fabs(trend)
    if e.threshold_us == 0 or now_us < e.threshold_us:
        e.threshold_us = now_us
    if magnitude > e.threshold_ms + 15.0:     # a spike (a reroute, a burst) must not drag it up
        e.threshold_us = now_us
        return
    k = K_DOWN if magnitude < e.threshold_ms else K_UP
    dt_ms = (now_us - e.threshold_us) / 1000.0
    if dt_ms > 100.0:
        dt_ms = 100.0
    e.threshold_ms += k * (magnitude - e.threshold_ms) * dt_ms
    if e.threshold_ms < THRESHOLD_MIN_MS:
        e.threshold_ms = THRESHOLD_MIN_MS
    elif e.threshold_ms > THRESHOLD_MAX_MS:
        e.threshold_ms = THRESHOLD_MAX_MS
    e.threshold_us = now_us


cdef void estimator_trendline(Estimator* e, double delay_ms, double send_delta_ms, int64_t arrival_us) noexcept nogil:
    """One delay variation sample into the trendline filter, then the detector."""
    cdef uint32_t i, n
    cdef double mean_x = 0, mean_y = 0, num = 0, den = 0
    if e.deltas < 1000:
        e.deltas += 1
    if e.window_count == 0 and e.deltas == 1:
        e.first_arrival_us = arrival_us
    e.accumulated_ms += delay_ms
    e.smoothed_ms = SMOOTHING * e.smoothed_ms + (1 - SMOOTHING) * e.accumulated_ms
    if e.window_count == TREND_WINDOW:
        memmove(e.window_x, e.window_x + 1, (TREND_WINDOW - 1) * sizeof(double))
        memmove(e.window_y, e.window_y + 1, (TREND_WINDOW - 1) * sizeof(double))
        e.window_count -= 1
    e.window_x[e.window_count] = (arrival_us - e.first_arrival_us) / 1000.0
    e.window_y[e.window_count] = e.smoothed_ms
    e.window_count += 1
    n = e.window_count
    if n == TREND_WINDOW:
        for i in range(n):
            mean_x += e.window_x[i]
            mean_y += e.window_y[i]
        mean_x /= n
        mean_y /= n
        for i in range(n):
            num += (e.window_x[i] - mean_x) * (e.window_y[i] - mean_y)
            den += (e.window_x[i] - mean_x) * (e.window_x[i] - mean_x)
        if den != 0:
            e.trend = num / den * (e.deltas if e.deltas < TREND_DELTAS_CAP else TREND_DELTAS_CAP) * TREND_GAIN
    estimator_detect(e, send_delta_ms, arrival_us)


cdef void estimator_packet(Estimator* e, int64_t send_us, int64_t arrival_us) noexcept nogil:
    """A received packet, in feedback order: it extends the current send-time group or, once past
    GROUP_SPAN_US, completes it (a delay sample against the group before)."""
    cdef int64_t send_delta, arrival_delta
    if e.has_group and send_us < e.group_first_send_us:
        return                                # reordered behind its group: no sample
    if e.has_group and send_us - e.group_first_send_us <= GROUP_SPAN_US:
        if send_us > e.group_send_us:
            e.group_send_us = send_us
        if arrival_us > e.group_arrival_us:
            e.group_arrival_us = arrival_us
        return
    if e.has_group:
        if e.has_prev:
            send_delta = e.group_send_us - e.prev_send_us
            arrival_delta = e.group_arrival_us - e.prev_arrival_us
            if arrival_delta >= 0:
                estimator_trendline(e, (arrival_delta - send_delta) / 1000.0, send_delta / 1000.0,
                                    e.group_arrival_us)
        e.prev_send_us = e.group_send_us
        e.prev_arrival_us = e.group_arrival_us
        e.has_prev = 1
    e.group_first_send_us = e.group_send_us = send_us
    e.group_arrival_us = arrival_us
    e.has_group = 1


# ---- acknowledged bitrate --------------------------------------------------------------------

cdef inline void acked_add(Estimator* e, int64_t arrival_us, uint16_t size) noexcept nogil:
    cdef uint32_t i = e.acked_written % ACKED_RING
    e.acked_arrival_us[i] = arrival_us
    e.acked_size[i] = size
    e.acked_written += 1


cdef void acked_update(Estimator* e) noexcept nogil:
    """Bytes received over the last ACKED_WINDOW_US of arrival time (at least 100 ms of it)."""
    cdef uint32_t n = e.acked_written if e.acked_written < ACKED_RING else ACKED_RING
    cdef uint32_t i, j
    cdef int64_t last, first, at
    cdef uint64_t bytes_in = 0
    if n < 2:
        return
    last = e.acked_arrival_us[(e.acked_written - 1) % ACKED_RING]
    first = last
    for i in range(1, n):                      # newest first, the newest itself not counted
        j = (e.acked_written - 1 - i) % ACKED_RING
        at = e.acked_arrival_us[j]
        if last - at > ACKED_WINDOW_US:
            break
        bytes_in += e.acked_size[(j + 1) % ACKED_RING]
        if at < first:
            first = at
    if last - first >= 100000:
        e.acked_bps = <uint64_t>(bytes_in * 8 * 1000000.0 / (last - first))


cdef inline void sent_add(Estimator* e, const TwccSent* sent) noexcept nogil:
    """A reported packet (received or not) into the sent-rate window, in send order."""
    if e.sent_first_us != 0 and <int16_t>(sent.seq - e.sent_last_seq) <= 0:
        return                                # reported again, or reordered: counted once
    if e.sent_first_us == 0:
        e.sent_first_us = sent.send_us
    else:
        e.sent_window_bytes += e.sent_last_size
    e.sent_last_us = sent.send_us
    e.sent_last_size = sent.size
    e.sent_last_seq = sent.seq


cdef inline void sent_update(Estimator* e) noexcept nogil:
    """The sent bitrate once the window spans SENT_WINDOW_US of send time; the next one starts
    at its last packet."""
    if e.sent_first_us == 0 or e.sent_last_us < e.sent_first_us + SENT_WINDOW_US:
        return
    e.sent_bps = <uint64_t>(e.sent_window_bytes * 8 * 1e6 / (e.sent_last_us - e.sent_first_us))
    e.sent_first_us = e.sent_last_us
    e.sent_window_bytes = 0


# ---- AIMD rate controller ----------------------------------------------------------------------

cdef void estimator_rate(Estimator* e, uint64_t now_us) noexcept nogil:
    cdef double rate = e.delay_bps, acked = e.acked_bps, dt_s, deviation, cap
    if e.signal == USAGE_OVER:
        e.rate_state = RATE_DECREASE
    elif e.signal == USAGE_UNDER:
        e.rate_state = RATE_HOLD
    elif e.rate_state == RATE_HOLD:
        e.rate_state = RATE_INCREASE
    if e.rate_changed_us == 0:
        e.rate_changed_us = now_us
    dt_s = elapsed_s(e.rate_changed_us, now_us)
    if e.rate_state == RATE_INCREASE:
        if e.link_bps >= 0:
            deviation = sqrt(e.link_var * e.link_bps)
            if acked > e.link_bps + 3 * deviation:
                e.link_bps = -1.0               # more than the link carried: it changed
        if e.link_bps >= 0:
            rate += dt_s * PACKET_BITS * 1000.0 / RESPONSE_TIME_MS
        else:
            rate *= pow(1.08, dt_s)
        cap = 1.5 * acked + 10000
        e.rate_capped = acked > 0 and rate > cap    # what is sent holds it down: a probe may tell more
        if e.rate_capped:
            rate = cap if cap > e.delay_bps else e.delay_bps
        e.rate_changed_us = now_us
    elif e.rate_state == RATE_DECREASE:
        if e.decrease_us == 0 or elapsed_us(e.decrease_us, now_us) >= DECREASE_INTERVAL_US:
            if acked > 0:
                if e.link_bps >= 0 and acked < e.link_bps - 3 * sqrt(e.link_var * e.link_bps):
                    e.link_bps = -1.0           # far less than the link carried: it changed
                if e.link_bps < 0:
                    e.link_bps = acked
                    e.link_var = 0.4
                else:
                    e.link_bps = 0.95 * e.link_bps + 0.05 * acked
                    deviation = (e.link_bps - acked) / (e.link_bps if e.link_bps > 1 else 1)
                    e.link_var = 0.95 * e.link_var + 0.05 * deviation * deviation
                    if e.link_var < 0.4:
                        e.link_var = 0.4
                    elif e.link_var > 2.5:
                        e.link_var = 2.5
                if BETA * acked < rate:
                    rate = BETA * acked
            else:
                rate *= BETA
            e.decrease_us = now_us
        e.rate_state = RATE_HOLD
        e.rate_changed_us = now_us
    else:
        e.rate_changed_us = now_us
    e.delay_bps = clamp_bps(rate)


# ---- loss-based bound, fallbacks, the estimate ------------------------------------------------

cdef void estimator_loss(Estimator* e, double fraction, uint64_t now_us) noexcept nogil:
    cdef double dt_s
    if e.loss_us == 0:
        e.loss_us = now_us
    dt_s = elapsed_s(e.loss_us, now_us)
    e.loss_us = now_us
    if fraction > 0.10:
        if e.loss_changed_us == 0 or elapsed_us(e.loss_changed_us, now_us) >= LOSS_DECREASE_INTERVAL_US:
            e.loss_bps = clamp_bps(e.estimate_bps * (1.0 - 0.5 * fraction))
            e.loss_changed_us = now_us
    elif fraction < 0.02:
        e.loss_bps = clamp_bps(e.loss_bps * (1.0 + 0.08 * dt_s) + 1000 * dt_s)


cdef inline bint fresh(uint64_t at_us, uint64_t now_us) noexcept nogil:
    """Whether something that happened at `at_us` (0: never) is at most TWCC_STALE_US old."""
    return at_us != 0 and (now_us <= at_us or now_us - at_us <= TWCC_STALE_US)


cdef int estimator_source(const Estimator* e, uint64_t now_us) noexcept nogil:
    """What the estimate now rests on (ESTIMATE_SOURCES): transport-cc, REMB, receiver-report loss
    alone, or nothing yet (the start value)."""
    if fresh(e.twcc_us, now_us):
        return 1
    if e.remb_bps != 0 and fresh(e.remb_us, now_us):
        return 2
    if e.rr_loss_reports:
        return 3
    return 0


ESTIMATE_SOURCES = ("none", "transport-cc", "remb", "receiver-report")


cdef void estimator_combine(Estimator* e, uint64_t now_us) noexcept nogil:
    cdef bint twcc_fresh = fresh(e.twcc_us, now_us)
    cdef bint remb_fresh = e.remb_bps != 0 and fresh(e.remb_us, now_us)
    cdef uint64_t rate = e.delay_bps if twcc_fresh or not remb_fresh else e.remb_bps
    if e.loss_bps < rate:
        rate = e.loss_bps
    if remb_fresh and e.remb_bps < rate:
        rate = e.remb_bps
    e.estimate_bps = clamp_bps(<double>rate)


cdef void estimator_feedback(Estimator* e, const TwccHistory* history, const uint16_t* seqs,
                             const int64_t* arrivals_us, int count, uint64_t now_us) noexcept nogil:
    """One transport-cc feedback: each reported packet matched to what was sent, then the delay
    detector, the acknowledged bitrate, the rate controller and the loss bound."""
    cdef int i
    cdef const TwccSent* sent
    cdef uint32_t lost = 0, received = 0
    cdef uint64_t before_bps = e.estimate_bps
    cdef bint judging = e.probe_sending or e.probe_judging
    for i in range(count):
        sent = &history.sent[seqs[i] & (TWCC_HISTORY - 1)]
        if (sent.send_us == 0 or sent.seq != seqs[i]
                or (now_us > sent.send_us and now_us - sent.send_us > TWCC_HISTORY_MAX_AGE_US)):
            e.unknown_seq += 1
            continue
        if sent.cluster != 0:
            if judging and sent.cluster == e.probe_cluster:
                probe_observe(e, sent, arrivals_us[i])
        else:
            sent_add(e, sent)
        if arrivals_us[i] == TWCC_LOST:
            lost += 1
            continue
        received += 1
        acked_add(e, arrivals_us[i], sent.size)
        estimator_packet(e, <int64_t>sent.send_us, arrivals_us[i])
    e.packets_acked += received
    e.packets_lost += lost
    e.feedbacks += 1
    if received + lost == 0:
        return
    e.twcc_us = now_us if now_us else 1
    sent_update(e)
    acked_update(e)
    estimator_rate(e, now_us)
    e.loss_lost += lost
    e.loss_total += lost + received
    if e.loss_total >= LOSS_MIN_PACKETS:
        estimator_loss(e, <double>e.loss_lost / e.loss_total, now_us)
        e.loss_lost = e.loss_total = 0
    estimator_combine(e, now_us)
    probe_after_feedback(e, before_bps, now_us)


cdef void estimator_remb(Estimator* e, uint64_t bitrate, uint64_t now_us) noexcept nogil:
    e.remb_bps = bitrate if bitrate else 1
    e.remb_us = now_us if now_us else 1
    e.remb_in += 1
    estimator_combine(e, now_us)


cdef void estimator_receiver_loss(Estimator* e, uint8_t fraction_lost, uint64_t now_us) noexcept nogil:
    """An RR's fraction lost (of 256) about what the engine sent: the loss bound's input while no
    transport-cc feedback is fresh (transport-cc counts loss itself, per packet)."""
    if fresh(e.twcc_us, now_us):
        return
    e.rr_loss_reports += 1
    estimator_loss(e, fraction_lost / 256.0, now_us)
    estimator_combine(e, now_us)


# ---- what subscribers say: REMB and receiver reports (rtcp_relay.pxi) -------------------------

cdef inline void estimate_paces(State* st, Transport* t) noexcept nogil:
    """With pace_from_remb, the estimate paces the transport's video (pace_rate_from: 2.5 times it,
    as a REMB alone would: a fresh REMB bounds the estimate), unless Core.set_transport_pacing set a
    rate. A browser that sends transport-cc feedback sends no REMB: the estimate stands for it.
    Until the peer says anything (feedback, REMB, a receiver report) its video is not paced."""
    if st.pace_from_remb and not t.pace_explicit and t.est.estimate_bps:
        pace_set_rate(st, t, pace_rate_from(t.est.estimate_bps))


cdef void estimate_from_remb(State* st, Transport* t, const RtcpView* part) noexcept nogil:
    """A subscriber's REMB (draft-alvestrand-rmcat-remb; remb.pxi reads it into t.remb_bps)."""
    cdef uint64_t bitrate = remb_bitrate(part)
    estimator_remb(&t.est, bitrate if bitrate < ESTIMATE_MAX_BPS else ESTIMATE_MAX_BPS, st.now_us)
    estimate_paces(st, t)


cdef void estimate_from_receiver_report(State* st, Transport* t, const RtcpView* part,
                                        int report_at) noexcept nogil:
    """The largest fraction lost among an RR's (or SR's) report blocks about this transport's
    consumers; blocks about other sources are not the engine's to read."""
    cdef int i
    cdef int worst = -1
    cdef const uint8_t* block
    for i in range(part.count):
        block = part.data + report_at + 24 * i
        if consumer_by_ssrc(st, t, load32(block)) != NULL and block[4] > worst:
            worst = block[4]
    if worst >= 0:
        estimator_receiver_loss(&t.est, <uint8_t>worst, st.now_us)
        estimate_paces(st, t)
