/* The physical-limit baseline: a minimal RTP fan-out forwarder, recvmmsg -> fan-out -> sendmmsg.
 *
 *   forwarder --source PORT[,PORT...] --dest PORT,PORT,... [--port 0] [--max-seconds 60] [--ipv6] [--epoll]
 *
 * One UDP socket on 127.0.0.1 (4 MiB buffers, like the engine's). It drains the socket in batches of BATCH datagrams; each datagram must
 * come from 127.0.0.1:--source, be RTP version 2 with a complete header and carry INPUT_SSRC (the one
 * producer), else it is dropped and counted. With several sources, each is a meeting of its own (as
 * bench/engine_forwarder.py makes them): source i's packets carry INPUT_SSRC + i and go to its share
 * of the destinations, split evenly in order, found by the source's port in a table. For each destination (a consumer) it writes a rewritten
 * 12-byte fixed header (the consumer's own SSRC, sequence and timestamp offsets) and sends that header
 * plus the unchanged rest of the datagram (CSRCs, extensions, payload: gathered from the receive
 * buffer, not copied) with sendmmsg, up to UIO_MAXIOV messages per call.
 *
 * --ipv6 and --epoll reproduce the engine's socket setup, to tell a gap that the kernel causes from one
 * the engine's code causes: --ipv6 uses a dual-stack AF_INET6 socket (IPv4-mapped addresses, as
 * Engine does); --epoll waits in epoll_wait on a socket that stays registered (as asyncio's add_reader
 * does) instead of a poll() made only when the socket is empty.
 *
 * --gso sends as the engine does by default (engine/gso.pxi), the naive way: each consumer's copies of
 * a receive batch, in order, as runs of equal-size datagrams (at most GSO_SEGMENTS, GSO_BYTES) of one
 * UDP GSO message each (UDP_SEGMENT), all of the batch's messages in sendmmsg calls. Without it, one
 * message per copy tops out near 300k copies/s on one core, a third of what the engine sends with GSO:
 * no baseline for the engine's latency at its own load (bench.engine_latency).
 *
 * Prints "port N" once bound, and its counters as one JSON line on exit.
 */
#include "common.h"

#include <netinet/udp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/uio.h>

#define BATCH 64            /* datagrams per recvmmsg, like the engine's BATCH_SIZE */
#define MAX_DATAGRAM 1500
#define MAX_OUT 1024        /* messages per sendmmsg (UIO_MAXIOV) */
#define MAX_DESTS 4096
#define MAX_SOURCES 4096
#define SOCKET_BUFFER_BYTES (4 << 20) /* receive and send buffers, as the engine asks for */

union address {
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
};

struct consumer {
    union address addr;
    uint32_t ssrc;
    uint16_t seq_offset;
    uint32_t ts_offset;
};

static struct consumer consumers[MAX_DESTS];
static int n_consumers;

/* the meetings: source i's port, and its consumers [first_consumer[i], first_consumer[i + 1]) */
static uint16_t source_ports[MAX_SOURCES];
static int first_consumer[MAX_SOURCES + 1];
static int n_sources;
static int16_t meeting_of_port[65536]; /* source port -> meeting, -1: none */

static uint8_t in_buf[BATCH][MAX_DATAGRAM];
static struct iovec in_iov[BATCH];
static struct mmsghdr in_msg[BATCH];
static union address in_addr[BATCH];
static int ipv6;            /* --ipv6: AF_INET6 socket, IPv4-mapped addresses */
static socklen_t addr_len;

static uint8_t out_hdr[MAX_OUT][12];
static struct iovec out_iov[MAX_OUT][2];
static struct mmsghdr out_msg[MAX_OUT];
static int n_out;

static uint64_t received, forwarded, send_failed, dropped_source, dropped_parse, dropped_ssrc, batches;

