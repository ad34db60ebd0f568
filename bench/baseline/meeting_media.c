/* The peer benchmark's media, compiled: every publisher's audio and video sent at meeting rates, and
 * what every subscriber receives counted and timed, over the UDP sockets of peer connections that
 * aiortc opened and keyed (real ICE and DTLS-SRTP; bench/peer_sfu/compiled_media.py drives this).
 * The receiving side answers as a browser would: transport-wide congestion control feedback,
 * receiver reports and generic NACKs, SRTCP-protected (rtcp_feedback.h).
 *
 *   meeting_media --libsrtp PATH --profile N --relay PORT [--drop-per-mille D] [--max-seconds S] [--wake]
 *
 * Then on stdin, one line per stream and socket, and "start":
 *   send FD IP PORT SSRC PT KIND PUBLISHER LAYER BPS KEYHEX
 *        a published stream (audio, or one simulcast layer of a camera at BPS bits/s): sent on FD
 *        (inherited from the aiortc process) to the SFU's IP:PORT, protected with the transport's
 *        outbound SRTP key
 *   recv FD RECEIVER RXKEY TXKEY TWCC_ID
 *        a subscriber's socket: RTP read here with the inbound key; feedback sent with the outbound
 *        key; TWCC_ID: the transport-wide sequence number's header extension id (0: none negotiated)
 *   start
 * and after "start", "stats" prints one JSON line of cumulative counters (see print_stats), "pause"
 * stops sending (receiving and feedback go on, so what was sent, or asked again, can still arrive).
 *
 * Rates, as bench/peer_sfu/media.py's Python sender: audio AUDIO_SIZE-byte packets every 20 ms; video
 * 25 frames/s of BPS/8/25 bytes per layer, each split into packets of at most MAX_PAYLOAD bytes sent
 * as one burst (marker on the last). Every KEYFRAME_EVERY-th frame is a keyframe (an SFU switches a
 * subscriber onto a layer at a keyframe). Streams start at staggered phases within their period, as
 * independent encoders would. A 1 ms timerfd paces them; a tick more than one period late is counted
 * and skipped, never caught up in a burst.
 *
 * Payload: for video a VP8 payload descriptor (RFC 7741, as Chromium writes it: X, S on a frame's
 * first packet, I with a 15-bit picture id), on a frame's first packet the VP8 payload header (a
 * keyframe's with its start code and size, as both SFUs read them), then MAGIC, publisher (u32), kind
 * (u8: 0 audio, 1 video), layer (u8), the stream's packet counter (u64), the send time (u64,
 * CLOCK_MONOTONIC ns), zero padding: the receiver reads the one-way latency (same host, same clock),
 * the layer, and from the counter whether a packet repairs one it missed or is a duplicate.
 *
 * Receiving happens on the 1 ms tick, after sending: every subscriber socket is read then, and each
 * packet's arrival is the kernel's receive timestamp (SO_TIMESTAMPNS), not the time it was read. A
 * socket nobody waits on costs its sender nothing to wake: with the sockets in epoll (--wake, the
 * earlier way), every delivery woke this process, and on one host the kernel charges that wake-up
 * (and the preemption it causes) to the SFU whose sendmmsg delivered the packet. A real subscriber
 * is on another host, where its wake-ups are its own; reading on the tick keeps them out of either
 * SFU's CPU (bench/peer_sfu/run.py: --receive).
 *
 * Each subscriber records every packet's transport-wide sequence number and arrival and
 * every FEEDBACK_NS sends one transport-cc feedback about them, every REPORT_NS a receiver report
 * about each stream; a gap in a video stream's sequence numbers is NACKed at once (browsers NACK
 * video only). --drop-per-mille D discards that share of first copies of video packets on arrival,
 * as a lossy link would, so both SFUs' repair paths run; loss is what stayed missing after repair.
 *
 * A subscriber socket carries more than RTP: STUN (consent checks), DTLS and SRTCP must still reach
 * aiortc, so everything that is not RTP is relayed whole to 127.0.0.1:--relay with a header (slot u32,
 * source IPv4 4 bytes, source port u16, all big-endian), and the Python side hands it to aioice as if
 * its own socket had read it.
 */
#include "common.h"

#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <sys/uio.h>

#include "rtcp_feedback.h"
#include "seen_window.h"
#include "srtp_dl.h"

