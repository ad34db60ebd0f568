# Tunables and enumerations of the fast path, in one place.

cdef enum:
    BATCH_SIZE = 64            # datagrams per recvmmsg / sendmmsg call
    MAX_DATAGRAM = 1500        # receive buffer per datagram (bigger ones arrive truncated and are dropped)
    MAX_BATCHES_PER_DRAIN = 32 # receive batches in one drain, at most, before the loop gets control back
    DRAIN_SEND_BUDGET = 512    # ... datagrams sent in one drain: a drain stops once it has sent this many
    DRAIN_TIME_BUDGET_US = 1000  # ... microseconds in one drain (clock read once per receive batch)
    SLOW_QUEUE_SIZE = 256      # STUN/DTLS/unknown-source datagrams waiting for Python
    MAX_RTCP_PARTS = 32        # packets in one RTCP compound

# What a drain left for the loop's Python side, as flags: one call per wake-up, and on most
# wake-ups (media only) nothing more.
cdef enum DrainWork:
    DRAIN_SLOW = 1             # datagrams queued for the slow path (pop_slow)
    DRAIN_LEARNED = 2          # unknown-SSRC records queued (pop_learned)
    DRAIN_TIMED = 4            # held packets or a probe cluster: the pace timer must run

# What a datagram is, by its first byte (RFC 7983) and, for RTP/RTCP, its second (RFC 5761).
cdef enum Kind:
    KIND_UNKNOWN = 0
    KIND_STUN = 1
    KIND_DTLS = 2
    KIND_RTP = 3
    KIND_RTCP = 4

# Why a datagram was dropped: each reason has a counter. Keep DROP_COUNT last.
cdef enum Drop:
    DROP_NONE = 0
    DROP_UNKNOWN_KIND          # first byte in no RFC 7983 range
    DROP_TRUNCATED_HEADER      # shorter than the fixed RTP/RTCP header
    DROP_BAD_VERSION           # version field is not 2
    DROP_TRUNCATED_CSRC        # CSRC list runs past the end
    DROP_TRUNCATED_EXTENSION   # header extension runs past the end
    DROP_BAD_EXTENSION         # malformed RFC 8285 element
    DROP_BAD_PADDING           # padding length zero or longer than the payload
    DROP_RTCP_BAD_LENGTH       # an RTCP length field disagrees with the datagram
    DROP_RTCP_TRUNCATED        # an RTCP packet shorter than its type requires
    DROP_OVERSIZE              # datagram larger than the receive buffer
    DROP_UNKNOWN_SSRC          # RTP from a known transport but no producer owns the SSRC
    DROP_PRODUCER_GATED        # the producer's gate is closed
    DROP_SLOW_QUEUE_FULL       # the slow-path queue was full
    DROP_SRTP_AUTH             # SRTP/SRTCP authentication or replay check failed
    DROP_SEND_FAILED           # sendmmsg refused the datagram
    DROP_RTX_TRUNCATED         # RTX packet without the 2-byte original sequence number (RFC 4588)
    DROP_COUNT

# RTCP packet types (RFC 3550, RFC 4585) and the feedback a view is classified as.
cdef enum RtcpType:
    RTCP_SR = 200
    RTCP_RR = 201
    RTCP_SDES = 202
    RTCP_BYE = 203
    RTCP_APP = 204
    RTCP_RTPFB = 205
    RTCP_PSFB = 206
    RTCP_XR = 207

cdef enum Feedback:
    FB_NONE = 0
    FB_NACK = 1    # RTPFB FMT 1 (RFC 4585)
    FB_TWCC = 2    # RTPFB FMT 15 (transport-wide congestion control)
    FB_PLI = 3     # PSFB FMT 1
    FB_FIR = 4     # PSFB FMT 4 (RFC 5104)
    FB_REMB = 5    # PSFB FMT 15 with "REMB" identifier
    FB_OTHER = 6

# Engine core (forwarding table, send queue, RTCP relay). Added by the fast-path owner.
cdef enum:
    SEND_SLOTS = 1024              # outgoing datagrams per flush (a receive batch at fan-out 16; UIO_MAXIOV)
    FLUSH_SENDS = 256              # copies queued that flush the send queue before the rest of a receive
                                   # batch that emptied the socket is handled: the first datagram's copies
                                   # never wait for 64 x fan-out (a full read, a backlog, goes in one flush)
                                   # (128 cost 12-20 % more CPU per copy at fan-out 10: GSO runs of 13)
    SEND_SLOT_SIZE = 1664          # MAX_DATAGRAM + room for an SRTP/SRTCP trailer (tag + MKI)
    TABLE_MIN_CAPACITY = 64        # slots of a fresh hash table (a power of two)
    KEYFRAME_INTERVAL_MS = 500     # default: at most one relayed PLI/FIR per producer per interval
    KEYFRAME_COALESCE_MS = 20      # gate opening/switch: requests this close together are merged
    STALE_WINDOW = 0x4000          # packets after a resync during which older input is "stale"
    RTX_PT_KEEP = 0xFF             # Consumer.rtx_payload_type: send the publisher's RTX payload type

