/* The sink: N subscriber sockets that count what the forwarder under test sends them.
 *
 *   sink --sockets N --size BYTES --counters PATH [--max-seconds S] [--dump PATH --dump-count K]
 *        [--latency PATH]
 *
 * Binds N UDP sockets on 127.0.0.1:0 (4 MiB receive buffers) and prints "ports P1,P2,...". It drains
 * them with epoll + recvmmsg, reading only the first HEAD bytes of each datagram (MSG_TRUNC still gives
 * its whole length), and counts datagrams and bytes in the counter page; a datagram that is not --size
 * bytes (any length with --size 0, e.g. SRTP), not RTP version 2, or still carries the publisher's SSRC
 * (not rewritten) counts as bad.
 *
 * --dump: the first K datagrams of each of the first DUMP_SOCKETS sockets are read whole and appended
 * to PATH as records (2-byte big-endian socket index, 2-byte length, the datagram), e.g. for the
 * benchmark to check that SRTP copies decrypt under each subscriber's key (bench/srtp.py). Those are
 * counted like the others.
 *
 * --latency: from the first SIGUSR1 on (the measured window's start), the send time in payload bytes
 * 12..19 of every datagram (pacer.c) gives its one-way latency, kept in a histogram of 10 us buckets up
 * to 100 ms (the last holds the rest), written to PATH on exit as LATENCY_BUCKETS little-endian u64.
 * A datagram's arrival is the kernel's receive timestamp (SO_TIMESTAMPNS): when the forwarder's send
 * put it in the socket (on loopback, within that send), not when this process, sharing the machine's
 * cores with the forwarder and the pacer, got round to reading it.
 */
#include "common.h"

#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/uio.h>

#define BATCH 256
#define MAX_SOCKETS 4096
#define HEAD 20 /* RTP header and pacer.c's send time */
#define LATENCY_BUCKET_NS 10000ull
#define LATENCY_BUCKETS 10000

#define DUMP_SOCKETS 64

static uint8_t hdr[BATCH][HEAD];
static uint64_t latency[LATENCY_BUCKETS];
static volatile sig_atomic_t timing = 0; /* --latency: set by SIGUSR1 */

static void on_start_timing(int signo) { (void)signo; timing = 1; }
static struct iovec iov[BATCH];
static struct mmsghdr msg[BATCH];
static uint8_t control[BATCH][CMSG_SPACE(sizeof(struct timespec))]; /* --latency: receive timestamps */
static uint8_t whole[BATCH][2048];       /* --dump: datagrams read whole */
static struct iovec whole_iov[BATCH];
static struct mmsghdr whole_msg[BATCH];
static long dumped[DUMP_SOCKETS];        /* --dump: records written per socket */