#define MAX_STREAMS 4096
#define MAX_RECEIVERS 4096
#define MAX_PUBLISHERS 4096
#define MAX_LAYERS 3
#define SLOTS (1 + MAX_LAYERS) /* per publisher: audio, then each video layer */
#define BATCH 64
#define MAX_FRAME_PACKETS 64
#define AUDIO_SIZE 120
#define MAX_PAYLOAD 1100
#define FRAME_RATE 25
#define KEYFRAME_EVERY 25
#define AUDIO_PERIOD_NS 20000000ull
#define VIDEO_PERIOD_NS (1000000000ull / FRAME_RATE)
#define FEEDBACK_NS 50000000ull
#define REPORT_NS 1000000000ull
#define REPORTED_RTT_NS 20000000ull /* a LAN's round trip: on one host it is under a millisecond, which
                                       Janus takes for none, and without one it keeps no packet to repeat */
#define LATENCY_BUCKET_NS 10000ull /* 10 us */
#define LATENCY_BUCKETS 10000      /* up to 100 ms; the last bucket holds the rest */
#define RELAY_HEADER 10
#define BODY 26      /* MAGIC, publisher, kind, layer, counter, send time */
#define VP8_KEY 10   /* a keyframe's VP8 payload header: frame tag, start code, width, height */
#define VP8_DELTA 3  /* an interframe's: frame tag */
#define VP8_DESCRIPTOR 4
#define MAX_TRACKED 64   /* RTP streams per receiver whose sequence numbers are followed (NACKs) */
#define MAX_NACK_GAP 200 /* a bigger jump is a restart, not a loss */

static const uint8_t MAGIC[4] = {'P', 'd', 'm', 'S'};
enum { AUDIO = 0, VIDEO = 1 };

struct stream {
    int fd;
    struct sockaddr_in to;
    uint32_t ssrc, timestamp;
    uint16_t seq;
    uint8_t payload_type, kind, layer;
    uint32_t publisher;
    void *srtp;       /* owned here: outbound session */
    uint64_t next_ns; /* when the next packet (audio) or frame (video) is due */
    uint64_t sent, errors, frames;
    int frame_packets;
    long frame_packet_size;
};

struct tracked { /* an RTP stream arriving at a receiver: the highest sequence number seen, its last SR */
    uint32_t ssrc, last_sr; /* last_sr: middle 32 bits of the last sender report's NTP time (0: none yet) */
    uint16_t max_seq;
    uint64_t last_sr_ns; /* when that report arrived */
};

struct receiver {
    int fd;
    uint32_t index;        /* the benchmark's participant index */
    void *srtp, *srtcp;    /* owned here: inbound session (RTP), outbound session (feedback) */
    int twcc_id;           /* 0: the SFU numbers nothing here */
    uint32_t feedback_ssrc, media_ssrc;
    struct sockaddr_in sfu; /* where its RTP comes from: feedback goes there (once have_sfu) */
    int have_sfu, twcc_started, n_arrivals, n_tracked;
    int64_t twcc_last; /* last unwrapped transport-wide sequence number */
    struct twcc_arrival arrivals[TWCC_MAX_ARRIVALS];
    uint8_t feedback_count;
    struct tracked tracked[MAX_TRACKED];
};

static struct stream streams[MAX_STREAMS];
static struct receiver receivers[MAX_RECEIVERS];
static int n_streams, n_receivers;
static uint32_t n_publishers; /* highest publisher index + 1 */
static uint64_t *counts;      /* [receiver slot][publisher][SLOTS]: packets, repairs included */
static struct seen *seen;     /* [receiver slot][publisher][SLOTS] */
static uint64_t latency[LATENCY_BUCKETS];
static uint64_t kernel_stamped, read_stamped; /* datagrams whose arrival is the kernel's stamp, or the read */
static uint64_t ticks, late, foreign, auth_failures, relayed, relay_errors, feedback_errors, padding;
static uint64_t twcc_feedbacks, twcc_reported, nacks_sent, nacked_packets, repaired, duplicates, dropped, reports_sent,
    sender_reports;
static long drop_per_mille;
static int paused; /* "pause": stop sending, keep receiving (so what was sent can still arrive) */

static uint8_t out[MAX_FRAME_PACKETS][1500 + SRTP_MAX_TRAILER];
static struct iovec out_iov[MAX_FRAME_PACKETS];
static struct mmsghdr out_msg[MAX_FRAME_PACKETS];