/* --gso: each consumer's copies of the batch, in order (header, payload borrowed from in_buf) */
#define GSO_SEGMENTS 64     /* the kernel's UDP_MAX_SEGMENTS */
#define GSO_BYTES 65000     /* one GSO message's UDP payload stays under 64 KiB */
static int gso;
static uint8_t copy_hdr[MAX_DESTS][BATCH][12];
static struct iovec copy_iov[MAX_DESTS][2 * BATCH];
static uint16_t copy_len[MAX_DESTS][BATCH];
static int copies[MAX_DESTS];
static int touched[MAX_DESTS]; /* consumers with copies queued in this batch, in first-copy order */
static int n_touched;
static uint64_t gso_control[MAX_OUT][3]; /* one UDP_SEGMENT cmsg per message: CMSG_SPACE(2) = 24 B */
static int msg_segments[MAX_OUT];        /* datagrams message i carries */
static uint64_t gso_messages;

static void flush(int fd) {
    int done = 0;
    while (done < n_out) {
        int r = sendmmsg(fd, out_msg + done, n_out - done, 0);
        if (r > 0) {
            if (gso)
                for (int i = done; i < done + r; i++) forwarded += (uint64_t)msg_segments[i];
            else
                forwarded += r;
            done += r;
        } else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            poll(&p, 1, 10);
            if (stopping) break;
        } else {
            send_failed += gso ? (uint64_t)msg_segments[done] : 1; /* the first message is refused: skip it */
            done++;
        }
    }
    n_out = 0;
}

/* RTP header length (fixed part, CSRCs, extension), or 0 when the datagram is not valid RTP. */
static size_t rtp_header_length(const uint8_t *p, size_t len) {
    if (len < 12 || (p[0] >> 6) != 2) return 0;
    size_t h = 12 + 4 * (size_t)(p[0] & 0x0f);
    if (p[0] & 0x10) {
        if (h + 4 > len) return 0;
        h += 4 + 4 * (size_t)get_be16(p + h + 2);
    }
    return h <= len ? h : 0;
}

static void write_header(uint8_t *h, const struct consumer *k, const uint8_t *p, uint16_t seq, uint32_t ts) {
    h[0] = p[0];
    h[1] = p[1];
    put_be16(h + 2, (uint16_t)(seq + k->seq_offset));
    put_be32(h + 4, ts + k->ts_offset);
    put_be32(h + 8, k->ssrc);
}

/* --gso: queues one copy per consumer of the meeting; flush_gso sends them after the batch */
static void forward_gso(int meeting, const uint8_t *p, size_t len) {
    uint16_t seq = get_be16(p + 2);
    uint32_t ts = get_be32(p + 4);
    for (int c = first_consumer[meeting]; c < first_consumer[meeting + 1]; c++) {
        if (copies[c] == 0) touched[n_touched++] = c;
        int k = copies[c]++;
        write_header(copy_hdr[c][k], &consumers[c], p, seq, ts);
        copy_iov[c][2 * k] = (struct iovec){.iov_base = copy_hdr[c][k], .iov_len = 12};
        copy_iov[c][2 * k + 1] = (struct iovec){.iov_base = (void *)(p + 12), .iov_len = len - 12};
        copy_len[c][k] = (uint16_t)len;
    }
}

static void queue_run(int fd, int c, int first, int count) {
    struct msghdr *m = &out_msg[n_out].msg_hdr;
    m->msg_name = (void *)&consumers[c].addr;
    m->msg_namelen = addr_len;
    m->msg_iov = &copy_iov[c][2 * first];
    m->msg_iovlen = (size_t)(2 * count);
    m->msg_control = NULL;
    m->msg_controllen = 0;
    if (count > 1) {
        m->msg_control = gso_control[n_out];
        m->msg_controllen = CMSG_SPACE(sizeof(uint16_t));
        struct cmsghdr *cm = CMSG_FIRSTHDR(m);
        cm->cmsg_level = SOL_UDP;
        cm->cmsg_type = UDP_SEGMENT;
        cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
        *(uint16_t *)CMSG_DATA(cm) = copy_len[c][first];
        gso_messages++;
    }
    msg_segments[n_out] = count;
    if (++n_out == MAX_OUT) flush(fd);
}

