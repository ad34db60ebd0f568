/* The peer benchmark's media, compiled: every publisher's audio and video sent at meeting rates, and
 * what every subscriber receives counted and timed, over the UDP sockets of peer connections that
 * aiortc opened and keyed (real ICE and DTLS-SRTP; bench/peer_sfu/compiled_media.py drives this).
 *
 *   meeting_media --libsrtp PATH --profile N --relay PORT --video-bps B [--max-seconds S]
 *
 * Then on stdin, one line per stream and socket, and "start":
 *   send FD IP PORT SSRC PT KIND PUBLISHER KEYHEX   a published track: sent on FD (inherited from the
 *                                                   aiortc process) to the SFU's IP:PORT, protected
 *                                                   with the transport's outbound SRTP key
 *   recv FD RECEIVER KEYHEX                         a subscriber's socket: read here only
 *   start
 * and after "start", "stats" prints one JSON line of cumulative counters (see print_stats), "pause"
 * stops sending (receiving goes on, so what was sent can still arrive).
 *
 * Rates, as bench/peer_sfu/media.py's Python sender: audio AUDIO_SIZE-byte packets every 20 ms; video
 * 25 frames/s of B/8/25 bytes, each split into packets of at most MAX_PAYLOAD bytes sent as one burst
 * (marker on the last). Streams start at staggered phases within their period, as independent
 * encoders would. A 1 ms timerfd paces them; a tick more than one period late is counted and
 * skipped, never caught up in a burst.
 *
 * Payload: for video a one-byte VP8 descriptor (start of partition), then MAGIC, publisher (u32),
 * kind (u8: 0 audio, 1 video), the stream's packet counter (u64) and the send time (u64,
 * CLOCK_MONOTONIC ns), zero padding: the receiving side reads the one-way latency through the SFU
 * from it (same host, same clock).
 *
 * A subscriber socket carries more than RTP: STUN (consent checks), DTLS and SRTCP must still reach
 * aiortc, so everything that is not RTP is relayed whole to 127.0.0.1:--relay with a header (slot u32,
 * source IPv4 4 bytes, source port u16, all big-endian), and the Python side hands it to aioice as if
 * its own socket had read it. RTP is unprotected with the subscriber's inbound key and counted per
 * (receiver, publisher, kind).
 */
#include "common.h"

#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <sys/uio.h>

#include "srtp_dl.h"

#define MAX_STREAMS 4096
#define MAX_RECEIVERS 4096
#define MAX_PUBLISHERS 4096
#define BATCH 64
#define MAX_FRAME_PACKETS 64
#define AUDIO_SIZE 120
#define MAX_PAYLOAD 1100
#define FRAME_RATE 25
#define AUDIO_PERIOD_NS 20000000ull
#define VIDEO_PERIOD_NS (1000000000ull / FRAME_RATE)
#define LATENCY_BUCKET_NS 10000ull /* 10 us */
#define LATENCY_BUCKETS 10000      /* up to 100 ms; the last bucket holds the rest */
#define RELAY_HEADER 10

static const uint8_t MAGIC[4] = {'P', 'd', 'm', 'S'};
enum { AUDIO = 0, VIDEO = 1 };

struct stream {
    int fd;
    struct sockaddr_in to;
    uint32_t ssrc, timestamp;
    uint16_t seq;
    uint8_t payload_type, kind;
    uint32_t publisher;
    void *srtp;       /* owned here: outbound session */
    uint64_t next_ns; /* when the next packet (audio) or frame (video) is due */
    uint64_t sent, errors;
};

struct receiver {
    int fd;
    uint32_t index; /* the benchmark's participant index */
    void *srtp;     /* owned here: inbound session */
};

static struct stream streams[MAX_STREAMS];
static struct receiver receivers[MAX_RECEIVERS];
static int n_streams, n_receivers;
static uint32_t n_publishers; /* highest publisher index + 1 */
static uint64_t *counts;      /* [receiver slot][publisher][kind] */
static uint64_t latency[LATENCY_BUCKETS];
static uint64_t ticks, late, foreign, auth_failures, relayed, relay_errors;
static int frame_packets;
static int paused; /* "pause": stop sending, keep receiving (so what was sent can still arrive) */
static long frame_packet_size;

static uint8_t out[MAX_FRAME_PACKETS][1500 + SRTP_MAX_TRAILER];
static struct iovec out_iov[MAX_FRAME_PACKETS];
static struct mmsghdr out_msg[MAX_FRAME_PACKETS];