static uint8_t in[BATCH][2048 + RELAY_HEADER];
static struct iovec in_iov[BATCH];
static struct sockaddr_in in_from[BATCH];
static struct mmsghdr in_msg[BATCH];
static uint8_t in_control[BATCH][CMSG_SPACE(sizeof(struct timespec))];
static int64_t realtime_offset_ns; /* CLOCK_REALTIME - CLOCK_MONOTONIC, read every tick */

static uint8_t feedback[20 + 3 * TWCC_MAX_ARRIVALS + SRTP_MAX_TRAILER + 8];

static int relay_fd;
static struct sockaddr_in relay_to;

/* The VP8 payload header of a frame's first packet into p; returns its length. */
static int vp8_header(uint8_t *p, int keyframe, int layer) {
    if (!keyframe) { /* frame tag: P = 1 (interframe), show_frame */
        p[0] = 0x11, p[1] = 0x02, p[2] = 0x00;
        return VP8_DELTA;
    }
    uint16_t width = (uint16_t)(1280 >> (2 * (MAX_LAYERS - 1 - layer))), height = (uint16_t)(720 >> (2 * (MAX_LAYERS - 1 - layer)));
    p[0] = 0x10, p[1] = 0x02, p[2] = 0x00; /* P = 0: a key frame */
    p[3] = 0x9d, p[4] = 0x01, p[5] = 0x2a; /* the start code */
    p[6] = (uint8_t)width, p[7] = (uint8_t)(width >> 8), p[8] = (uint8_t)height, p[9] = (uint8_t)(height >> 8);
    return VP8_KEY;
}

/* One RTP packet of `size` bytes (before the SRTP tag) of stream s into buffer p; returns its length.
 * first: the first packet of a video frame (keyframe: of a keyframe). */
static int build_packet(struct stream *s, uint8_t *p, long size, int marker, int first, int keyframe, uint64_t now) {
    memset(p, 0, (size_t)size);
    p[0] = 0x80;
    p[1] = (uint8_t)(s->payload_type | (marker ? 0x80 : 0));
    put_be16(p + 2, ++s->seq);
    put_be32(p + 4, s->timestamp);
    put_be32(p + 8, s->ssrc);
    uint8_t *body = p + 12;
    if (s->kind == VIDEO) {
        /* VP8 payload descriptor as Chromium writes it: X, S on a frame's first packet; I; a 15-bit picture id */
        uint16_t picture_id = (uint16_t)(s->frames & 0x7fff);
        body[0] = first ? 0x90 : 0x80, body[1] = 0x80, body[2] = (uint8_t)(0x80 | picture_id >> 8);
        body[3] = (uint8_t)picture_id;
        body += VP8_DESCRIPTOR;
        if (first) body += vp8_header(body, keyframe, s->layer);
    }
    memcpy(body, MAGIC, 4);
    put_be32(body + 4, s->publisher);
    body[8] = s->kind;
    body[9] = s->layer;
    put_be32(body + 10, (uint32_t)(s->sent >> 32));
    put_be32(body + 14, (uint32_t)s->sent);
    put_be32(body + 18, (uint32_t)(now >> 32));
    put_be32(body + 22, (uint32_t)now);
    s->sent++;
    int len = (int)size;
    if (srtp_dl.protect(s->srtp, p, &len)) {
        fprintf(stderr, "meeting_media: srtp_protect failed\n");
        exit(2);
    }
    return len;
}

/* Sends what is due of stream s: one audio packet, or one video frame as a burst. */
static void send_due(struct stream *s, uint64_t now) {
    int n;
    if (s->kind == AUDIO) {
        s->timestamp += 960;
        out_iov[0].iov_len = (size_t)build_packet(s, out[0], AUDIO_SIZE, 0, 0, 0, now);
        n = 1;
    } else {
        int keyframe = s->frames % KEYFRAME_EVERY == 0;
        s->timestamp += 90000 / FRAME_RATE;
        for (int i = 0; i < s->frame_packets; i++)
            out_iov[i].iov_len = (size_t)build_packet(s, out[i], s->frame_packet_size, i == s->frame_packets - 1,
                                                      i == 0, keyframe, now);
        s->frames++;
        n = s->frame_packets;
    }
    for (int i = 0; i < n; i++) {
        out_msg[i].msg_hdr.msg_name = &s->to;
        out_msg[i].msg_hdr.msg_namelen = sizeof s->to;
    }
    int done = 0;
    while (done < n) {
        int r = sendmmsg(s->fd, out_msg + done, (unsigned)(n - done), 0);
        if (r <= 0) {
            s->errors += (uint64_t)(n - done); /* e.g. a full socket buffer: those packets are lost */
            break;
        }
        done += r;
    }
}

