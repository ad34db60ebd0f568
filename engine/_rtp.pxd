# The C contract of the fast path's packet views. Implemented in packet.pxi (included by _rtp.pyx).
from libc.stdint cimport uint8_t, uint16_t, uint32_t

from engine.includes.consts cimport Drop, Kind, Feedback, Codec, EXT_KIND_COUNT, EXT_VALUE_MAX, EXT_BLOCK_MAX, LEVEL_RING


# RFC constants of the packet views, and extension_next's results (EXT_END, EXT_MALFORMED).
cdef enum:
    RTP_HEADER_SIZE = 12
    RTCP_HEADER_SIZE = 4
    MAX_VIEW_LENGTH = 0xFFFF
    EXT_ONE_BYTE_PROFILE = 0xBEDE          # RFC 8285 section 4.2
    EXT_TWO_BYTE_PROFILE = 0x1000          # RFC 8285 section 4.3: 0x100 then 4 application bits
    EXT_TWO_BYTE_MASK = 0xFFF0
    EXT_ID_RESERVED = 15                   # one-byte form: "reserved for a future extension"
    REMB_IDENTIFIER = 0x52454D42           # "REMB" (draft-alvestrand-rmcat-remb)
    FMT_NACK = 1                           # RTPFB, RFC 4585 section 6.2.1
    FMT_TWCC = 15                          # RTPFB, draft-holmer-rmcat-transport-wide-cc-extensions
    FMT_PLI = 1                            # PSFB, RFC 4585 section 6.3.1
    FMT_FIR = 4                            # PSFB, RFC 5104 section 4.3.1
    FMT_AFB = 15                           # PSFB, application layer feedback (REMB)
    EXT_END = -1
    EXT_MALFORMED = -2


cdef struct RtpView:
    const uint8_t* data       # borrowed from the receive buffer; never owned
    uint16_t length           # whole datagram
    uint8_t marker
    uint8_t payload_type
    uint16_t sequence
    uint32_t timestamp
    uint32_t ssrc
    uint8_t csrc_count
    uint16_t ext_profile      # 0xBEDE one-byte, 0x100x two-byte, other, or 0 when absent
    uint16_t ext_offset       # offset of the first extension element (after the 4-byte header)
    uint16_t ext_length       # bytes of extension elements
    uint16_t payload_offset
    uint16_t payload_length   # without padding
    uint8_t padding_length


cdef struct RtcpView:         # one packet of a compound
    const uint8_t* data       # borrowed; points at this packet's first byte
    uint16_t length           # bytes of this packet: 4 * (length field + 1)
    uint8_t packet_type       # RtcpType
    uint8_t count             # RC, SC or FMT
    uint32_t sender_ssrc
    uint32_t media_ssrc       # feedback packets (RTPFB/PSFB): the media source; else 0
    uint8_t feedback          # Feedback


cdef Kind classify(const uint8_t* data, size_t length) noexcept nogil
cdef Drop rtp_parse(const uint8_t* data, size_t length, RtpView* view) noexcept nogil
# Value of header extension `ext_id` (one- or two-byte form): its length, or -1 when absent.
cdef int rtp_extension(const RtpView* view, uint8_t ext_id, const uint8_t** value) noexcept nogil
# Splits and validates a compound: every part, or a drop reason and no parts.
cdef Drop rtcp_split(const uint8_t* data, size_t length, RtcpView* parts, int max_parts, int* count) noexcept nogil
# Next RFC 8285 element of an extension block from pos[0] (one- or two-byte form): its length, or
# EXT_END / EXT_MALFORMED.
cdef int extension_next(const uint8_t* block, size_t size, bint one_byte, size_t* pos,
                        uint8_t* ext_id, const uint8_t** value) noexcept nogil
# 1: one-byte form, 2: two-byte form, 0: an extension profile that is not RFC 8285.
cdef int extension_form(uint16_t profile) noexcept nogil
# Generic NACK (feedback.pxi): the sequence numbers a NACK part reports lost (at most `capacity`),
# and lost sequence numbers written as FCI entries (bytes written, at most `capacity`).
cdef int nack_lost(const RtcpView* part, uint16_t* out, int capacity) noexcept nogil
cdef int nack_pack(const uint16_t* lost, int count, uint8_t* out, int capacity) noexcept nogil
# Whether an RTP payload begins a keyframe of `codec` (keyframe.pxi).
cdef bint keyframe_start(const uint8_t* payload, size_t length, Codec codec) noexcept nogil


# Header extensions of one packet, by meaning (extensions.pxi): read once, written per consumer.
cdef struct ExtElement:
    uint8_t kind              # ExtKind
    uint8_t length            # 1..EXT_VALUE_MAX
    uint16_t offset           # of the value, from the packet's first byte