static uint8_t in[BATCH][2048 + RELAY_HEADER];
static struct iovec in_iov[BATCH];
static struct sockaddr_in in_from[BATCH];
static struct mmsghdr in_msg[BATCH];

static int relay_fd;
static struct sockaddr_in relay_to;

/* One RTP packet of `size` bytes (before the SRTP tag) of stream s into buffer p; returns its length. */
static int build_packet(struct stream *s, uint8_t *p, long size, int marker, uint64_t now) {
    memset(p, 0, (size_t)size);
    p[0] = 0x80;
    p[1] = (uint8_t)(s->payload_type | (marker ? 0x80 : 0));
    put_be16(p + 2, ++s->seq);
    put_be32(p + 4, s->timestamp);
    put_be32(p + 8, s->ssrc);
    uint8_t *body = p + 12;
    if (s->kind == VIDEO) *body++ = 0x10; /* VP8 payload descriptor: start of a partition */
    memcpy(body, MAGIC, 4);
    put_be32(body + 4, s->publisher);
    body[8] = s->kind;
    put_be32(body + 9, (uint32_t)(s->sent >> 32));
    put_be32(body + 13, (uint32_t)s->sent);
    put_be32(body + 17, (uint32_t)(now >> 32));
    put_be32(body + 21, (uint32_t)now);
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
        out_iov[0].iov_len = (size_t)build_packet(s, out[0], AUDIO_SIZE, 0, now);
        n = 1;
    } else {
        s->timestamp += 90000 / FRAME_RATE;
        for (int i = 0; i < frame_packets; i++)
            out_iov[i].iov_len = (size_t)build_packet(s, out[i], frame_packet_size, i == frame_packets - 1, now);
        n = frame_packets;
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

static void on_tick(void) {
    uint64_t now = now_ns();
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

static void count_rtp(struct receiver *r, int slot, uint8_t *p, int len, uint64_t now) {
    if (srtp_dl.unprotect(r->srtp, p, &len)) {
        auth_failures++;
        return;
    }
    int offset = 12 + 4 * (p[0] & 0x0f);
    if ((p[0] & 0x10) && len >= offset + 4) offset += 4 + 4 * get_be16(p + offset + 2);
    for (int at = offset; at <= offset + 8 && at + 25 <= len; at++) {
        if (memcmp(p + at, MAGIC, 4)) continue;
        uint32_t publisher = get_be32(p + at + 4);
        uint8_t kind = p[at + 8];
        uint64_t sent_ns = (uint64_t)get_be32(p + at + 17) << 32 | get_be32(p + at + 21);
        if (publisher >= n_publishers || kind > VIDEO) break;
        counts[((size_t)slot * n_publishers + publisher) * 2 + kind]++;
        uint64_t bucket = now > sent_ns ? (now - sent_ns) / LATENCY_BUCKET_NS : 0;
        latency[bucket < LATENCY_BUCKETS ? bucket : LATENCY_BUCKETS - 1]++;
        return;
    }
    foreign++;
}

static void on_readable(int slot) {
    struct receiver *r = &receivers[slot];
    for (;;) {
        int n = recvmmsg(r->fd, in_msg, BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0) return;
        uint64_t now = now_ns();
        for (int i = 0; i < n; i++) {
            uint8_t *p = in[i] + RELAY_HEADER;
            int len = (int)in_msg[i].msg_len;
            if (is_rtp(p, len)) {
                count_rtp(r, slot, p, len, now);
                continue;
            }
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
           "\"relayed\": %llu, \"relay_errors\": %llu, \"sent\": [",
           (unsigned long long)now_ns(), (unsigned long long)ticks, (unsigned long long)late,
           (unsigned long long)foreign, (unsigned long long)auth_failures, (unsigned long long)relayed,
           (unsigned long long)relay_errors);
    for (int i = 0; i < n_streams; i++) printf(i ? ", %llu" : "%llu", (unsigned long long)streams[i].sent);
    printf("], \"send_errors\": [");
    for (int i = 0; i < n_streams; i++) printf(i ? ", %llu" : "%llu", (unsigned long long)streams[i].errors);
    printf("], \"received\": [");
    int first = 1;
    for (int slot = 0; slot < n_receivers; slot++)
        for (uint32_t p = 0; p < n_publishers; p++)
            for (int k = 0; k < 2; k++) {
                uint64_t c = counts[((size_t)slot * n_publishers + p) * 2 + k];
                if (!c) continue;
                printf(first ? "[%u, %u, %d, %llu]" : ", [%u, %u, %d, %llu]", receivers[slot].index, p, k,
                       (unsigned long long)c);
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
        char ip[64], key[160];
        int fd, kind, payload_type;
        unsigned port, ssrc, index;
        if (strncmp(line, "start", 5) == 0) return;
        if (sscanf(line, "send %d %63s %u %u %d %d %u %159s", &fd, ip, &port, &ssrc, &payload_type, &kind, &index,
                   key) == 8) {
            if (n_streams == MAX_STREAMS || index >= MAX_PUBLISHERS || (kind != AUDIO && kind != VIDEO)) goto bad;
            struct stream *s = &streams[n_streams++];
            s->fd = fd;
            s->to = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
            if (inet_pton(AF_INET, ip, &s->to.sin_addr) != 1) goto bad;
            s->ssrc = ssrc;
            s->payload_type = (uint8_t)payload_type;
            s->kind = (uint8_t)kind;
            s->publisher = index;
            s->seq = (uint16_t)rand();
            s->timestamp = (uint32_t)rand();
            s->srtp = srtp_dl_session(profile, key, SSRC_ANY_OUTBOUND);
            int sndbuf = 4 << 20;
            setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf);
            if (index + 1 > n_publishers) n_publishers = index + 1;
        } else if (sscanf(line, "recv %d %u %159s", &fd, &index, key) == 3) {
            if (n_receivers == MAX_RECEIVERS) goto bad;
            struct receiver *r = &receivers[n_receivers++];
            r->fd = fd;
            r->index = index;
            r->srtp = srtp_dl_session(profile, key, SSRC_ANY_INBOUND);
            int rcvbuf = 4 << 20;
            setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
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
    long video_bps = arg_long(argc, argv, "--video-bps", 300000);
    if (!library || !profile || relay_port <= 0 || relay_port > 65535 || video_bps < 8 * FRAME_RATE) {
        fprintf(stderr, "usage: meeting_media --libsrtp PATH --profile N --relay PORT --video-bps B\n");
        return 2;
    }
    bound_lifetime((unsigned)arg_long(argc, argv, "--max-seconds", 600));
    srtp_dl_load(library);
    long frame = video_bps / 8 / FRAME_RATE;
    frame_packets = (int)((frame + MAX_PAYLOAD - 1) / MAX_PAYLOAD);
    if (frame_packets > MAX_FRAME_PACKETS) {
        fprintf(stderr, "meeting_media: --video-bps too high (more than %d packets a frame)\n", MAX_FRAME_PACKETS);
        return 2;
    }
    frame_packet_size = frame / frame_packets + 12;
    if (frame_packet_size < 12 + 1 + 25) frame_packet_size = 12 + 1 + 25;
    for (int i = 0; i < MAX_FRAME_PACKETS; i++) {
        out_iov[i].iov_base = out[i];
        out_msg[i].msg_hdr.msg_iov = &out_iov[i];
        out_msg[i].msg_hdr.msg_iovlen = 1;
    }
    for (int i = 0; i < BATCH; i++) {
        in_iov[i] = (struct iovec){.iov_base = in[i] + RELAY_HEADER, .iov_len = 2048};
        in_msg[i].msg_hdr = (struct msghdr){
            .msg_name = &in_from[i], .msg_namelen = sizeof in_from[i], .msg_iov = &in_iov[i], .msg_iovlen = 1};
    }
    relay_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (relay_fd < 0) die("socket");
    relay_to = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)relay_port)};
    relay_to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    read_setup(profile);
    counts = calloc((size_t)n_receivers * (n_publishers ? n_publishers : 1) * 2, sizeof *counts);
    if (!counts) die("calloc");

    int ep = epoll_create1(0);
    if (ep < 0) die("epoll_create1");
    int timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    struct itimerspec every_ms = {.it_interval = {0, 1000000}, .it_value = {0, 1000000}};
    if (timer < 0 || timerfd_settime(timer, 0, &every_ms, NULL) < 0) die("timerfd");
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 0};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, timer, &ev) < 0) die("epoll_ctl timer");
    ev.data.u32 = 1;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, STDIN_FILENO, &ev) < 0) die("epoll_ctl stdin");
    for (int i = 0; i < n_receivers; i++) {
        ev.data.u32 = 2 + (uint32_t)i;
        if (epoll_ctl(ep, EPOLL_CTL_ADD, receivers[i].fd, &ev) < 0) die("epoll_ctl receiver");
    }
    uint64_t start = now_ns();
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
                if (read(timer, &expirations, sizeof expirations) > 0) on_tick();
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