/* SRTCP-protects the `len` bytes in `feedback` and sends them to receiver r's SFU. */
static void send_feedback(struct receiver *r, int len) {
    if (srtp_dl.protect_rtcp(r->srtcp, feedback, &len) ||
        sendto(r->fd, feedback, (size_t)len, 0, (struct sockaddr *)&r->sfu, sizeof r->sfu) < 0)
        feedback_errors++;
}

static void send_twcc(struct receiver *r) {
    if (!r->n_arrivals || !r->have_sfu) return;
    int len = twcc_build(feedback, r->feedback_ssrc, r->media_ssrc, r->arrivals, r->n_arrivals, r->feedback_count++);
    twcc_reported += (uint64_t)r->n_arrivals;
    r->n_arrivals = 0;
    if (len) {
        send_feedback(r, len);
        twcc_feedbacks++;
    }
}

/* A receiver report about each stream r follows, one report block each (as a browser sends them
 * about every second: Janus keeps packets for retransmission only once a subscriber's reports gave
 * it a round-trip time, and it reads a report as about the medium of its block). */
static void send_reports(struct receiver *r) {
    if (!r->have_sfu) return;
    for (int i = 0; i < r->n_tracked; i++) {
        struct tracked *t = &r->tracked[i];
        uint64_t held_ns = now_ns() - t->last_sr_ns; /* the delay since its last SR, less REPORTED_RTT_NS */
        held_ns = held_ns > REPORTED_RTT_NS ? held_ns - REPORTED_RTT_NS : 0;
        report_build(feedback, r->feedback_ssrc, t->ssrc, t->max_seq, t->last_sr,
                     t->last_sr ? (uint32_t)(held_ns * 65536 / 1000000000ull) : 0);
        send_feedback(r, 32);
        reports_sent++;
    }
}

static void on_tick(void) {
    uint64_t now = now_ns();
    static uint64_t next_feedback_ns, next_report_ns;
    if (now >= next_feedback_ns) { /* feedback goes on while paused: repairs and the estimate need it */
        for (int i = 0; i < n_receivers; i++) send_twcc(&receivers[i]);
        next_feedback_ns = now + FEEDBACK_NS;
    }
    if (now >= next_report_ns) {
        for (int i = 0; i < n_receivers; i++) send_reports(&receivers[i]);
        next_report_ns = now + REPORT_NS;
    }
    if (paused) return;
    ticks++;
    for (int i = 0; i < n_streams; i++) {
        struct stream *s = &streams[i];
        uint64_t period = s->kind == AUDIO ? AUDIO_PERIOD_NS : VIDEO_PERIOD_NS;
        if (now < s->next_ns) continue;
        if (now - s->next_ns > period) { /* the generator fell behind: skip, do not burst */
            late++;
            s->next_ns = now;
        }
        send_due(s, now);
        s->next_ns += period;
    }
}

static int is_rtp(const uint8_t *p, ssize_t len) {
    /* RFC 7983: 128..191 is RTP or RTCP; RTCP packet types 192..223 (RFC 5761) */
    return len >= 12 && p[0] >= 128 && p[0] < 192 && !(p[1] >= 192 && p[1] <= 223);
}

/* Follows the RTP stream's sequence numbers at receiver r (for its receiver reports); with `nack`, a
 * gap is asked again at once. */
static void follow_seq(struct receiver *r, uint32_t ssrc, uint16_t seq, int nack) {
    struct tracked *t = NULL;
    for (int i = 0; i < r->n_tracked; i++)
        if (r->tracked[i].ssrc == ssrc) t = &r->tracked[i];
    if (!t) {
        if (r->n_tracked == MAX_TRACKED) return;
        t = &r->tracked[r->n_tracked++];
        *t = (struct tracked){.ssrc = ssrc, .max_seq = seq};
        return;
    }
    uint16_t ahead = (uint16_t)(seq - t->max_seq);
    if (ahead == 0 || ahead >= 0x8000) return; /* old or repeated */
    if (nack && ahead > 1 && ahead <= MAX_NACK_GAP && r->have_sfu) {
        send_feedback(r, nack_build(feedback, r->feedback_ssrc, ssrc, (uint16_t)(t->max_seq + 1), ahead - 1));
        nacks_sent++;
        nacked_packets += ahead - 1u;
    }
    t->max_seq = seq;
}