int main(int argc, char **argv) {
    long n = arg_long(argc, argv, "--sockets", 1);
    long size = arg_long(argc, argv, "--size", 1200);
    const char *path = arg_str(argc, argv, "--counters", NULL);
    const char *dump_path = arg_str(argc, argv, "--dump", NULL);
    long dump_count = dump_path ? arg_long(argc, argv, "--dump-count", 4) : 0;
    if (!path || n < 1 || n > MAX_SOCKETS || dump_count < 0 || dump_count > BATCH) {
        fprintf(stderr, "usage: sink --sockets N --size BYTES --counters PATH [--max-seconds S]\n");
        return 2;
    }
    bound_lifetime((unsigned)arg_long(argc, argv, "--max-seconds", 60));
    struct counters *c = map_counters(path);
    const char *latency_path = arg_str(argc, argv, "--latency", NULL);
    struct sigaction start_timing;
    memset(&start_timing, 0, sizeof start_timing);
    start_timing.sa_handler = on_start_timing;
    sigaction(SIGUSR1, &start_timing, NULL);
    struct rlimit files;
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < (rlim_t)n + 64) {
        files.rlim_cur = files.rlim_max;
        setrlimit(RLIMIT_NOFILE, &files);
    }

    int ep = epoll_create1(0);
    if (ep < 0) die("epoll_create1");
    printf("ports ");
    for (long i = 0; i < n; i++) {
        int fd = udp_socket_bound(0, 4 << 20);
        if (latency_path && setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &(int){1}, sizeof(int)) < 0)
            die("SO_TIMESTAMPNS");
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)i << 32 | (uint32_t)fd};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
        printf(i ? ",%u" : "%u", local_port(fd));
    }
    printf("\n");
    fflush(stdout);

    FILE *dump = NULL;
    if (dump_path && dump_count && !(dump = fopen(dump_path, "wb"))) die(dump_path);
    long to_dump = dump ? dump_count * (n < DUMP_SOCKETS ? n : DUMP_SOCKETS) : 0;
    for (int i = 0; i < BATCH; i++) {
        iov[i] = (struct iovec){.iov_base = hdr[i], .iov_len = HEAD};
        msg[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i], .msg_iovlen = 1, .msg_control = control[i]};
        whole_iov[i] = (struct iovec){.iov_base = whole[i], .iov_len = sizeof whole[i]};
        whole_msg[i].msg_hdr = (struct msghdr){.msg_iov = &whole_iov[i], .msg_iovlen = 1, .msg_control = control[i]};
    }
    uint64_t packets = 0, bytes = 0, bad = 0;
    struct epoll_event events[64];
    while (!stopping) {
        int ready = epoll_wait(ep, events, 64, 100);
        for (int e = 0; e < ready; e++) {
            int fd = (int)(uint32_t)events[e].data.u64;
            long index = (long)(events[e].data.u64 >> 32);
            long want = to_dump && index < DUMP_SOCKETS ? dump_count - dumped[index] : 0;
            struct mmsghdr *m = want > 0 ? whole_msg : msg;
            unsigned count = want > 0 ? (unsigned)want : BATCH;
            for (unsigned i = 0; i < count; i++) m[i].msg_hdr.msg_controllen = latency_path ? sizeof control[i] : 0;
            int r = recvmmsg(fd, m, count, MSG_DONTWAIT | MSG_TRUNC, NULL);
            if (r <= 0) continue;
            uint64_t read_at = timing ? now_ns() : 0;
            int64_t offset = timing ? realtime_ns() - (int64_t)read_at : 0;
            for (int i = 0; i < r; i++) {
                unsigned len = m[i].msg_len;
                const uint8_t *h = want > 0 ? whole[i] : hdr[i];
                bytes += len;
                if ((size && len != (unsigned)size) || (h[0] >> 6) != 2 || get_be32(h + 8) == INPUT_SSRC) bad++;
                if (timing && len >= HEAD) {
                    uint64_t sent = (uint64_t)get_be32(h + 12) << 32 | get_be32(h + 16);
                    uint64_t now = kernel_arrival_ns(&m[i].msg_hdr, offset, read_at);
                    if (!now) now = read_at;
                    if (sent <= now) {
                        uint64_t bucket = (now - sent) / LATENCY_BUCKET_NS;
                        latency[bucket < LATENCY_BUCKETS ? bucket : LATENCY_BUCKETS - 1]++;
                    }
                }
                if (want > 0 && len <= sizeof whole[i]) {
                    uint8_t head[4];
                    put_be16(head, (uint16_t)index);
                    put_be16(head + 2, (uint16_t)len);
                    if (fwrite(head, 1, 4, dump) != 4 || fwrite(whole[i], 1, len, dump) != len) die(dump_path);
                    dumped[index]++;
                    to_dump--;
                }
            }
            if (want > 0) fflush(dump);
            packets += (uint64_t)r;
            STORE(c->sink_bytes, bytes);
            STORE(c->sink_bad, bad);
            STORE(c->sink_packets, packets);
        }
    }
    if (latency_path) {
        FILE *out = fopen(latency_path, "wb");
        if (!out || fwrite(latency, sizeof latency[0], LATENCY_BUCKETS, out) != LATENCY_BUCKETS) die(latency_path);
        fclose(out);
    }
    return 0;
}
