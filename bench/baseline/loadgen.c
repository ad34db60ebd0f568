/* The load generator: one RTP publisher sending as fast as the forwarder under test can forward.
 *
 *   loadgen --size BYTES --fanout N --counters PATH [--window W] [--burst B] [--max-seconds S]
 *           [--srtp PROFILE --key HEX --libsrtp PATH] [--extensions 1]
 *
 * Binds 127.0.0.1:0 and prints "port N" (the forwarder must accept that source), then reads
 * "HOST PORT" (the forwarder) from stdin and sends RTP datagrams of --size bytes (SSRC INPUT_SSRC,
 * payload type 96, sequence +1 and timestamp +3000 per packet, byte j of the packet = j & 0xff from
 * byte 12 on) with sendmmsg, --burst at most per call. With --extensions 1 the packets carry the
 * header extensions a browser's video does (RFC 8285 one-byte form, 16 bytes of the --size: sdes:mid
 * "0" as id 4, abs-send-time as id 2, transport-cc as id 3), for the engine's rewrite benchmark.
 *
 * With --srtp it protects every packet just before sending it (SRTP, libsrtp profile PROFILE, master
 * key ‖ salt --key in hex), so the index only grows, however long the run: the forwarder's replay
 * window never sees a packet twice. libsrtp is the copy the engine uses, inside pylibsrtp's cffi
 * extension (--libsrtp: its path), reached with dlopen/dlsym (srtp_dl.h).
 *
 * Closed loop, so that neither the generator nor drops waste the CPU the forwarder needs: at most
 * --window input datagrams are in flight, where in flight = sent - (received by the sink / fanout).
 * When the window is full it sleeps 20 us at a time. If the sink makes no progress for 200 ms with a
 * full window, what is in flight is given up as lost (a "resync", counted in the counter page); what
 * arrives later after all is taken back, so the window never grows past --window.
 */
#include "common.h"

#include <sys/uio.h>

#include "srtp_dl.h"

#define MAX_BURST 256
#define STALL_NS 200000000ull

#define MAX_PACKET 1500

static uint8_t buf[MAX_BURST][MAX_PACKET + SRTP_MAX_TRAILER];
static uint8_t template[MAX_PACKET]; /* the payload every packet starts from (SRTP encrypts in place) */

static void *srtp_session;

static struct iovec iov[MAX_BURST];
static struct mmsghdr msg[MAX_BURST];

int main(int argc, char **argv) {
    long size = arg_long(argc, argv, "--size", 1200);
    long fanout = arg_long(argc, argv, "--fanout", 1);
    long window = arg_long(argc, argv, "--window", 64);
    long burst = arg_long(argc, argv, "--burst", 32);
    const char *path = arg_str(argc, argv, "--counters", NULL);
    if (!path || size < 12 || size > 1500 || fanout < 1 || window < 1 || burst < 1 || burst > MAX_BURST) {
        fprintf(stderr, "usage: loadgen --size 12..1500 --fanout N --counters PATH [--window W] [--burst B]\n");
        return 2;
    }
    bound_lifetime((unsigned)arg_long(argc, argv, "--max-seconds", 60));
    prctl(PR_SET_TIMERSLACK, 1000ul); /* 1 us: the 20 us sleeps stay short */
    struct counters *c = map_counters(path);
    long profile = arg_long(argc, argv, "--srtp", 0);
    if (profile) {
        const char *library = arg_str(argc, argv, "--libsrtp", NULL), *key = arg_str(argc, argv, "--key", NULL);
        if (!library || !key) {
            fprintf(stderr, "loadgen: --srtp needs --libsrtp PATH and --key HEX\n");
            return 2;
        }
        srtp_dl_load(library);
        srtp_session = srtp_dl_session((int)profile, key, SSRC_ANY_OUTBOUND);
    }

    int fd = udp_socket_bound(0, 0);
    printf("port %u\n", local_port(fd));
    fflush(stdout);

    char host[64];
    unsigned port;
    if (scanf("%63s %u", host, &port) != 2) return 0; /* harness gone before starting us */
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &dst.sin_addr) != 1) die("inet_pton");
    if (connect(fd, (struct sockaddr *)&dst, sizeof dst) < 0) die("connect");
    /* Blocking sends from here on: a full send buffer waits instead of spinning. */
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);

    template[0] = 0x80;
    template[1] = 96;
    put_be32(template + 8, INPUT_SSRC);
    for (long j = 12; j < size; j++) template[j] = (uint8_t)j;
    if (arg_long(argc, argv, "--extensions", 0) && size >= 28) {
        static const uint8_t block[16] = {0xBE, 0xDE, 0, 3, 0x40, '0', 0x22, 1, 2, 3, 0x31, 0, 9, 0, 0, 0};
        template[0] |= 0x10;
        memcpy(template + 12, block, sizeof block);
    }
    for (int i = 0; i < MAX_BURST; i++) {
        memcpy(buf[i], template, (size_t)size);
        iov[i] = (struct iovec){.iov_base = buf[i], .iov_len = (size_t)size};
        msg[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i], .msg_iovlen = 1};
    }

    uint64_t sent = 0, lost = 0, resyncs = 0, errors = 0;
    uint16_t seq = 0;
    uint32_t ts = 0;
    uint64_t last_seen = 0, last_progress = now_ns();
    struct timespec nap = {.tv_sec = 0, .tv_nsec = 20000};
    while (!stopping) {
        uint64_t seen = LOAD(c->sink_packets);
        int64_t in_flight = (int64_t)(sent - lost) - (int64_t)(seen / (uint64_t)fanout);
        if (in_flight < 0) { /* given up as lost but only late: take them back */
            lost -= (uint64_t)(-in_flight) < lost ? (uint64_t)(-in_flight) : lost;
            in_flight = 0;
        }
        long credit = window - in_flight;
        if (seen != last_seen) {
            last_seen = seen;
            last_progress = now_ns();
        }
        if (credit <= 0) {
            if (now_ns() - last_progress > STALL_NS) {
                lost += (uint64_t)in_flight;
                STORE(c->gen_resyncs, ++resyncs);
                last_progress = now_ns();
            } else {
                nanosleep(&nap, NULL);
            }
            continue;
        }
        int n = (int)(credit < burst ? credit : burst);
        for (int i = 0; i < n; i++) {
            put_be16(buf[i] + 2, seq++);
            put_be32(buf[i] + 4, ts);
            ts += 3000;
            if (srtp_session) {
                /* in place: the payload first goes back to plaintext. Packets a short sendmmsg left
                 * unsent are never sent: the next ones take new sequence numbers (a gap, not a replay) */
                int len = (int)size;
                memcpy(buf[i] + 12, template + 12, (size_t)size - 12);
                if (srtp_dl.protect(srtp_session, buf[i], &len)) {
                    fprintf(stderr, "loadgen: srtp_protect failed\n");
                    return 2;
                }
                iov[i].iov_len = (size_t)len;
            }
        }
        int r = sendmmsg(fd, msg, n, 0);
        if (r < 0) {
            STORE(c->gen_send_errors, ++errors); /* e.g. ECONNREFUSED before the forwarder listens */
            nanosleep(&nap, NULL);
            continue;
        }
        sent += (uint64_t)r;
        STORE(c->gen_packets, sent);
    }
    return 0;
}