/* Records a transport-wide sequence number's arrival at r (for its next feedback). */
static void record_arrival(struct receiver *r, int seq, uint64_t now) {
    if (seq < 0) return;
    int64_t ext = seq;
    if (r->twcc_started) ext = r->twcc_last + (int16_t)(uint16_t)(seq - (uint16_t)r->twcc_last); /* unwrapped */
    r->twcc_started = 1;
    r->twcc_last = ext;
    r->arrivals[r->n_arrivals++] = (struct twcc_arrival){.seq = ext, .ns = now};
    if (r->n_arrivals == TWCC_MAX_ARRIVALS) send_twcc(r);
}

/* The offset of MAGIC in the packet, or -1: after the VP8 descriptor and header, and in a
 * retransmission (RTX) after the original sequence number. */
static int find_body(const uint8_t *p, int len, int offset) {
    for (int at = offset; at <= offset + 2 + VP8_DESCRIPTOR + VP8_KEY && at + BODY <= len; at++)
        if (!memcmp(p + at, MAGIC, 4)) return at;
    return -1;
}

static void count_rtp(struct receiver *r, int slot, uint8_t *p, int len, uint64_t now) {
    if (srtp_dl.unprotect(r->srtp, p, &len)) {
        auth_failures++;
        return;
    }
    int offset = 12 + 4 * (p[0] & 0x0f);
    if ((p[0] & 0x10) && len >= offset + 4) offset += 4 + 4 * get_be16(p + offset + 2);
    int seq = twcc_seq(p, len, r->twcc_id);
    int at = find_body(p, len, offset);
    uint32_t publisher = at < 0 ? 0 : get_be32(p + at + 4);
    uint8_t kind = at < 0 ? 0 : p[at + 8], layer = at < 0 ? 0 : p[at + 9];
    if (at < 0 || publisher >= n_publishers || kind > VIDEO || layer >= MAX_LAYERS) {
        record_arrival(r, seq, now);
        if ((p[0] & 0x20) && len > offset && offset + p[len - 1] == len) padding++; /* a probe: padding only */
        else foreign++;
        return;
    }
    uint64_t counter = (uint64_t)get_be32(p + at + 10) << 32 | get_be32(p + at + 14);
    uint64_t sent_ns = (uint64_t)get_be32(p + at + 18) << 32 | get_be32(p + at + 22);
    size_t cell = ((size_t)slot * n_publishers + publisher) * SLOTS + (kind == AUDIO ? 0 : 1 + layer);
    struct seen *s = &seen[cell];
    if (kind == VIDEO && counter + 1 > s->max && drop_per_mille && (uint64_t)rand() % 1000 < (uint64_t)drop_per_mille) {
        dropped++; /* as if the network lost a first copy: no feedback, no count; the next packet shows the gap */
        return;
    }
    record_arrival(r, seq, now);
    if (!r->media_ssrc) r->media_ssrc = get_be32(p + 8);
    int state = see(s, counter);
    if (state < 0) {
        duplicates++;
        return;
    }
    if (state == 1) repaired++;
    else follow_seq(r, get_be32(p + 8), get_be16(p + 2), kind == VIDEO); /* browsers NACK video only */
    counts[cell]++;
    uint64_t bucket = now > sent_ns ? (now - sent_ns) / LATENCY_BUCKET_NS : 0;
    latency[bucket < LATENCY_BUCKETS ? bucket : LATENCY_BUCKETS - 1]++;
}

/* Reads the sender reports in an SRTCP packet (a copy: aiortc gets the packet itself) for the LSR and
 * DLSR of r's receiver reports. */