/* each consumer's copies as runs: equal sizes (a shorter one ends its run), GSO_SEGMENTS, GSO_BYTES */
static void flush_gso(int fd) {
    for (int t = 0; t < n_touched; t++) {
        int c = touched[t];
        int first = 0;
        while (first < copies[c]) {
            int count = 1;
            size_t bytes = copy_len[c][first];
            while (first + count < copies[c] && count < GSO_SEGMENTS && copy_len[c][first + count - 1] == copy_len[c][first]
                   && copy_len[c][first + count] <= copy_len[c][first] && bytes + copy_len[c][first + count] <= GSO_BYTES) {
                bytes += copy_len[c][first + count];
                count++;
            }
            queue_run(fd, c, first, count);
            first += count;
        }
        copies[c] = 0;
    }
    n_touched = 0;
    if (n_out) flush(fd);
}

static void forward(int fd, int meeting, const uint8_t *p, size_t len) {
    uint16_t seq = get_be16(p + 2);
    uint32_t ts = get_be32(p + 4);
    for (int c = first_consumer[meeting]; c < first_consumer[meeting + 1]; c++) {
        const struct consumer *k = &consumers[c];
        uint8_t *h = out_hdr[n_out];
        write_header(h, k, p, seq, ts);
        out_iov[n_out][0] = (struct iovec){.iov_base = h, .iov_len = 12};
        out_iov[n_out][1] = (struct iovec){.iov_base = (void *)(p + 12), .iov_len = len - 12};
        struct msghdr *m = &out_msg[n_out].msg_hdr;
        m->msg_name = (void *)&k->addr;
        m->msg_namelen = addr_len;
        m->msg_iov = out_iov[n_out];
        m->msg_iovlen = 2;
        if (++n_out == MAX_OUT) flush(fd);
    }
}

static union address loopback_address(uint16_t port) {
    union address a;
    memset(&a, 0, sizeof a);
    if (ipv6) {
        a.v6.sin6_family = AF_INET6;
        a.v6.sin6_port = htons(port);
        inet_pton(AF_INET6, "::ffff:127.0.0.1", &a.v6.sin6_addr);
    } else {
        a.v4.sin_family = AF_INET;
        a.v4.sin_port = htons(port);
        a.v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    }
    return a;
}

static int open_socket(uint16_t port) {
    if (!ipv6) return udp_socket_bound(port, SOCKET_BUFFER_BYTES);
    int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (fd < 0) die("socket");
    int off = 0, size = SOCKET_BUFFER_BYTES;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    union address a = loopback_address(port);
    if (bind(fd, (struct sockaddr *)&a.v6, sizeof a.v6) < 0) die("bind");
    return fd;
}

static uint16_t bound_port(int fd) {
    union address a;
    socklen_t len = sizeof a;
    if (getsockname(fd, (struct sockaddr *)&a, &len) < 0) die("getsockname");
    return ntohs(ipv6 ? a.v6.sin6_port : a.v4.sin_port);
}

/* "P1,P2,..." into out (at most max); returns how many */
static int port_list(const char *s, uint16_t *out, int max) {
    int n = 0;
    while (s && *s && n < max) {
        out[n++] = (uint16_t)strtol(s, NULL, 10);
        s = strchr(s, ',');
        if (s) s++;
    }
    return n;
}

/* the source a datagram came from (127.0.0.1 and one of the sources' ports), or -1 */
static int meeting_of(const union address *a, socklen_t len) {
    if (len != addr_len) return -1;
    uint16_t port;
    if (ipv6) {
        static const uint8_t mapped_loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};
        if (a->v6.sin6_family != AF_INET6 || memcmp(&a->v6.sin6_addr, mapped_loopback, 16) != 0) return -1;
        port = ntohs(a->v6.sin6_port);
    } else {
        if (a->v4.sin_family != AF_INET || a->v4.sin_addr.s_addr != htonl(INADDR_LOOPBACK)) return -1;
        port = ntohs(a->v4.sin_port);
    }
    return meeting_of_port[port];
}