cdef struct ExtScan:
    ExtElement elements[EXT_KIND_COUNT]   # the first element of each forwardable kind, in packet order
    uint8_t count
    int audio_level           # the RFC 6464 byte, or -1 when absent
    # the elements as last written (MID aside), for the next consumer whose transport has the same ids
    uint8_t cached
    uint8_t cache_ids[EXT_KIND_COUNT]     # the target's ids, its MID's 0 for a consumer without one
    uint8_t body_two_byte
    uint8_t body_length
    uint8_t body[EXT_BLOCK_MAX]


# ---------------------------------------------------------------------------------------------
# Engine core: forwarding table, batched I/O, RTCP relay (table.pxi, io.pxi, forward.pxi, ...).
# Everything below is plain C data touched with the GIL released; Core is its Python handle.
# ---------------------------------------------------------------------------------------------
from libc.stdint cimport uint64_t, int64_t, int32_t
from posix.uio cimport iovec
from engine.includes.consts cimport DROP_COUNT, BATCH_SIZE, SEND_SLOTS, SLOW_QUEUE_SIZE, LEARN_QUEUE_SIZE, LEARN_VALUE_MAX
from engine.includes.consts cimport MAX_DATAGRAM, REPAIR_PENDING, SEND_SLOT_SIZE, PACE_QUEUE_SLOTS, GSO_CONTROL_WORDS
from engine.includes.consts cimport FLUSH_SENDS
from engine.includes.consts cimport TWCC_HISTORY, TREND_WINDOW, ACKED_RING
from engine.includes.sockets cimport sockaddr_in6, mmsghdr


cdef struct Counters:         # per engine, transport, producer and consumer
    uint64_t packets_in
    uint64_t bytes_in
    uint64_t packets_out
    uint64_t bytes_out
    uint64_t drops[DROP_COUNT]  # indexed by Drop


cdef struct Key:              # hash-table key: an address, (transport, SSRC) or (tag, id)
    uint64_t a
    uint64_t b
    uint64_t c


cdef struct Slot:
    Key key
    void* value               # borrowed: entries are owned by the id table's owner (Core)
    int used


cdef struct Table:            # open addressing, linear probing, backward-shift deletion
    Slot* slots               # owned here
    uint32_t capacity         # a power of two; load kept at or below one half
    uint32_t size


# SRTP hook, filled in by srtp.pxi for WebRTC transports: transforms in place, returns DROP_NONE
# or a drop reason; `length` is updated. Plain transports leave the pointers NULL.
ctypedef Drop (*crypto_fn)(void* ctx, uint8_t* data, int* length, int rtcp) noexcept nogil


# Transport-wide congestion control (twcc.pxi, estimator.pxi): per subscriber transport.
cdef struct TwccSent:         # one packet sent on a transport, by its transport-wide sequence number
    uint64_t send_us          # 0: empty
    uint16_t seq
    uint16_t size             # bytes of RTP (header, extensions, payload)
    uint16_t cluster          # the probe cluster it was sent in (probe.pxi); 0: none


cdef struct TwccHistory:      # what a transport sent, for reading its peer's feedback; owned by it
    TwccSent sent[TWCC_HISTORY]   # indexed by seq & (TWCC_HISTORY - 1)


cdef struct TwccFeedback:     # one transport-cc feedback's header (twcc_parse)
    uint16_t base_seq
    uint16_t status_count
    int32_t reference_time    # in 64 ms units, 24-bit signed
    uint8_t feedback_count