static void note_sender_reports(struct receiver *r, const uint8_t *packet, int len, uint64_t now) {
    static uint8_t copy[2048];
    memcpy(copy, packet, (size_t)len);
    if (srtp_dl.unprotect_rtcp(r->srtp, copy, &len)) return;
    for (int at = 0; at + 20 <= len;) {
        int size = 4 * (get_be16(copy + at + 2) + 1);
        if (copy[at + 1] == 200 && at + 16 <= len) {
            uint32_t ssrc = get_be32(copy + at + 4);
            for (int i = 0; i < r->n_tracked; i++)
                if (r->tracked[i].ssrc == ssrc) {
                    r->tracked[i].last_sr = get_be32(copy + at + 10);
                    r->tracked[i].last_sr_ns = now;
                    sender_reports++;
                }
        }
        at += size;
    }
}

/* The datagram's arrival: the kernel's receive timestamp, else `read_at`, the time it was read. */
static uint64_t arrival_ns(struct msghdr *m, uint64_t read_at) {
    uint64_t at = kernel_arrival_ns(m, realtime_offset_ns, read_at);
    if (at) {
        kernel_stamped++;
        return at;
    }
    read_stamped++;
    return read_at;
}

static void on_readable(int slot) {
    struct receiver *r = &receivers[slot];
    for (;;) {
        for (int i = 0; i < BATCH; i++) {
            in_msg[i].msg_hdr.msg_namelen = sizeof in_from[i];
            in_msg[i].msg_hdr.msg_controllen = sizeof in_control[i];
        }
        int n = recvmmsg(r->fd, in_msg, BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0) return;
        uint64_t read_at = now_ns();
        for (int i = 0; i < n; i++) {
            uint8_t *p = in[i] + RELAY_HEADER;
            int len = (int)in_msg[i].msg_len;
            uint64_t now = arrival_ns(&in_msg[i].msg_hdr, read_at);
            if (is_rtp(p, len)) {
                if (!r->have_sfu) {
                    r->sfu = in_from[i];
                    r->have_sfu = 1;
                }
                count_rtp(r, slot, p, len, now);
                continue;
            }
            if (len >= 8 && p[0] >= 128 && p[0] < 192) note_sender_reports(r, p, len, now);
            /* STUN, DTLS, SRTCP: back to aiortc through the relay, with where it came from */
            uint8_t *h = in[i];
            put_be32(h, (uint32_t)slot);
            memcpy(h + 4, &in_from[i].sin_addr.s_addr, 4);
            memcpy(h + 8, &in_from[i].sin_port, 2);
            if (sendto(relay_fd, h, (size_t)len + RELAY_HEADER, 0, (struct sockaddr *)&relay_to, sizeof relay_to) < 0)
                relay_errors++;
            else
                relayed++;
        }
        if (n < BATCH) return;
    }
}

static void print_stats(void) {
    printf("{\"now_ns\": %llu, \"ticks\": %llu, \"late\": %llu, \"foreign\": %llu, \"auth_failures\": %llu, "
           "\"relayed\": %llu, \"relay_errors\": %llu, \"twcc_feedbacks\": %llu, \"twcc_reported\": %llu, "
           "\"nacks_sent\": %llu, \"nacked_packets\": %llu, \"repaired\": %llu, \"duplicates\": %llu, "
           "\"dropped\": %llu, \"feedback_errors\": %llu, \"padding\": %llu, \"reports_sent\": %llu, \"sender_reports\": %llu, "
           "\"kernel_stamped\": %llu, \"read_stamped\": %llu",
           (unsigned long long)now_ns(), (unsigned long long)ticks, (unsigned long long)late,
           (unsigned long long)foreign, (unsigned long long)auth_failures, (unsigned long long)relayed,
           (unsigned long long)relay_errors, (unsigned long long)twcc_feedbacks, (unsigned long long)twcc_reported,
           (unsigned long long)nacks_sent, (unsigned long long)nacked_packets, (unsigned long long)repaired,
           (unsigned long long)duplicates, (unsigned long long)dropped, (unsigned long long)feedback_errors,
           (unsigned long long)padding, (unsigned long long)reports_sent,
           (unsigned long long)sender_reports, (unsigned long long)kernel_stamped,
           (unsigned long long)read_stamped);
    printf(", \"sent\": [");
    for (int i = 0; i < n_streams; i++) printf(i ? ", %llu" : "%llu", (unsigned long long)streams[i].sent);
    printf("], \"send_errors\": [");
    for (int i = 0; i < n_streams; i++) printf(i ? ", %llu" : "%llu", (unsigned long long)streams[i].errors);
    printf("], \"received\": [");
    int first = 1;
    for (int slot = 0; slot < n_receivers; slot++)
        for (uint32_t p = 0; p < n_publishers; p++)
            for (int k = 0; k < SLOTS; k++) {
                uint64_t c = counts[((size_t)slot * n_publishers + p) * SLOTS + k];
                if (!c) continue; /* receiver, publisher, kind, layer (video), packets */
                printf(first ? "[%u, %u, %d, %d, %llu]" : ", [%u, %u, %d, %d, %llu]", receivers[slot].index, p,
                       k ? VIDEO : AUDIO, k ? k - 1 : 0, (unsigned long long)c);
                first = 0;
            }
    printf("], \"latency_10us\": [");
    first = 1;
    for (int b = 0; b < LATENCY_BUCKETS; b++) {
        if (!latency[b]) continue;
        printf(first ? "[%d, %llu]" : ", [%d, %llu]", b, (unsigned long long)latency[b]);
        first = 0;
    }
    printf("]}\n");
    fflush(stdout);
}

