# cython: language_level=3
"""Test hooks of the engine's fast path, built beside it as engine._testing (setup.py).

Python views of the C packet views, datagrams fed to a Core without its socket, and an SRTP context
driven with bytes: for the tests and the benchmarks, never imported by the engine. They reach the
fast path's internals through its C contract, engine/_rtp.pxd, so engine._rtp itself exposes no
test hook.
"""
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t, int64_t, INT64_MIN
from libc.stdlib cimport calloc, malloc, free
from libc.string cimport memcpy, memset
import array

from engine.includes.consts cimport *
from engine.includes.sockets cimport sockaddr_in6
from engine.includes.srtp cimport (
    SRTCP_TRAILER_ROOM, SRTP_PROFILE_AEAD_AES_128_GCM, SRTP_PROFILE_AES128_CM_SHA1_32,
    SRTP_PROFILE_AES128_CM_SHA1_80, SRTP_REPLAY_WINDOW, SRTP_RESEND_WINDOW, SRTP_TRAILER_ROOM, SrtpContext,
)
from engine._rtp cimport (
    EXT_ID_RESERVED, RTP_HEADER_SIZE, Consumer, Core, EngineCounters, ExtScan, RtcpView, RtpView, State,
    Transport, TwccFeedback, TwccHistory, TwccSent, Estimator, twcc_parse, estimator_init,
    estimator_feedback, estimator_remb, estimator_receiver_loss, probe_begin, probe_owed, probe_count_sent, probe_wanted, addr_from_python, classify, ext_scan, transport_set_extension, write_rewritten_head,
    extension_form, extension_next, handle_datagram, monotonic_ms, rtcp_split, rtp_extension, rtp_parse,
    srtp_context_counts, srtp_context_delete, srtp_context_new, srtp_context_remove_ssrc,
    srtp_key_salt_length, srtp_rtcp_protect, srtp_rtcp_unprotect, srtp_rtp_protect, srtp_rtp_unprotect,
    srtp_transport_protect, srtp_transport_unprotect, tx_flush, tx_discard, clock_read,
)
from engine._rtp cimport nack_lost as _nack_lost, nack_pack as _nack_pack, keyframe_start as _keyframe_start
from engine._rtp import CODEC_NAMES, DROP_REASONS, FEEDBACK_NAMES, KIND_NAMES, TWCC_ERRORS, USAGE_NAMES


# ---- packet views (packet.pxi) --------------------------------------------------------------
# Each hook parses a private copy of exactly len(data) bytes in its own allocation, so that a build
# with -fsanitize=address (and PYTHONMALLOC=malloc) reports any read past the datagram.


cdef uint8_t* _exact_copy(bytes data) except NULL:
    cdef size_t n = len(data)
    cdef uint8_t* copy = <uint8_t*>malloc(n if n else 1)
    if copy == NULL:
        raise MemoryError()
    memcpy(copy, <const uint8_t*>data, n)
    return copy


def classify_datagram(bytes data):
    """Kind name of a datagram: "stun", "dtls", "rtp", "rtcp" or "unknown"."""
    cdef uint8_t* copy = _exact_copy(data)
    cdef Kind kind = classify(copy, len(data))
    free(copy)
    return KIND_NAMES[kind]


def inspect_rtp(bytes data):
    """The RtpView of `data` as a dict (extensions, in order, and the first value of every id as
    rtp_extension finds it), or the drop reason's name when rejected."""
    cdef uint8_t* copy = _exact_copy(data)
    try:
        return _inspect_rtp(copy, len(data))
    finally:
        free(copy)


cdef object _inspect_rtp(const uint8_t* data, size_t length):
    cdef RtpView view
    cdef Drop reason = rtp_parse(data, length, &view)
    cdef size_t pos = 0
    cdef uint8_t ext_id
    cdef const uint8_t* value
    cdef int n, form, i
    if reason != DROP_NONE:
        return DROP_REASONS[reason]
    csrc = [int.from_bytes(view.data[RTP_HEADER_SIZE + 4 * i:RTP_HEADER_SIZE + 4 * i + 4], "big")
            for i in range(view.csrc_count)]
    extensions = []
    lookup = {}
    form = extension_form(view.ext_profile) if view.ext_offset else 0
    if form:
        while True:
            n = extension_next(view.data + view.ext_offset, view.ext_length, form == 1, &pos, &ext_id, &value)
            if n < 0:
                break
            extensions.append((ext_id, value[:n]))
        for i in range(1, EXT_ID_RESERVED if form == 1 else 256):
            n = rtp_extension(&view, <uint8_t>i, &value)
            if n >= 0:
                lookup[i] = value[:n]
    return {
        "length": view.length,
        "marker": view.marker,
        "payload_type": view.payload_type,
        "sequence": view.sequence,
        "timestamp": view.timestamp,
        "ssrc": view.ssrc,
        "csrc": csrc,
        "extension": view.ext_offset != 0,
        "ext_profile": view.ext_profile,
        "ext_offset": view.ext_offset,
        "ext_length": view.ext_length,
        "extensions": extensions,
        "lookup": lookup,
        "payload_offset": view.payload_offset,
        "payload": view.data[view.payload_offset:view.payload_offset + view.payload_length],
        "padding_length": view.padding_length,
    }