cdef struct Estimator:        # one transport's bandwidth estimate (estimator.pxi); plain numbers only
    uint64_t estimate_bps     # what the transport may carry: min(delay, loss, REMB) by what is fresh
    uint64_t delay_bps        # the AIMD rate controller's rate (delay-based)
    uint64_t loss_bps         # the loss-based bound
    uint64_t remb_bps         # the subscriber's last REMB (0: none)
    uint64_t remb_us
    uint64_t twcc_us          # when transport-cc feedback was last applied (0: never)
    uint64_t loss_changed_us  # when the loss-based bound last decreased
    uint64_t loss_us          # when loss was last applied
    uint32_t loss_lost        # packets reported lost since loss was last applied, and in all
    uint32_t loss_total
    # the send-time group being filled, and the last complete one
    int64_t group_first_send_us
    int64_t group_send_us     # of its last packet
    int64_t group_arrival_us  # likewise
    int64_t prev_send_us
    int64_t prev_arrival_us
    uint8_t has_group
    uint8_t has_prev
    # trendline filter (accumulated delay, smoothed, least-squares slope over TREND_WINDOW)
    double accumulated_ms
    double smoothed_ms
    double window_x[TREND_WINDOW]
    double window_y[TREND_WINDOW]
    uint32_t window_count
    int64_t first_arrival_us
    uint32_t deltas
    # overuse detector with adaptive threshold
    double trend
    double previous_trend
    double threshold_ms
    double overuse_ms
    uint32_t overuse_count
    int64_t threshold_us      # when the threshold last adapted
    uint8_t signal            # BandwidthUsage
    # AIMD rate controller
    uint8_t rate_state        # RateState
    uint64_t rate_changed_us
    uint64_t decrease_us      # when the rate last decreased
    double link_bps           # average acknowledged rate at overuse (-1: unknown), its variance
    double link_var
    uint8_t rate_capped       # the last increase was held to 1.5 x acknowledged (probe.pxi's cue)
    uint64_t sent_bps         # what the transport sends (probe clusters aside), from the packets
                              # feedback reports on: far below the delay-based rate, it is application-limited
    uint64_t sent_first_us    # the window it is measured over: send times of its first and last
    uint64_t sent_last_us     # packets, the bytes before the last one, the last one's size
    uint64_t sent_window_bytes
    uint16_t sent_last_size
    uint16_t sent_last_seq
    # acknowledged bitrate: the last received packets by arrival time
    int64_t acked_arrival_us[ACKED_RING]
    uint16_t acked_size[ACKED_RING]
    uint32_t acked_written
    uint64_t acked_bps
    # counters
    uint64_t feedbacks        # transport-cc feedback applied
    uint64_t malformed        # ... dropped as malformed
    uint64_t packets_acked    # packets it reported received
    uint64_t packets_lost     # ... reported not received
    uint64_t unknown_seq      # ... naming a packet not in the history
    uint64_t remb_in          # REMB from the subscriber
    uint64_t rr_loss_reports  # receiver reports whose fraction lost was applied (no fresh TWCC)
    uint64_t overuses         # overuse signals
    # bandwidth probing (probe.pxi): the cluster being sent or judged, the schedule, counters
    uint16_t probe_cluster    # the current or last cluster's id (from 1)
    uint8_t probe_sending     # packets numbered now belong to it
    uint8_t probe_judging     # it was sent; its feedback is awaited
    uint64_t probe_target_bps
    uint64_t probe_start_us
    uint64_t probe_sent_bits  # of the cluster so far, media included (what the padding tops up)
    uint32_t probe_numbered   # packets numbered in the cluster
    uint32_t probe_reported   # ... that feedback has reported on, received or not
    uint32_t probe_received
    int64_t probe_first_send_us       # the cluster's packets as feedback reports them: send span,
    int64_t probe_last_send_us        # arrival span, bytes; the last sent and the first arrived
    int64_t probe_first_arrival_us    # are not counted in their rates (intervals between packets)
    int64_t probe_last_arrival_us
    uint64_t probe_bytes_sent
    uint64_t probe_bytes_received
    uint16_t probe_last_send_size
    uint16_t probe_first_arrival_size
    uint64_t probe_next_us    # when an automatic probe may start (0: not scheduled yet)
    uint64_t probe_backoff_us # the wait after the next probe that finds nothing
    uint64_t probe_quiet_us   # until then an estimate drop is the probe's doing, not the link's
    uint64_t probe_result_bps # the last cluster's measured rate (0: none or not judged)
    uint64_t probe_drop_from_bps  # the estimate before its last large drop, probed back once (0: none)
    uint64_t probe_drop_us    # ... when it dropped
    uint8_t probe_finding     # the cluster is an automatic one at twice the estimate (probe_due): its result may settle
    uint8_t probe_settled     # such a cluster, measured, raised nothing: start-up probing is over (probe_wanted)
    uint64_t probes_started
    uint64_t probe_packets    # padding packets sent for probes
    uint64_t probe_bytes
    uint64_t probes_raised    # clusters that raised the estimate
    uint64_t probes_failed    # ... that did not (no more capacity, too few packets received)
cdef struct PacedPacket:      # a datagram a paced transport holds back (pace.pxi), not yet numbered nor protected
    Counters* consumer        # borrowed; NULLed if the consumer goes first (pace_forget_counters)
    Counters* producer        # likewise
    uint16_t length
    uint16_t twcc_at          # offset of its transport-wide number, written as it leaves (0: none)
    uint8_t protect           # SRTP-protected as it leaves
    uint64_t held_us          # State.now_us when it was held: it leaves within PACE_QUEUE_US of it
    uint8_t data[SEND_SLOT_SIZE]


cdef struct PaceQueue:        # a ring of held datagrams, in the order they were queued
    int head
    int count
    int64_t cost              # of the packets held, in the bucket's units (pace_cost)
    PacedPacket packets[PACE_QUEUE_SLOTS]