# The send path (io.pxi, gso.pxi, pace.pxi): UDP GSO for runs of equal-size datagrams to one peer,
# and a token bucket per paced transport.
cdef enum:
    GSO_MAX_SEGMENTS = 64          # the kernel's UDP_MAX_SEGMENTS: datagrams in one GSO message
    GSO_MAX_BYTES = 65000          # bytes in one GSO message: its UDP datagram stays under 64 KiB
    GSO_MAX_SEGMENT = 1452         # larger datagrams go alone: a segment must fit the path MTU (1500
                                   # less IPv6 and UDP headers), or the kernel refuses the message
    GSO_CONTROL_WORDS = 3          # 8-byte words of one UDP_SEGMENT cmsg: CMSG_SPACE(sizeof(uint16_t))
    PACE_QUEUE_SLOTS = 256         # packets one paced transport holds at most: past it the oldest goes early
    PACE_QUEUE_US = 300000         # ... and at most this long a stretch of its rate, nor a packet this long (likewise)
    PACE_DEMAND_US = 200000        # the window over which what a paced peer is offered is measured
    PACE_DEMAND_PERCENT = 125      # the bucket runs at least this share of that offered rate
    PACE_BURST_US = 5000           # an idle paced transport may send this long a stretch of its rate at once
    PACE_MIN_BURST = 3000          # ... and at least this many bytes (two full datagrams)
    PACE_REMB_PERCENT = 250        # pacing from a subscriber's estimate: this share of it (libwebrtc's 2.5)
    PACE_MIN_BPS = 400000          # ... and never less: the estimate is least reliable when lowest

# SSRC learning (learn.pxi): unknown SSRCs on a transport with MID/RID extension ids, for Python.
cdef enum:
    LEARN_QUEUE_SIZE = 64          # records waiting for Python; more are counted and dropped
    LEARN_VALUE_MAX = 32           # longest MID/RID value kept (longer ones are treated as absent)

# Header extensions rewritten per consumer (extensions.pxi): the extensions the engine knows by
# meaning. A transport maps its peer's RFC 8285 ids to these, and these to the ids it writes.
cdef enum:  # ExtKind
    EXT_KIND_NONE = 0          # an id the transport was not told of: dropped from forwarded packets
    EXT_KIND_MID = 1           # urn:ietf:params:rtp-hdrext:sdes:mid (each consumer writes its own)
    EXT_KIND_RID = 2           # sdes:rtp-stream-id (the publisher's layer name: never forwarded)
    EXT_KIND_RRID = 3          # sdes:repaired-rtp-stream-id (likewise)
    EXT_KIND_ABS_SEND_TIME = 4
    EXT_KIND_AUDIO_LEVEL = 5   # RFC 6464 ssrc-audio-level (also read into the producer's levels)
    EXT_KIND_TRANSPORT_CC = 6
    EXT_KIND_COUNT

cdef enum:
    EXT_VALUE_MAX = 16         # longest value of a known extension forwarded (the one-byte form's limit)
    EXT_BLOCK_MAX = 4 + EXT_KIND_COUNT * (2 + EXT_VALUE_MAX)  # largest extension block a consumer writes
    LEVEL_RING = 64            # audio levels kept per audio producer for the slow path (~1.3 s at 20 ms)

# Loss repair (repair.pxi): each video producer keeps its last packets; a subscriber's NACK is
# answered from them, and only what they miss is asked of the publisher.
cdef enum:
    CACHE_SLOTS = 512              # packets cached per video producer (a power of two): ~1 s at 4 Mbit/s
    CACHE_MAX_AGE_MS = 1000        # an older cached packet is not sent again (the subscriber gave up on it)
    NACK_RELAY_INTERVAL_MS = 100   # a packet missing from the cache is asked of the publisher once per interval
    NACK_WINDOW_MS = 250           # per-consumer NACK rate limit: at most NACK_WINDOW_LIMIT packets asked
    NACK_WINDOW_LIMIT = 50         # ... per window (200/s: 5 % loss of a 4 Mbit/s stream is ~20/s)
    REPAIR_PENDING = 32            # packets one consumer awaits from the publisher (its RTX goes only there)
    REPAIR_PENDING_MS = 1000       # ... for at most this long
    MAX_NACK_LOST = 512            # sequence numbers read from one NACK (32 FCI entries of 16 + 1)
    MAX_REMB_SSRCS = 16            # SSRCs one REMB to a publisher names (remb.pxi)

# Simulcast (keyframe.pxi, simulcast.pxi): the codec of a video producer, for telling where a
# keyframe starts; a consumer switches layer only there.
cdef enum Codec:
    CODEC_OTHER = 0                # no keyframe detection: a layer switch happens at the next packet
    CODEC_VP8 = 1                  # RFC 7741
    CODEC_VP9 = 2                  # RFC 9628
    CODEC_H264 = 3                 # RFC 6184

