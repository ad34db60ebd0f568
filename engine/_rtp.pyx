# cython: language_level=3
"""The engine's fast path: batched UDP I/O, packet views, the forwarding table, rewrite, SRTP.

Split into included files, one concept each; this module only stitches them together.
"""
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t, int16_t, int32_t, int64_t
from libc.string cimport memcmp, memcpy, memmove, memset
from engine.includes.consts cimport *
from engine.includes.sockets cimport sockaddr_in6

include "packet.pxi"        # packet views: classify, rtp_parse, rtp_extension, rtcp_split
include "counters.pxi"      # counters and drop reasons by name
include "table.pxi"         # hash tables and counted allocation
include "io.pxi"            # recvmmsg / sendmmsg batches, slow-path ring
include "gso.pxi"           # UDP GSO: a peer's equal-size datagrams as one message
include "pace.pxi"          # a token bucket per transport over the video sent to it
include "rewrite.pxi"       # a consumer's SSRC, payload type, sequence and timestamp spaces
include "extensions.pxi"    # header extensions rewritten per consumer; audio levels read
include "learn.pxi"         # unknown SSRCs with MID/RID extension values, queued for Python
include "forward.pxi"       # per-datagram path: classify, look up, forward RTP
include "rtcp_relay.pxi"    # SR rewrite, PLI/FIR/NACK relay, keyframe requests
include "feedback.pxi"      # NACK FCI read and written
include "repair.pxi"        # loss repair: per-producer packet cache, NACK answered, RTX to who asked
include "keyframe.pxi"      # where a keyframe starts (VP8, VP9, H.264 payload headers)
include "simulcast.pxi"     # a consumer's switch to another layer at that layer's keyframe
include "remb.pxi"          # REMB to publishers: the bitrate they may send at
include "twcc.pxi"          # transport-wide numbers per subscriber transport, its send history, feedback read
include "estimator.pxi"     # a subscriber transport's bandwidth estimate (delay, loss; REMB and RR fallbacks)
include "probe.pxi"         # bandwidth probes: padding clusters that let a held-down estimate rise
include "address.pxi"       # (host, port) <-> sockaddr_in6, IPv4-mapped on the dual-stack socket
include "bitrates.pxi"      # the bandwidth tick: video bitrates and transport estimates that moved
include "stats.pxi"         # the engine's, a transport's, a producer's and a consumer's stats dicts
include "transport_addresses.pxi"  # a transport's addresses, and what reaching it first starts
include "links.pxi"         # a consumer made, attached to the producers that feed it, detached
include "core.pxi"          # Core: the Python handle, table operations
include "srtp.pxi"          # SRTP/SRTCP through libsrtp (pylibsrtp): SrtpContext, transport hooks