cdef struct PaceCounters:     # per paced transport (pace.pxi)
    uint64_t held             # video packets queued behind the token bucket
    uint64_t released         # ... sent since (the rest: waiting, or dropped with the transport)
    uint64_t early            # ... sent ahead of the bucket: the queue was past its bound (never dropped)


cdef struct Transport:
    uint32_t id
    uint32_t router_id
    sockaddr_in6 remote       # where this peer's datagrams come from and go to (v4-mapped for IPv4)
    int has_remote
    void* crypto              # SRTP context: owned by the srtp layer; NULL for plain transports
    crypto_fn protect         # NULL for plain transports
    crypto_fn unprotect
    uint8_t mid_ext           # RFC 8285 ids of sdes:mid, rtp-stream-id, repaired-rtp-stream-id (0: none)
    uint8_t rid_ext
    uint8_t rrid_ext
    uint8_t learn             # unknown SSRCs are queued for Python (LearnRing) instead of only dropped
    uint8_t ext_told          # told its extension ids: packets to it carry its ids only (extensions.pxi)
    uint8_t ext_ids[EXT_KIND_COUNT]   # ExtKind -> the RFC 8285 id negotiated with this peer (0: none)
    uint8_t ext_kinds[256]    # RFC 8285 id -> ExtKind, for the packets this peer sends
    # pacing (pace.pxi): a token bucket over the video sent to this peer; audio, RTCP, probes and
    # retransmissions go first but spend from it too
    uint64_t pacing_bps       # 0: unpaced (the bandwidth estimate sets it; Core.set_transport_pacing)
    uint8_t pace_explicit     # pacing_bps was set by Core.set_transport_pacing: a REMB leaves it
    uint64_t remb_bps         # the last REMB this peer sent (a subscriber's estimate of its link), 0: none
    uint64_t pace_rate_bps    # the bucket's rate: pacing_bps, or more where the peer is sent more (pace_demand)
    uint64_t pace_demand_bps  # what this peer was offered (sent, and held) in both of the last two windows
    uint64_t pace_window_bps  # ... in the last one alone
    uint64_t pace_window_us   # when the current demand window began (0: not yet)
    int64_t pace_window_sent  # in it: the cost of what left (pace_cost units)
    int64_t pace_window_held  # the queue's cost when it began
    int64_t pace_credit       # bit-microseconds (bytes * 8 * 10^6 / rate): spent per datagram
    uint64_t pace_at_us       # when pace_credit was last refilled (State.now_us)
    PaceQueue* pace           # owned; NULL until the first packet is held
    Transport* pace_next      # State.paced list: transports holding packets (pace_listed)
    uint8_t pace_listed
    PaceCounters pacing
    # the send queue (io.pxi, gso.pxi): this transport's datagrams in the current flush, chained
    uint32_t tx_generation    # SendQueue.generation when tx_tail was written
    int tx_tail               # its last datagram queued in that flush
    TwccHistory* twcc         # owned here; allocated once transport-cc is negotiated (twcc.pxi)
    uint16_t twcc_seq         # the next transport-wide sequence number to send
    Estimator est             # the bandwidth estimate toward this peer (estimator.pxi)
    uint8_t gso_refused       # the kernel refused a GSO send to this peer: sent one by one since
    uint32_t probe_ssrc       # the consumer whose RTX stream carries probe padding (probe.pxi)
    Transport* probe_next     # State.probing list: transports sending a probe cluster
    uint8_t probe_listed
    # the bandwidth tick (bitrates.pxi)
    uint8_t pipe              # to another worker: its estimate is not told
    uint32_t bw_pass          # the last pass that found a consumer on it
    uint64_t bw_told          # the estimate last told (0: none)
    Counters counters


cdef struct Consumer


cdef struct CacheEntry:       # one cached packet of a producer (repair.pxi), as the publisher sent it
    uint64_t stored_ms        # when it was stored; 0: empty
    uint64_t asked_ms         # when `asked_seq`, missing here, was last asked of the publisher
    uint16_t seq
    uint16_t asked_seq
    uint16_t length
    uint8_t data[MAX_DATAGRAM]


cdef struct RepairCounters:   # loss repair (repair.pxi), per consumer
    uint64_t nacks_rate_limited     # sequence numbers asked beyond the consumer's NACK budget
    uint64_t cache_hits             # ... answered from the producer's cache
    uint64_t cache_misses           # ... not in the cache (asked of the publisher, at most once per interval)
    uint64_t repairs_sent           # retransmissions sent to this consumer (from the cache or the publisher)