def inspect_rtcp(bytes data, int max_parts=MAX_RTCP_PARTS):
    """The RtcpViews of a compound as a list of dicts, or the drop reason's name when rejected."""
    cdef RtcpView parts[MAX_RTCP_PARTS]
    cdef int count = 0, i
    cdef Drop reason
    cdef uint8_t* copy
    if not 0 <= max_parts <= MAX_RTCP_PARTS:
        raise ValueError(f"max_parts must be within 0..{MAX_RTCP_PARTS}")
    copy = _exact_copy(data)
    try:
        reason = rtcp_split(copy, len(data), parts, max_parts, &count)
        if reason != DROP_NONE:
            return DROP_REASONS[reason]
        result = []
        for i in range(count):
            result.append({
                "offset": parts[i].data - <const uint8_t*>copy,
                "length": parts[i].length,
                "packet_type": parts[i].packet_type,
                "count": parts[i].count,
                "sender_ssrc": parts[i].sender_ssrc,
                "media_ssrc": parts[i].media_ssrc,
                "feedback": FEEDBACK_NAMES[parts[i].feedback],
            })
        return result
    finally:
        free(copy)


def nack_lost(bytes data):
    """The sequence numbers the NACK in `data` (one RTCP packet) reports lost (feedback.pxi), or
    the drop reason's name when rtcp_split rejects it, or "not_nack"."""
    cdef RtcpView parts[1]
    cdef int count = 0, n, i
    cdef uint16_t lost[MAX_NACK_LOST]
    cdef Drop reason
    cdef uint8_t* copy = _exact_copy(data)
    try:
        reason = rtcp_split(copy, len(data), parts, 1, &count)
        if reason != DROP_NONE:
            return DROP_REASONS[reason]
        if parts[0].feedback != FB_NACK:
            return "not_nack"
        n = _nack_lost(&parts[0], lost, MAX_NACK_LOST)
        return [lost[i] for i in range(n)]
    finally:
        free(copy)


def keyframe_start(str codec, bytes payload):
    """Whether `payload` (an RTP payload of `codec`, one of CODEC_NAMES) begins a keyframe
    (keyframe.pxi), read from a private copy of exactly len(payload) bytes."""
    cdef int index = CODEC_NAMES.index(codec)
    cdef uint8_t* copy = _exact_copy(payload)
    try:
        return bool(_keyframe_start(copy, len(payload), <Codec>index))
    finally:
        free(copy)


def nack_pack(list lost, int capacity=1024):
    """`lost` (sequence numbers) written as NACK FCI entries (feedback.pxi), at most `capacity` bytes."""
    cdef uint16_t seqs[MAX_NACK_LOST]
    cdef uint8_t out[1024]
    cdef int n = len(lost), i, written
    if n > MAX_NACK_LOST or not 0 <= capacity <= 1024:
        raise ValueError("too many sequence numbers or capacity out of range")
    for i in range(n):
        seqs[i] = lost[i]
    written = _nack_pack(seqs, n, out, capacity)
    return (<const char*>out)[:written]