int main(int argc, char **argv) {
    n_sources = port_list(arg_str(argc, argv, "--source", NULL), source_ports, MAX_SOURCES);
    const char *dests = arg_str(argc, argv, "--dest", NULL);
    if (!n_sources || !dests) {
        fprintf(stderr, "usage: forwarder --source PORT[,PORT...] --dest PORT,PORT,... [--port P] [--max-seconds S]\n");
        return 2;
    }
    bound_lifetime((unsigned)arg_long(argc, argv, "--max-seconds", 60));
    ipv6 = has_flag(argc, argv, "--ipv6");
    gso = has_flag(argc, argv, "--gso");
    addr_len = ipv6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);

    for (const char *s = dests; *s && n_consumers < MAX_DESTS;) {
        struct consumer *k = &consumers[n_consumers];
        k->addr = loopback_address((uint16_t)strtol(s, NULL, 10));
        k->ssrc = 0x50000000u + (uint32_t)n_consumers;
        k->seq_offset = (uint16_t)(n_consumers * 7919);
        k->ts_offset = (uint32_t)n_consumers * 104729u;
        n_consumers++;
        const char *comma = strchr(s, ',');
        if (!comma) break;
        s = comma + 1;
    }
    if (n_consumers < n_sources) {
        fprintf(stderr, "forwarder: fewer destinations than sources\n");
        return 2;
    }
    memset(meeting_of_port, 0xff, sizeof meeting_of_port);
    for (int i = 0; i < n_sources; i++) {
        meeting_of_port[source_ports[i]] = (int16_t)i;
        first_consumer[i] = i * (n_consumers / n_sources);
    }
    first_consumer[n_sources] = n_sources * (n_consumers / n_sources);

    int fd = open_socket((uint16_t)arg_long(argc, argv, "--port", 0));
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &(int){SOCKET_BUFFER_BYTES}, sizeof(int)) < 0) die("SO_SNDBUF");
    for (int i = 0; i < BATCH; i++) {
        in_iov[i] = (struct iovec){.iov_base = in_buf[i], .iov_len = MAX_DATAGRAM};
        in_msg[i].msg_hdr = (struct msghdr){.msg_name = &in_addr[i], .msg_namelen = addr_len,
                                            .msg_iov = &in_iov[i], .msg_iovlen = 1};
    }
    int ep = -1;
    if (has_flag(argc, argv, "--epoll")) {
        ep = epoll_create1(0);
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
        if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll");
    }
    printf("port %u\n", bound_port(fd));
    fflush(stdout);

    while (!stopping) {
        int n = recvmmsg(fd, in_msg, BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0) {
            if (ep >= 0) {
                struct epoll_event ev;
                epoll_wait(ep, &ev, 1, 100);
            } else {
                struct pollfd p = {.fd = fd, .events = POLLIN};
                poll(&p, 1, 100);
            }
            continue;
        }
        batches++;
        received += n;
        for (int i = 0; i < n; i++) {
            const uint8_t *p = in_buf[i];
            size_t len = in_msg[i].msg_len;
            int meeting = meeting_of(&in_addr[i], in_msg[i].msg_hdr.msg_namelen);
            if (meeting < 0) {
                dropped_source++;
            } else if (len > MAX_DATAGRAM || rtp_header_length(p, len) == 0) {
                dropped_parse++;
            } else if (get_be32(p + 8) != INPUT_SSRC + (uint32_t)meeting) {
                dropped_ssrc++;
            } else if (gso) {
                forward_gso(meeting, p, len);
            } else {
                forward(fd, meeting, p, len);
            }
            in_msg[i].msg_hdr.msg_namelen = addr_len;
        }
        if (gso)
            flush_gso(fd);
        else if (n_out)
            flush(fd);
    }
    printf("{\"received\": %lu, \"forwarded\": %lu, \"send_failed\": %lu, \"dropped_source\": %lu, "
           "\"dropped_parse\": %lu, \"dropped_ssrc\": %lu, \"batches\": %lu, \"gso_messages\": %lu}\n",
           received, forwarded, send_failed, dropped_source, dropped_parse, dropped_ssrc, batches, gso_messages);
    return 0;
}