cdef struct Producer:
    uint32_t id
    Transport* transport      # borrowed from the id table (a transport outlives its producers)
    uint32_t ssrc
    uint8_t has_ssrc          # 0 until learned (MID/RID): then not in by_media and never asked for keyframes
    uint8_t payload_type
    uint8_t video
    uint8_t paused
    uint8_t fir_seq           # RFC 5104 command sequence number of the FIRs we send
    uint32_t clock_rate
    Consumer** consumers      # array owned here; the consumers are borrowed from the id table
    uint32_t consumer_count
    uint32_t consumer_capacity
    uint64_t last_keyframe_request_ms
    uint64_t keyframe_requests        # PLI/FIR sent to the publisher for this producer
    uint64_t keyframe_rate_limited    # requests suppressed by the per-producer interval
    uint64_t nacks                    # NACK packets relayed to the publisher
    uint64_t sender_reports           # SR received from the publisher
    uint32_t rtx_ssrc         # RFC 4588 retransmission stream, in by_rtx when has_rtx
    uint8_t has_rtx
    uint64_t rtx_in                   # RTX packets received for this producer
    uint64_t media_bytes              # datagram bytes of its media packets with a payload (gate open):
                                      # its bitrate as sent, without padding or retransmissions
    uint8_t levels[LEVEL_RING]        # RFC 6464 bytes (V bit, -dBov) of the last audio packets, a ring
    uint64_t levels_written           # levels read from packets so far (the ring's write position)
    uint64_t levels_taken             # ... handed to Python (Core.take_levels)
    uint8_t rtx_payload_type          # as last received from the publisher (RTX_PT_KEEP: none yet)
    CacheEntry* cache                 # CACHE_SLOTS entries, owned here; NULL for audio (repair.pxi)
    uint8_t codec                     # Codec: where its keyframes start (keyframe.pxi)
    uint8_t below_top                 # a simulcast layer under its track's top layer: a consumer
                                      # forwarded it could get more with more bandwidth (probe.pxi)
    # the bandwidth tick (bitrates.pxi): its bitrate from media_bytes between two passes
    uint8_t bw_flags          # BW_SAMPLED, BW_RATED, BW_TOLD
    uint64_t bw_bytes         # media_bytes at the last pass
    uint64_t bw_at_us         # ... when it was taken
    double bw_rate            # bit/s, smoothed (BW_RATED)
    uint64_t bw_told          # the bitrate last told (BW_TOLD)
    Counters counters


cdef struct Consumer:
    uint32_t id
    Transport* transport      # borrowed from the id table (a transport outlives its consumers)
    Producer* producer        # borrowed; the producer's consumer array points back here
    uint32_t ssrc
    uint8_t payload_type      # what producer.payload_type becomes
    uint8_t pt_map[128]       # input payload type -> output payload type
    uint8_t paused
    uint8_t started           # a packet has been sent: offsets and last_* are meaningful
    uint8_t resync            # recompute offsets at the next packet (resume, switch)
    uint16_t seq_offset       # out = in + offset (mod 2^16)
    uint32_t ts_offset        # out = in + offset (mod 2^32)
    uint16_t last_seq         # highest sequence number sent
    uint32_t last_ts          # timestamp of that packet
    uint16_t resync_seq       # first sequence number sent after the last resync
    uint16_t since_resync     # packets sent since then, saturating at STALE_WINDOW
    uint64_t last_sent_ms
    uint32_t clock_rate
    uint64_t packets_sent     # RTP packets queued for sending, for the sender reports we write
    uint64_t octets_sent      # payload octets, likewise
    uint64_t gated            # packets not sent because the consumer gate is closed
    uint64_t stale            # packets older than the last resync point, not sent
    uint64_t sender_reports   # rewritten SR sent to the subscriber
    uint64_t keyframe_requests_in
    uint64_t nacks_in
    uint32_t rtx_ssrc         # the consumer's own RTX stream (has_rtx): SSRC, payload type, sequence
    uint8_t has_rtx
    uint8_t rtx_payload_type  # RTX_PT_KEEP: the publisher's RTX payload type, unchanged
    uint16_t rtx_seq          # the next RTX sequence number to send (contiguous, our own space)
    uint64_t rtx_sent         # RTX packets queued for sending
    uint64_t rtx_unmapped     # RTX whose original is outside this consumer's stream: not sent
    uint8_t mid[EXT_VALUE_MAX]  # the subscriber's m-section for this consumer, written as sdes:mid
    uint8_t mid_length        # 0: none
    uint64_t nack_window_ms   # start of the current NACK rate-limit window (repair.pxi)
    uint32_t nack_window_count  # sequence numbers asked within it
    uint16_t pending_seq[REPAIR_PENDING]  # publisher sequence numbers this consumer awaits (repair.pxi)
    uint64_t pending_ms[REPAIR_PENDING]   # when each was asked; 0: free
    RepairCounters repair
    Producer* pending         # borrowed: the layer it switches to at that layer's next keyframe
                              # (simulcast.pxi); it is in that producer's consumer array meanwhile
    uint64_t layer_switches   # switches done at a keyframe
    Counters counters