/* Reads the stream and socket lines up to "start". */
static void read_setup(int profile) {
    char line[512];
    while (fgets(line, sizeof line, stdin)) {
        char ip[64], key[160], key2[160];
        int fd, kind, payload_type, layer, twcc_id;
        unsigned port, ssrc, index;
        long bps;
        if (strncmp(line, "start", 5) == 0) return;
        if (sscanf(line, "send %d %63s %u %u %d %d %u %d %ld %159s", &fd, ip, &port, &ssrc, &payload_type, &kind,
                   &index, &layer, &bps, key) == 10) {
            if (n_streams == MAX_STREAMS || index >= MAX_PUBLISHERS || (kind != AUDIO && kind != VIDEO) || layer < 0 ||
                layer >= MAX_LAYERS)
                goto bad;
            struct stream *s = &streams[n_streams++];
            s->fd = fd;
            s->to = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
            if (inet_pton(AF_INET, ip, &s->to.sin_addr) != 1) goto bad;
            s->ssrc = ssrc;
            s->payload_type = (uint8_t)payload_type;
            s->kind = (uint8_t)kind;
            s->layer = (uint8_t)layer;
            s->publisher = index;
            s->seq = (uint16_t)rand();
            s->timestamp = (uint32_t)rand();
            s->srtp = srtp_dl_session(profile, key, SSRC_ANY_OUTBOUND);
            if (kind == VIDEO) { /* the frame in packets of at most MAX_PAYLOAD bytes, room for the headers */
                long frame = bps / 8 / FRAME_RATE;
                s->frame_packets = (int)((frame + MAX_PAYLOAD - 1) / MAX_PAYLOAD);
                if (s->frame_packets < 1) s->frame_packets = 1;
                if (s->frame_packets > MAX_FRAME_PACKETS) {
                    fprintf(stderr, "meeting_media: a layer of %ld bit/s needs more than %d packets a frame\n", bps,
                            MAX_FRAME_PACKETS);
                    exit(2);
                }
                s->frame_packet_size = frame / s->frame_packets + 12;
                if (s->frame_packet_size < 12 + VP8_DESCRIPTOR + VP8_KEY + BODY)
                    s->frame_packet_size = 12 + VP8_DESCRIPTOR + VP8_KEY + BODY;
            }
            setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &(int){4 << 20}, sizeof(int));
            if (index + 1 > n_publishers) n_publishers = index + 1;
        } else if (sscanf(line, "recv %d %u %159s %159s %d", &fd, &index, key, key2, &twcc_id) == 5) {
            if (n_receivers == MAX_RECEIVERS || twcc_id < 0 || twcc_id > 14) goto bad;
            struct receiver *r = &receivers[n_receivers++];
            r->fd = fd;
            r->index = index;
            r->srtp = srtp_dl_session(profile, key, SSRC_ANY_INBOUND);
            r->srtcp = srtp_dl_session(profile, key2, SSRC_ANY_OUTBOUND);
            r->twcc_id = twcc_id;
            r->feedback_ssrc = 0x50000000u + index; /* an SSRC of its own: aiortc's RTCP keeps its SRTCP index */
            setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &(int){4 << 20}, sizeof(int));
            if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &(int){1}, sizeof(int)) < 0) die("SO_TIMESTAMPNS");
        } else {
            goto bad;
        }
    }
    exit(0); /* the driver went away before "start" */
bad:
    fprintf(stderr, "meeting_media: bad setup line: %s", line);
    exit(2);
}

