# Transport-wide congestion control toward subscribers (draft-holmer-rmcat-transport-wide-cc-
# extensions-01). A publisher's transport-cc numbers mean nothing to a subscriber: each subscriber
# transport that negotiated the extension numbers every RTP packet sent to it (media, RTX and repairs
# alike) in its own 16-bit sequence (extensions.pxi writes it), and remembers each packet's send time
# and size in a fixed ring indexed by that number (TwccHistory, allocated with the extension). The
# subscriber's feedback says which arrived and when; twcc_parse reads it in place, and the transport's
# estimator (estimator.pxi) turns send and arrival times into an estimate. A feedback that breaks the
# format is dropped and counted (per transport, and engine-wide twcc_malformed), never half-applied.
#
# Feedback FCI, after the 12-byte RTPFB header:
#   base sequence number (16), packet status count (16), reference time (24, signed, 64 ms units),
#   feedback packet count (8), then status chunks (16 bits each) until every packet has a symbol:
#     0 S(2) run(13)         run-length chunk: `run` packets of symbol S
#     1 0 s(14)              status vector of 14 one-bit symbols (0 not received, 1 small delta)
#     1 1 s(7 x 2)           status vector of 7 two-bit symbols
#   symbols: 0 not received, 1 received with a small delta (1 byte, unsigned), 2 received with a
#   large or negative delta (2 bytes, signed), 3 reserved (malformed); then one receive delta per
#   received packet in 250 us units, each from the previous arrival (the first from the reference
#   time); then zero padding to 32 bits. Symbols of a vector past the status count are ignored.
from libc.stdint cimport INT64_MIN

TWCC_ERRORS = ("none", "empty", "too_many", "truncated_chunks", "reserved_symbol", "truncated_deltas")
cdef int64_t TWCC_LOST = INT64_MIN   # arrival of a packet reported not received


cdef int twcc_parse(const uint8_t* fci, size_t size, TwccFeedback* fb, uint16_t* seqs,
                    int64_t* arrivals_us, int capacity) noexcept nogil:
    """Reads one feedback's FCI (`size` bytes, padding excluded): the header into `fb`, each
    reported packet's sequence number and arrival time (us, TWCC_LOST when not received) into
    `seqs` and `arrivals_us`. Returns how many packets, or a TwccError."""
    cdef size_t pos = 8
    cdef int n = 0, count, i, k, run
    cdef uint16_t chunk
    cdef int64_t symbol, at
    if size < 8:
        return TWCC_TRUNCATED_CHUNKS
    fb.base_seq = load16(fci)
    fb.status_count = load16(fci + 2)
    fb.reference_time = <int32_t>((<uint32_t>fci[4] << 16) | (<uint32_t>fci[5] << 8) | fci[6])
    if fb.reference_time & 0x800000:
        fb.reference_time -= 0x1000000
    fb.feedback_count = fci[7]
    count = fb.status_count
    if count == 0:
        return TWCC_EMPTY
    if count > capacity:
        return TWCC_TOO_MANY
    # the symbols first, kept in arrivals_us until the deltas replace them
    while n < count:
        if size - pos < 2:
            return TWCC_TRUNCATED_CHUNKS
        chunk = load16(fci + pos)
        pos += 2
        if not chunk & 0x8000:
            symbol = (chunk >> 13) & 3
            if symbol == 3:
                return TWCC_RESERVED_SYMBOL
            run = chunk & 0x1FFF
            if run > count - n:
                run = count - n
            for i in range(run):
                arrivals_us[n + i] = symbol
            n += run
        elif chunk & 0x4000:
            for k in range(7):
                if n == count:
                    break
                symbol = (chunk >> (12 - 2 * k)) & 3
                if symbol == 3:
                    return TWCC_RESERVED_SYMBOL
                arrivals_us[n] = symbol
                n += 1
        else:
            for k in range(14):
                if n == count:
                    break
                arrivals_us[n] = (chunk >> (13 - k)) & 1
                n += 1
    at = <int64_t>fb.reference_time * TWCC_REFERENCE_UNIT_US
    for i in range(count):
        seqs[i] = <uint16_t>(fb.base_seq + i)
        symbol = arrivals_us[i]
        if symbol == 0:
            arrivals_us[i] = TWCC_LOST
            continue
        if symbol == 1:
            if size - pos < 1:
                return TWCC_TRUNCATED_DELTAS
            at += <int64_t>fci[pos] * TWCC_DELTA_UNIT_US
            pos += 1
        else:
            if size - pos < 2:
                return TWCC_TRUNCATED_DELTAS
            at += <int64_t>(<int16_t>load16(fci + pos)) * TWCC_DELTA_UNIT_US
            pos += 2
        arrivals_us[i] = at
    return count


cdef inline uint16_t twcc_take_seq(Transport* t, uint16_t size, uint64_t now_us, bint padding) noexcept nogil:
    """The next transport-wide sequence number of `t` (which has a history), remembered as sent
    now with `size` bytes, in the probe cluster being sent if any (`padding`: a probe's packet)."""
    cdef uint16_t seq = t.twcc_seq
    cdef TwccSent* e = &t.twcc.sent[seq & (TWCC_HISTORY - 1)]
    t.twcc_seq = <uint16_t>(seq + 1)
    e.send_us = now_us if now_us else 1
    e.seq = seq
    e.size = size
    e.cluster = probe_count_sent(&t.est, size, padding) if t.est.probe_sending else 0
    return seq


cdef void twcc_feedback(State* st, Transport* t, const RtcpView* part) noexcept nogil:
    """A subscriber's transport-cc feedback: parsed, then applied to its transport's estimate."""
    cdef TwccFeedback fb
    cdef uint16_t seqs[TWCC_FEEDBACK_MAX]
    cdef int64_t arrivals[TWCC_FEEDBACK_MAX]
    cdef int n
    cdef uint64_t target, raised
    cdef bint finding = False
    if t.twcc == NULL:                 # it was never sent transport-wide numbers: nothing to match
        return
    n = twcc_parse(part.data + 12, content_length(part) - 12, &fb, seqs, arrivals, TWCC_FEEDBACK_MAX)
    if n < 0:
        t.est.malformed += 1
        st.engine.twcc_malformed += 1
        return
    raised = t.est.probes_raised
    estimator_feedback(&t.est, t.twcc, seqs, arrivals, n, st.now_us)
    st.engine.probes_raised += t.est.probes_raised - raised      # a probe judged on this feedback
    target = probe_due(st, t, &finding)
    if target:
        if probe_start(st, t, target):
            t.est.probe_finding = finding
        else:
            probe_wait(&t.est, st.now_us, False)     # none can carry it: ask again later, less often
    estimate_paces(st, t)
    st.engine.twcc_feedback += 1