cdef struct EngineCounters:   # engine-wide, besides the Counters every level has
    uint64_t datagrams_in     # = rtp_routed + rtcp_handled + slow_queued + input drops
    uint64_t rtp_in
    uint64_t rtcp_in
    uint64_t stun_in
    uint64_t dtls_in
    uint64_t unknown_source   # RTP/RTCP from an address no transport owns (sent to the slow path)
    uint64_t slow_queued
    uint64_t slow_overflow_stun             # ... not queued: the ring was full (drops: slow_queue_full)
    uint64_t slow_overflow_dtls
    uint64_t slow_overflow_unknown_source
    uint64_t rtp_routed       # RTP that reached an open producer (sent to 0..N consumers)
    uint64_t rtcp_handled     # valid compounds from a known transport
    uint64_t sr_rewritten     # SR written for a consumer
    uint64_t rr_terminated
    uint64_t remb_terminated
    uint64_t twcc_terminated
    uint64_t rtcp_other_terminated   # SDES, BYE, APP, XR, unknown feedback, unknown SSRCs
    uint64_t pli_relayed
    uint64_t fir_relayed
    uint64_t nack_relayed
    uint64_t keyframe_rate_limited
    uint64_t keyframe_requests_sent  # every PLI/FIR the engine sent (relayed or generated)
    uint64_t recv_calls
    uint64_t send_calls
    uint64_t recv_errors
    uint64_t drains
    uint64_t ssrc_learn_queued       # unknown SSRCs handed to Python (LearnRing)
    uint64_t ssrc_learn_overflow     # ... not handed because the ring was full
    uint64_t rtx_in                  # RTX packets from a producer's RTX SSRC (open gate)
    uint64_t rtx_sent                # ... rewritten and queued for a consumer
    uint64_t rtx_unmapped            # ... not sent: the original is outside the consumer's stream
    uint64_t ext_rewritten           # packets sent with the extensions rewritten for their consumer
    uint64_t ext_unmapped            # elements not forwarded: an id its publisher's transport was not told
    uint64_t ext_oversize            # elements not forwarded: a known extension with no value or over 16 bytes
    uint64_t ext_foreign             # extension blocks not forwarded: a profile other than RFC 8285's
    uint64_t audio_levels            # RFC 6464 audio levels read into producers' rings
    uint64_t nack_cache_hits         # NACKed packets answered from a producer's cache (repair.pxi)
    uint64_t nack_cache_misses       # ... not in it: asked of the publisher
    uint64_t nack_rate_limited       # ... beyond the consumer's NACK budget: ignored
    uint64_t nack_unmapped           # ... outside the consumer's current mapping: ignored
    uint64_t repairs_sent            # retransmissions sent to subscribers (cache or publisher RTX)
    uint64_t rtx_unrequested         # publisher RTX no consumer awaited: cached, not forwarded
    uint64_t rtx_padding             # padding-only packets on a publisher's RTX SSRC (its bandwidth probes)
    uint64_t layer_switches          # consumers switched to another layer at its keyframe (simulcast.pxi)
    uint64_t remb_sent               # REMB sent to publishers (remb.pxi)
    uint64_t twcc_seq_written        # packets sent with their transport's own transport-wide number
    uint64_t twcc_feedback           # transport-cc feedback applied to a transport's estimate
    uint64_t twcc_malformed          # ... dropped: malformed (twcc_parse), counted per transport too
    uint64_t gso_sends               # messages sent with UDP_SEGMENT (gso.pxi): several datagrams each
    uint64_t gso_datagrams           # ... the datagrams they carried
    uint64_t gso_fallbacks           # GSO messages the kernel refused, sent again one datagram at a time
    uint64_t paced_held              # video packets held by a transport's pacer (pace.pxi)
    uint64_t paced_released          # ... released on a later tick
    uint64_t pace_early              # ... sent ahead of its bucket: the queue was past its bound
    uint64_t probes_started          # probe clusters started on subscriber transports (probe.pxi)
    uint64_t probe_packets           # ... padding packets sent for them
    uint64_t probe_bytes             # ... their bytes
    uint64_t probes_raised           # ... clusters that raised their transport's estimate
    uint64_t probe_unavailable       # probes not started: no transport-cc, or no consumer with RTX