def parse_batch(list datagrams, int rounds=1):
    """Classifies and parses every datagram `rounds` times without the GIL, as the hot path does.

    Returns (rtp accepted, rtcp parts accepted, dropped) of one round; for microbenchmarks.
    """
    cdef Py_ssize_t n = len(datagrams), i
    cdef int r, parts_count = 0
    cdef size_t rtp_ok = 0, rtcp_ok = 0, dropped = 0
    cdef RtpView view
    cdef RtcpView parts[MAX_RTCP_PARTS]
    cdef const uint8_t* value
    cdef const uint8_t* data
    cdef size_t length
    cdef Kind kind
    buffers = [bytes(d) for d in datagrams]   # owned here for the whole call
    cdef unsigned long long[::1] addresses = array.array("Q", [<size_t><const uint8_t*>(<bytes>b) for b in buffers])
    cdef unsigned long long[::1] lengths = array.array("Q", [len(b) for b in buffers])
    with nogil:
        for r in range(rounds):
            rtp_ok = rtcp_ok = dropped = 0
            for i in range(n):
                data = <const uint8_t*><size_t>addresses[i]
                length = <size_t>lengths[i]
                kind = classify(data, length)
                if kind == KIND_RTP and rtp_parse(data, length, &view) == DROP_NONE:
                    rtp_extension(&view, 1, &value)
                    rtp_ok += 1
                elif kind == KIND_RTCP and rtcp_split(data, length, parts, MAX_RTCP_PARTS, &parts_count) == DROP_NONE:
                    rtcp_ok += parts_count
                else:
                    dropped += 1
    return rtp_ok, rtcp_ok, dropped


# ---- header extensions rewritten per consumer (extensions.pxi) -----------------------------------

EXT_KIND_NAMES = ("mid", "rid", "repaired_rid", "abs_send_time", "audio_level", "transport_cc")


cdef int _set_ids(Transport* t, dict ids) except -1:
    cdef int kind
    for name, value in ids.items():
        kind = EXT_KIND_NAMES.index(name) + 1
        transport_set_extension(t, <uint8_t>kind, <uint8_t>value)
    return 0


def rewrite_extensions(bytes data, dict source_ids, dict target_ids, bytes mid=None, object twcc_seq=None):
    """What the fast path sends a consumer for `data` (its fixed header kept): the publisher's
    transport negotiated `source_ids`, the subscriber's `target_ids` ({"mid": 1, "audio_level": 4,
    ...}), the consumer's `mid`; `twcc_seq`: the subscriber transport's next transport-wide number
    (None: it keeps no send history). Returns (packet, audio level or None, counters), or the drop
    reason's name when rtp_parse refuses the packet."""
    cdef uint8_t* copy = _exact_copy(data)
    cdef uint8_t out[SEND_SLOT_SIZE]
    cdef RtpView view
    cdef ExtScan scan
    cdef EngineCounters counts
    cdef Transport* source = <Transport*>calloc(1, sizeof(Transport))
    cdef Transport* target = <Transport*>calloc(1, sizeof(Transport))
    cdef Consumer* consumer = <Consumer*>calloc(1, sizeof(Consumer))
    cdef Drop reason
    cdef size_t head, body
    cdef uint16_t twcc_at
    try:
        if source == NULL or target == NULL or consumer == NULL:
            raise MemoryError()
        if mid is not None and not 0 < len(mid) <= EXT_VALUE_MAX:
            raise ValueError("mid is 1 to 16 bytes")
        _set_ids(source, source_ids)
        _set_ids(target, target_ids)
        consumer.transport = target
        if twcc_seq is not None:
            target.twcc = <TwccHistory*>calloc(1, sizeof(TwccHistory))
            if target.twcc == NULL:
                raise MemoryError()
            target.twcc_seq = <uint16_t>twcc_seq
        if mid:
            memcpy(consumer.mid, <const char*>mid, len(mid))
            consumer.mid_length = <uint8_t>len(mid)
        reason = rtp_parse(copy, len(data), &view)
        if reason != DROP_NONE:
            return DROP_REASONS[reason]
        memset(&counts, 0, sizeof(counts))
        ext_scan(&view, source, &scan, &counts)
        memcpy(out, copy, RTP_HEADER_SIZE)
        head = write_rewritten_head(out, &view, &scan, consumer, &twcc_at)
        body = view.length - view.payload_offset
        memcpy(out + head, copy + view.payload_offset, body)
        counters = {"unmapped": counts.ext_unmapped, "oversize": counts.ext_oversize, "foreign": counts.ext_foreign}
        level = scan.audio_level if scan.audio_level >= 0 else None
        return (<const char*>out)[:head + body], level, counters
    finally:
        free(copy)
        free(source)
        if target != NULL:
            free(target.twcc)
        free(target)
        free(consumer)


# ---- datagrams into a Core without its socket (forward.pxi, io.pxi) ----------------------------

def inject(Core core, const uint8_t[:] data, str host, int port):
    """Handles one datagram as if `core` received it from (host, port): the fuzzers' entry point."""
    cdef State* st = core._open()
    cdef sockaddr_in6 addr
    cdef size_t length = data.shape[0]
    addr_from_python(&addr, host, port)
    if length > 0:
        memcpy(st.rx_buffers, &data[0], length if length <= MAX_DATAGRAM else MAX_DATAGRAM)
    with nogil:
        clock_read(st)
        handle_datagram(st, st.rx_buffers, length if length <= MAX_DATAGRAM else MAX_DATAGRAM,
                        length > MAX_DATAGRAM, &addr)
        tx_flush(st)


