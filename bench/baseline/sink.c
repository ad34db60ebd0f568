/* The sink: N subscriber sockets that count what the forwarder under test sends them.
 *
 *   sink --sockets N --size BYTES --counters PATH [--max-seconds S]
 *
 * Binds N UDP sockets on 127.0.0.1:0 (4 MiB receive buffers) and prints "ports P1,P2,...". It drains
 * them with epoll + recvmmsg, reading only the first 12 bytes of each datagram (MSG_TRUNC still gives
 * its whole length), and counts datagrams and bytes in the counter page; a datagram that is not --size
 * bytes (any length with --size 0, e.g. SRTP), not RTP version 2, or still carries the publisher's SSRC
 * (not rewritten) counts as bad.
 */
#include "common.h"

#include <sys/epoll.h>
#include <sys/uio.h>

#define BATCH 256
#define MAX_SOCKETS 1024

static uint8_t hdr[BATCH][12];
static struct iovec iov[BATCH];
static struct mmsghdr msg[BATCH];

int main(int argc, char **argv) {
    long n = arg_long(argc, argv, "--sockets", 1);
    long size = arg_long(argc, argv, "--size", 1200);
    const char *path = arg_str(argc, argv, "--counters", NULL);
    if (!path || n < 1 || n > MAX_SOCKETS) {
        fprintf(stderr, "usage: sink --sockets N --size BYTES --counters PATH [--max-seconds S]\n");
        return 2;
    }
    bound_lifetime((unsigned)arg_long(argc, argv, "--max-seconds", 60));
    struct counters *c = map_counters(path);

    int ep = epoll_create1(0);
    if (ep < 0) die("epoll_create1");
    printf("ports ");
    for (long i = 0; i < n; i++) {
        int fd = udp_socket_bound(0, 4 << 20);
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
        printf(i ? ",%u" : "%u", local_port(fd));
    }
    printf("\n");
    fflush(stdout);

    for (int i = 0; i < BATCH; i++) {
        iov[i] = (struct iovec){.iov_base = hdr[i], .iov_len = 12};
        msg[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i], .msg_iovlen = 1};
    }
    uint64_t packets = 0, bytes = 0, bad = 0;
    struct epoll_event events[64];
    while (!stopping) {
        int ready = epoll_wait(ep, events, 64, 100);
        for (int e = 0; e < ready; e++) {
            int r = recvmmsg(events[e].data.fd, msg, BATCH, MSG_DONTWAIT | MSG_TRUNC, NULL);
            if (r <= 0) continue;
            for (int i = 0; i < r; i++) {
                unsigned len = msg[i].msg_len;
                bytes += len;
                if ((size && len != (unsigned)size) || (hdr[i][0] >> 6) != 2 || get_be32(hdr[i] + 8) == INPUT_SSRC) bad++;
            }
            packets += (uint64_t)r;
            STORE(c->sink_bytes, bytes);
            STORE(c->sink_bad, bad);
            STORE(c->sink_packets, packets);
        }
    }
    return 0;
}