cdef struct SendQueue:        # datagrams to send; flushed when full, at flush_at and after every receive batch
    uint8_t* buffers          # owned: SEND_SLOTS * SEND_SLOT_SIZE
    mmsghdr msgs[SEND_SLOTS]
    iovec iov[SEND_SLOTS * 2] # [header copy, payload borrowed from the receive buffer] or [whole copy]
    Counters* credit[SEND_SLOTS * 3]  # borrowed: who is credited (or charged) for each datagram
    uint16_t lengths[SEND_SLOTS]
    Transport* dest[SEND_SLOTS]       # borrowed: a transport outlives the flush of what it queued
    int next[SEND_SLOTS]      # the same transport's next datagram in this flush; -1: its last
    uint8_t first[SEND_SLOTS] # 1: the first datagram of its transport in this flush
    int count
    uint32_t generation       # flushes so far, from 1 (Transport.tx_generation)
    int gso                   # UDP_SEGMENT is used (the kernel has it; Core.set_gso)
    int flush_at              # the receive loop flushes once this many are queued (FLUSH_SENDS; 0: only
                              # after each receive batch, the benchmarks' before; _testing.set_flush_sends)
    # one flush's messages as gso.pxi builds them: each one datagram, or a run with UDP_SEGMENT
    mmsghdr out[SEND_SLOTS]
    iovec out_iov[SEND_SLOTS * 2]
    uint64_t control[SEND_SLOTS * GSO_CONTROL_WORDS]  # each message's cmsg, 8-byte aligned
    int order[SEND_SLOTS]     # queue indices in the order sent
    int out_first[SEND_SLOTS] # message -> its first datagram in `order`
    int out_count[SEND_SLOTS] # ... and how many it carries


cdef struct SlowRing:         # bounded queue of datagrams for the Python slow path
    uint8_t* buffers          # owned: SLOW_QUEUE_SIZE * MAX_DATAGRAM
    uint16_t lengths[SLOW_QUEUE_SIZE]
    sockaddr_in6 addrs[SLOW_QUEUE_SIZE]
    int head
    int count


cdef struct LearnRecord:     # an unknown SSRC seen on a learning transport, after SRTP authentication
    uint32_t transport_id
    uint32_t ssrc
    uint8_t payload_type
    int mid_length            # -1: extension absent (or longer than LEARN_VALUE_MAX)
    int rid_length
    int rrid_length
    uint8_t mid[LEARN_VALUE_MAX]
    uint8_t rid[LEARN_VALUE_MAX]
    uint8_t rrid[LEARN_VALUE_MAX]


cdef struct LearnRing:        # bounded queue of LearnRecords for Python (Core.pop_learned)
    LearnRecord records[LEARN_QUEUE_SIZE]
    int head
    int count


cdef struct State:
    int fd
    uint64_t now_ms           # monotonic clock, read once per receive batch
    uint64_t now_us           # the same reading in microseconds (pacing, transport-cc send times)
    uint8_t clock_frozen      # tests: now_* are set by the test (engine._testing.set_clock), not read
    Transport* paced          # transports holding packets (pace.pxi), linked by pace_next
    uint32_t paced_count      # packets they hold in all
    uint8_t pace_from_remb    # a subscriber's REMB paces its transport (PACE_REMB_PERCENT of it)
    Transport* probing        # transports sending a probe cluster (probe.pxi), linked by probe_next
    uint32_t probing_count
    uint32_t bw_pass          # bandwidth tick passes so far (bitrates.pxi)
    uint32_t rtcp_ssrc        # sender SSRC of the RTCP the engine generates
    uint64_t keyframe_interval_ms
    Table by_addr             # remote address -> Transport*
    Table by_media            # (transport id, SSRC) -> Producer*
    Table by_consumer         # (transport id, consumer SSRC) -> Consumer*
    Table by_rtx              # (transport id, publisher RTX SSRC) -> Producer* (RFC 4588 streams)
    Table by_id               # (tag, id) -> Transport* / Producer* / Consumer*: the owner of all three
    Counters counters
    EngineCounters engine
    int64_t live_blocks       # C allocations alive (debug resource check; zero after close)
    int64_t live_transports
    int64_t live_producers
    int64_t live_consumers
    int64_t live_srtp_contexts  # libsrtp contexts (two sessions each) of this core's transports
    uint8_t* rx_buffers       # owned: BATCH_SIZE * MAX_DATAGRAM
    mmsghdr rx_msgs[BATCH_SIZE]
    iovec rx_iov[BATCH_SIZE]
    sockaddr_in6 rx_addrs[BATCH_SIZE]
    SendQueue tx
    SlowRing slow
    LearnRing learn


cdef class Core:
    cdef State* st            # owned; NULL once closed
    cdef readonly uint64_t version   # last applied table version
    cdef bint closed          # tables and buffers freed; st kept for the allocation counters

    cdef State* _open(self) except NULL
    cdef Transport* _transport(self, uint32_t tid) except NULL
    cdef Producer* _producer(self, uint32_t pid) except NULL
    cdef Consumer* _consumer(self, uint32_t cid) except NULL
    cdef uint64_t _now_us(self)
    cdef void _flush(self) noexcept
    cdef bint _keyframe(self, Producer* p) noexcept
    cdef void _clear_srtp(self, Transport* t) noexcept