def route_batch(Core core, list datagrams, str host, int port, int rounds=1, bint send=True):
    """Benchmark hook: `core` handles `datagrams` (at most BATCH_SIZE, each at most MAX_DATAGRAM
    bytes) from (host, port) `rounds` times, as one receive batch each, without the socket's receive
    side. With send=False the copies each datagram queues are discarded, uncounted, before the next
    one (so a datagram may fan out to at most SEND_SLOTS copies: more would reach the socket, and
    raise RuntimeError after the run)."""
    cdef State* st = core._open()
    cdef sockaddr_in6 addr
    cdef size_t lengths[BATCH_SIZE]
    cdef Py_ssize_t n = len(datagrams), i
    cdef int r
    cdef bytes data
    cdef uint64_t send_calls = st.engine.send_calls
    if n > BATCH_SIZE:
        raise ValueError(f"at most {BATCH_SIZE} datagrams")
    addr_from_python(&addr, host, port)
    for i in range(n):
        data = datagrams[i]
        if len(data) > MAX_DATAGRAM:
            raise ValueError("datagram larger than MAX_DATAGRAM")
        lengths[i] = len(data)
        memcpy(st.rx_buffers + i * MAX_DATAGRAM, <const char*>data, lengths[i])
    with nogil:
        for r in range(rounds):
            clock_read(st)
            for i in range(n):
                handle_datagram(st, st.rx_buffers + i * MAX_DATAGRAM, lengths[i], 0, &addr)
                if not send:
                    tx_discard(st)
                elif st.tx.flush_at and st.tx.count >= st.tx.flush_at:
                    tx_flush(st)              # as the receive loop does (io.pxi drain)
            if send:
                tx_flush(st)
    if not send and st.engine.send_calls != send_calls:
        raise RuntimeError(f"a datagram fanned out to more than {SEND_SLOTS} copies: the send queue was flushed")
    return n * rounds


def set_flush_sends(Core core, int copies):
    """How many queued copies make the receive loop flush mid-batch (io.pxi drain; FLUSH_SENDS by
    default); 0: only after each receive batch, as before. Returns the previous value."""
    cdef State* st = core._open()
    cdef int before = st.tx.flush_at
    if copies < 0 or copies > SEND_SLOTS:
        raise ValueError(f"0 to {SEND_SLOTS} copies")
    st.tx.flush_at = copies
    return before


def set_clock(Core core, object now_us):
    """Freezes the core's clock at `now_us` microseconds (pacing tests advance it by hand); None
    gives it back to the monotonic clock."""
    cdef State* st = core._open()
    if now_us is None:
        st.clock_frozen = 0
        clock_read(st)
        return
    st.clock_frozen = 1
    st.now_us = now_us
    st.now_ms = st.now_us // 1000


def keyframe_interval_ms(Core core):
    """The interval between two keyframe requests relayed for one producer (rtcp_relay.pxi)."""
    return core._open().keyframe_interval_ms


def set_keyframe_interval_ms(Core core, uint64_t value):
    """Changes that interval on a running core (Engine(keyframe_interval=) sets it at creation)."""
    core._open().keyframe_interval_ms = value


include "testing_srtp.pxi"


# ---- transport-wide congestion control (twcc.pxi, estimator.pxi) ---------------------------------

def twcc_feedback(bytes fci, int capacity=TWCC_FEEDBACK_MAX):
    """The transport-cc FCI `fci` (what follows the 12-byte RTPFB header) as twcc_parse reads it,
    from a private copy of exactly len(fci) bytes: (base sequence number, reference time, feedback
    count, [(sequence number, arrival us or None)]), or the error's name (TWCC_ERRORS)."""
    cdef TwccFeedback fb
    cdef uint16_t seqs[TWCC_FEEDBACK_MAX]
    cdef int64_t arrivals[TWCC_FEEDBACK_MAX]
    cdef int n, i
    cdef uint8_t* copy
    if not 0 <= capacity <= TWCC_FEEDBACK_MAX:
        raise ValueError(f"capacity must be within 0..{TWCC_FEEDBACK_MAX}")
    copy = _exact_copy(fci)
    try:
        n = twcc_parse(copy, len(fci), &fb, seqs, arrivals, capacity)
        if n < 0:
            return TWCC_ERRORS[-n]
        packets = [(seqs[i], None if arrivals[i] == INT64_MIN else arrivals[i]) for i in range(n)]
        return fb.base_seq, fb.reference_time, fb.feedback_count, packets
    finally:
        free(copy)