int main(int argc, char **argv) {
    const char *library = arg_str(argc, argv, "--libsrtp", NULL);
    int profile = (int)arg_long(argc, argv, "--profile", 0);
    long relay_port = arg_long(argc, argv, "--relay", 0);
    drop_per_mille = arg_long(argc, argv, "--drop-per-mille", 0);
    if (!library || !profile || relay_port <= 0 || relay_port > 65535 || drop_per_mille < 0 || drop_per_mille > 500) {
        fprintf(stderr, "usage: meeting_media --libsrtp PATH --profile N --relay PORT [--drop-per-mille D] [--wake]\n");
        return 2;
    }
    bound_lifetime((unsigned)arg_long(argc, argv, "--max-seconds", 600));
    srtp_dl_load(library);
    srand((unsigned)getpid());
    for (int i = 0; i < MAX_FRAME_PACKETS; i++) {
        out_iov[i].iov_base = out[i];
        out_msg[i].msg_hdr.msg_iov = &out_iov[i];
        out_msg[i].msg_hdr.msg_iovlen = 1;
    }
    for (int i = 0; i < BATCH; i++) {
        in_iov[i] = (struct iovec){.iov_base = in[i] + RELAY_HEADER, .iov_len = 2048};
        in_msg[i].msg_hdr = (struct msghdr){.msg_name = &in_from[i],
                                            .msg_namelen = sizeof in_from[i],
                                            .msg_iov = &in_iov[i],
                                            .msg_iovlen = 1,
                                            .msg_control = in_control[i],
                                            .msg_controllen = sizeof in_control[i]};
    }
    relay_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (relay_fd < 0) die("socket");
    relay_to = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)relay_port)};
    relay_to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    read_setup(profile);
    size_t cells = (size_t)n_receivers * (n_publishers ? n_publishers : 1) * SLOTS;
    counts = calloc(cells, sizeof *counts);
    seen = calloc(cells, sizeof *seen);
    if (!counts || !seen) die("calloc");

    int ep = epoll_create1(0);
    if (ep < 0) die("epoll_create1");
    int timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    struct itimerspec every_ms = {.it_interval = {0, 1000000}, .it_value = {0, 1000000}};
    if (timer < 0 || timerfd_settime(timer, 0, &every_ms, NULL) < 0) die("timerfd");
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 0};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, timer, &ev) < 0) die("epoll_ctl timer");
    ev.data.u32 = 1;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, STDIN_FILENO, &ev) < 0) die("epoll_ctl stdin");
    int wake = has_flag(argc, argv, "--wake"); /* the receivers in epoll: every delivery wakes us */
    for (int i = 0; wake && i < n_receivers; i++) {
        ev.data.u32 = 2 + (uint32_t)i;
        if (epoll_ctl(ep, EPOLL_CTL_ADD, receivers[i].fd, &ev) < 0) die("epoll_ctl receiver");
    }
    uint64_t start = now_ns();
    realtime_offset_ns = realtime_ns() - (int64_t)start;
    for (int i = 0; i < n_streams; i++) { /* staggered phases, spread evenly */
        uint64_t period = streams[i].kind == AUDIO ? AUDIO_PERIOD_NS : VIDEO_PERIOD_NS;
        streams[i].next_ns = start + period * (uint64_t)i / (uint64_t)(n_streams ? n_streams : 1);
    }
    printf("started %d streams %d receivers\n", n_streams, n_receivers);
    fflush(stdout);

    struct epoll_event events[64];
    char command[64];
    while (!stopping) {
        int n = epoll_wait(ep, events, 64, 100);
        for (int i = 0; i < n; i++) {
            uint32_t what = events[i].data.u32;
            if (what == 0) {
                uint64_t expirations;
                if (read(timer, &expirations, sizeof expirations) <= 0) continue;
                realtime_offset_ns = realtime_ns() - (int64_t)now_ns();
                on_tick();
                for (int slot = 0; !wake && slot < n_receivers; slot++) on_readable(slot);
            } else if (what == 1) {
                ssize_t got = read(STDIN_FILENO, command, sizeof command - 1);
                if (got <= 0) return 0; /* the driver is gone */
                command[got] = 0;
                if (strstr(command, "pause")) paused = 1;
                if (strstr(command, "stats")) print_stats();
            } else {
                on_readable((int)(what - 2));
            }
        }
    }
    return 0;
}