# Module-level functions the test extension (engine/_testing.pyx) reaches through this contract:
# one datagram through the per-datagram path, the send queue, the clock, addresses (io.pxi,
# forward.pxi, core.pxi).
cdef uint64_t monotonic_ms() noexcept nogil
cdef void handle_datagram(State* st, uint8_t* data, size_t length, int truncated,
                          const sockaddr_in6* addr) noexcept nogil
cdef void tx_flush(State* st) noexcept nogil
cdef void tx_discard(State* st) noexcept nogil
cdef void clock_read(State* st) noexcept nogil
cdef void pace_release(State* st) noexcept nogil
cdef int addr_from_python(sockaddr_in6* out, str host, int port) except -1
# Header extensions by meaning (extensions.pxi): read once per packet, written per consumer.
cdef void ext_scan(const RtpView* v, const Transport* source, ExtScan* scan, EngineCounters* counts) noexcept nogil
cdef size_t ext_write(uint8_t* out, const RtpView* v, ExtScan* scan, const Transport* target,
                      const uint8_t* mid, uint8_t mid_length, int twcc_seq) noexcept nogil
cdef size_t write_rewritten_head(uint8_t* buf, const RtpView* v, ExtScan* scan,
                                 const Consumer* c, uint16_t* twcc_at) noexcept nogil
cdef void transport_set_extension(Transport* t, uint8_t kind, uint8_t ext_id) noexcept nogil
# Transport-wide congestion control (twcc.pxi, estimator.pxi): the feedback parser, and the estimator
# driven with plain numbers (the test extension's simulated links).
cdef int twcc_parse(const uint8_t* fci, size_t size, TwccFeedback* fb, uint16_t* seqs,
                    int64_t* arrivals_us, int capacity) noexcept nogil
cdef void estimator_init(Estimator* e) noexcept nogil
cdef void estimator_feedback(Estimator* e, const TwccHistory* history, const uint16_t* seqs,
                             const int64_t* arrivals_us, int count, uint64_t now_us) noexcept nogil
cdef void estimator_remb(Estimator* e, uint64_t bitrate, uint64_t now_us) noexcept nogil
cdef void estimator_receiver_loss(Estimator* e, uint8_t fraction_lost, uint64_t now_us) noexcept nogil
# Bandwidth probing (probe.pxi), the estimator's side: a cluster started, the bytes it still owes
# at `now_us`, a packet counted into it, whether an automatic probe is due (its target, 0: none).
cdef void probe_begin(Estimator* e, uint64_t target_bps, uint64_t now_us) noexcept nogil
cdef int64_t probe_owed(Estimator* e, uint64_t now_us) noexcept nogil
cdef uint16_t probe_count_sent(Estimator* e, uint16_t size, bint padding) noexcept nogil
cdef uint64_t probe_wanted(Estimator* e, uint64_t now_us, bint* for_cap) noexcept nogil


# ---------------------------------------------------------------------------------------------
# SRTP over libsrtp (srtp.pxi): one SrtpContext per transport.
# ---------------------------------------------------------------------------------------------
from engine.includes.srtp cimport SrtpContext

cdef int srtp_key_salt_length(int profile) noexcept nogil
cdef SrtpContext* srtp_context_new(int profile, const uint8_t* local_key_salt,
                                   const uint8_t* remote_key_salt) noexcept nogil
cdef void srtp_context_delete(SrtpContext* ctx) noexcept nogil
cdef void srtp_context_remove_ssrc(SrtpContext* ctx, uint32_t ssrc) noexcept nogil
cdef Drop srtp_rtp_unprotect(SrtpContext* ctx, uint8_t* buf, int* length) noexcept nogil
cdef Drop srtp_rtp_protect(SrtpContext* ctx, uint8_t* buf, int* length, int capacity) noexcept nogil
cdef Drop srtp_rtcp_unprotect(SrtpContext* ctx, uint8_t* buf, int* length) noexcept nogil
cdef Drop srtp_rtcp_protect(SrtpContext* ctx, uint8_t* buf, int* length, int capacity) noexcept nogil
cdef Drop srtp_transport_unprotect(void* ctx, uint8_t* data, int* length, int rtcp) noexcept nogil
cdef Drop srtp_transport_protect(void* ctx, uint8_t* data, int* length, int rtcp) noexcept nogil
# Contexts now alive in the process: initialised ones, and those from srtp_context_new.
cdef void srtp_context_counts(Py_ssize_t* live, Py_ssize_t* heap) noexcept nogil