cdef class TwccEstimator:
    """One subscriber transport's send history and estimator, driven by a test or a benchmark with
    its own clock: `sent` numbers a packet as the engine does when it sends one, `feedback` applies
    a transport-cc FCI (the bytes the subscriber would send), `remb` and `receiver_loss` the
    fallbacks. The same C functions as the engine's, so a simulated link drives the real thing."""
    cdef TwccHistory* history
    cdef Estimator est
    cdef uint16_t next_seq
    cdef bint probing

    def __cinit__(self, uint16_t first_seq=0, bint probing=False):
        """`probing`: automatic probes start as the engine starts them (the sender must send what
        `probe_owed` says, as padding)."""
        self.history = <TwccHistory*>calloc(1, sizeof(TwccHistory))
        if self.history == NULL:
            raise MemoryError()
        estimator_init(&self.est)
        self.next_seq = first_seq
        self.probing = probing

    def __dealloc__(self):
        free(self.history)

    def sent(self, uint16_t size, uint64_t now_us, bint padding=False):
        """Numbers a packet of `size` bytes sent at `now_us` (`padding`: a probe's): its
        transport-wide sequence number."""
        cdef uint16_t seq = self.next_seq
        cdef TwccSent* e = &self.history.sent[seq & (TWCC_HISTORY - 1)]
        self.next_seq = <uint16_t>(seq + 1)
        e.send_us = now_us if now_us else 1
        e.seq = seq
        e.size = size
        e.cluster = probe_count_sent(&self.est, size, padding)
        return seq

    def probe(self, uint64_t target_bps, uint64_t now_us):
        """Starts a probe cluster at `target_bps` (Core.probe_transport's estimator side)."""
        probe_begin(&self.est, target_bps, now_us)

    def probe_owed(self, uint64_t now_us):
        """Bytes of padding the probe being sent owes at `now_us` (0: none, or it ended)."""
        return probe_owed(&self.est, now_us)

    def feedback(self, bytes fci, uint64_t now_us):
        """Applies one feedback FCI at `now_us`; False when it is malformed (counted)."""
        cdef TwccFeedback fb
        cdef uint16_t seqs[TWCC_FEEDBACK_MAX]
        cdef int64_t arrivals[TWCC_FEEDBACK_MAX]
        cdef int n = twcc_parse(<const uint8_t*>fci, len(fci), &fb, seqs, arrivals, TWCC_FEEDBACK_MAX)
        cdef uint64_t target
        cdef bint for_cap
        if n < 0:
            self.est.malformed += 1
            return False
        estimator_feedback(&self.est, self.history, seqs, arrivals, n, now_us)
        target = probe_wanted(&self.est, now_us, &for_cap) if self.probing else 0
        if target:
            probe_begin(&self.est, target, now_us)
            self.est.probe_finding = for_cap
        return True

    def remb(self, uint64_t bitrate, uint64_t now_us):
        estimator_remb(&self.est, bitrate, now_us)

    def receiver_loss(self, uint8_t fraction_lost, uint64_t now_us):
        estimator_receiver_loss(&self.est, fraction_lost, now_us)

    @property
    def estimate_bps(self):
        return self.est.estimate_bps

    def stats(self):
        cdef Estimator* e = &self.est
        return {
            "estimate_bps": e.estimate_bps, "delay_bps": e.delay_bps, "loss_bps": e.loss_bps,
            "acked_bps": e.acked_bps, "remb_bps": e.remb_bps, "usage": USAGE_NAMES[e.signal],
            "threshold_ms": e.threshold_ms, "trend": e.trend, "feedbacks": e.feedbacks,
            "malformed": e.malformed, "packets_acked": e.packets_acked, "packets_lost": e.packets_lost,
            "unknown_seq": e.unknown_seq, "overuses": e.overuses, "rr_loss_reports": e.rr_loss_reports,
            "sent_bps": e.sent_bps, "rate_capped": bool(e.rate_capped),
            "probing": bool(e.probe_sending or e.probe_judging), "probes_started": e.probes_started,
            "probe_packets": e.probe_packets, "probe_bytes": e.probe_bytes,
            "probes_raised": e.probes_raised, "probes_failed": e.probes_failed,
            "probe_result_bps": e.probe_result_bps, "probe_next_us": e.probe_next_us,
            "probe_backoff_us": e.probe_backoff_us, "probe_settled": bool(e.probe_settled),
        }