# Transport-wide congestion control toward subscribers (twcc.pxi): each subscriber transport that
# negotiated transport-cc numbers every packet sent to it in its own sequence, keeps what it sent,
# and reads the subscriber's feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01).
cdef enum:
    TWCC_HISTORY = 2048            # packets sent remembered per transport (a power of two; 32 KiB):
                                   # ~1 s at 20 Mbit/s of 1200-byte packets, feedback comes every 50-100 ms
    TWCC_HISTORY_MAX_AGE_US = 2000000  # an older entry is not matched to feedback
    TWCC_FEEDBACK_MAX = 1024       # packets one feedback may report on; a bigger one is malformed
    TWCC_DELTA_UNIT_US = 250       # receive delta unit
    TWCC_REFERENCE_UNIT_US = 64000 # reference time unit

# twcc_parse's results below zero: why a feedback is malformed (TWCC_ERRORS names them).
cdef enum TwccError:
    TWCC_EMPTY = -1                # packet status count 0
    TWCC_TOO_MANY = -2             # more than TWCC_FEEDBACK_MAX packets
    TWCC_TRUNCATED_CHUNKS = -3     # the status chunks run past the packet
    TWCC_RESERVED_SYMBOL = -4      # a two-bit symbol 3 (reserved)
    TWCC_TRUNCATED_DELTAS = -5     # the receive deltas run past the packet

# The bandwidth tick (bitrates.pxi): what moved since it was last told.
cdef enum:
    BW_CHANGE_PERCENT = 10         # a relative change worth telling the control plane
    BW_SAMPLED = 1                 # Producer.bw_flags: media_bytes taken at least once
    BW_RATED = 2                   # ... a bitrate measured
    BW_TOLD = 4                    # ... a bitrate told
    BW_SILENT = 8                  # ... told silent: no media bytes in two passes running
    BW_QUIET = 16                  # ... no media bytes in the last pass
    BW_SMOOTHING_PERCENT = 50      # weight of the newest interval in a bitrate (keyframes make single seconds jumpy)

# The bandwidth estimator of a subscriber transport (estimator.pxi), in the spirit of
# draft-ietf-rmcat-gcc-02: delay-based (trendline over inter-group delay variation, adaptive
# threshold, AIMD) and loss-based; REMB and receiver-report loss when no transport-cc feedback comes.
cdef enum:
    ESTIMATE_START_BPS = 1000000
    ESTIMATE_MIN_BPS = 50000
    ESTIMATE_MAX_BPS = 50000000
    GROUP_SPAN_US = 5000           # packets sent within 5 ms form one group
    TREND_WINDOW = 20              # delay samples in the trendline's regression
    ACKED_RING = 512               # received packets kept for the acknowledged bitrate
    ACKED_WINDOW_US = 500000       # ... over this much arrival time
    TWCC_STALE_US = 2000000        # no transport-cc feedback this long: REMB and RR loss lead

# Bandwidth probing (probe.pxi): a subscriber transport whose estimate is held down by what it sends
# (the 1.5 x acknowledged cap) is sent padding on a consumer's RTX stream for a short cluster, at a
# target rate; the cluster's received rate, read from transport-cc feedback, may raise the estimate.
cdef enum:
    PROBE_DURATION_US = 60000      # a cluster is sent over this long, in bursts of the engine's ticks
    PROBE_MIN_PACKETS = 5          # ... and is judged on at least this many received packets
    PROBE_PADDING = 255            # padding bytes per probe packet (RFC 3550: the count is one byte)
    PROBE_BURST_PACKETS = 64       # probe packets sent at most per tick and transport
    PROBE_RESULT_WAIT_US = 1000000 # a cluster's feedback awaited this long after it ends, then judged
    PROBE_FIRST_US = 500000        # the first probe: this long after transport-cc feedback starts
    PROBE_AGAIN_US = 500000        # the next probe after one that raised the estimate
    PROBE_BACKOFF_US = 2000000     # after one that found no more: 2 s, doubling ...
    PROBE_BACKOFF_MAX_US = 30000000  # ... up to 30 s; the estimate dropping starts it again
    PROBE_CEILING_BPS = 10000000   # an automatic probe asks at most this much
    PROBE_LIMITED_PERCENT = 70     # application-limited: sending less than this share of the delay-based rate
    PROBE_RAISE_PERCENT = 105      # a cluster's result raises the estimate from this share of it up
    PROBE_CARRIER_IDLE_MS = 1000   # a consumer that forwarded nothing this long carries no probe
    PROBE_DROP_PERCENT = 66        # an estimate below this share of the one before it dropped largely:
    PROBE_DROP_TARGET_PERCENT = 85 # ... probed at this share of that one, whatever is sent,
    PROBE_DROP_WINDOW_US = 5000000 # ... within this long (libwebrtc's probe after a large drop)
