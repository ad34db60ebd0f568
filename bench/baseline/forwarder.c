/* The physical-limit baseline: a minimal RTP fan-out forwarder, recvmmsg -> fan-out -> sendmmsg.
 *
 *   forwarder --source PORT --dest PORT,PORT,... [--port 0] [--max-seconds 60]
 *
 * One UDP socket on 127.0.0.1. It drains the socket in batches of BATCH datagrams; each datagram must
 * come from 127.0.0.1:--source, be RTP version 2 with a complete header and carry INPUT_SSRC (the one
 * producer), else it is dropped and counted. For each destination (a consumer) it writes a rewritten
 * 12-byte fixed header (the consumer's own SSRC, sequence and timestamp offsets) and sends that header
 * plus the unchanged rest of the datagram (CSRCs, extensions, payload: gathered from the receive
 * buffer, not copied) with sendmmsg, up to UIO_MAXIOV messages per call.
 *
 * Prints "port N" once bound, and its counters as one JSON line on exit.
 */
#include "common.h"

#include <poll.h>
#include <sys/uio.h>

#define BATCH 64            /* datagrams per recvmmsg, like the engine's BATCH_SIZE */
#define MAX_DATAGRAM 1500
#define MAX_OUT 1024        /* messages per sendmmsg (UIO_MAXIOV) */
#define MAX_DESTS 1024

struct consumer {
    struct sockaddr_in addr;
    uint32_t ssrc;
    uint16_t seq_offset;
    uint32_t ts_offset;
};

static struct consumer consumers[MAX_DESTS];
static int n_consumers;

static uint8_t in_buf[BATCH][MAX_DATAGRAM];
static struct iovec in_iov[BATCH];
static struct mmsghdr in_msg[BATCH];
static struct sockaddr_in in_addr[BATCH];

static uint8_t out_hdr[MAX_OUT][12];
static struct iovec out_iov[MAX_OUT][2];
static struct mmsghdr out_msg[MAX_OUT];
static int n_out;

static uint64_t received, forwarded, send_failed, dropped_source, dropped_parse, dropped_ssrc, batches;

static void flush(int fd) {
    int done = 0;
    while (done < n_out) {
        int r = sendmmsg(fd, out_msg + done, n_out - done, 0);
        if (r > 0) {
            forwarded += r;
            done += r;
        } else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            poll(&p, 1, 10);
            if (stopping) break;
        } else {
            send_failed++; /* the first message is refused: skip it */
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

static void forward(int fd, const uint8_t *p, size_t len) {
    uint16_t seq = get_be16(p + 2);
    uint32_t ts = get_be32(p + 4);
    for (int c = 0; c < n_consumers; c++) {
        const struct consumer *k = &consumers[c];
        uint8_t *h = out_hdr[n_out];
        h[0] = p[0];
        h[1] = p[1];
        put_be16(h + 2, (uint16_t)(seq + k->seq_offset));
        put_be32(h + 4, ts + k->ts_offset);
        put_be32(h + 8, k->ssrc);
        out_iov[n_out][0] = (struct iovec){.iov_base = h, .iov_len = 12};
        out_iov[n_out][1] = (struct iovec){.iov_base = (void *)(p + 12), .iov_len = len - 12};
        struct msghdr *m = &out_msg[n_out].msg_hdr;
        m->msg_name = (void *)&k->addr;
        m->msg_namelen = sizeof k->addr;
        m->msg_iov = out_iov[n_out];
        m->msg_iovlen = 2;
        if (++n_out == MAX_OUT) flush(fd);
    }
}

int main(int argc, char **argv) {
    uint16_t source_port = (uint16_t)arg_long(argc, argv, "--source", 0);
    const char *dests = arg_str(argc, argv, "--dest", NULL);
    if (!source_port || !dests) {
        fprintf(stderr, "usage: forwarder --source PORT --dest PORT,PORT,... [--port P] [--max-seconds S]\n");
        return 2;
    }
    bound_lifetime((unsigned)arg_long(argc, argv, "--max-seconds", 60));

    for (const char *s = dests; *s && n_consumers < MAX_DESTS;) {
        struct consumer *k = &consumers[n_consumers];
        k->addr = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)strtol(s, NULL, 10))};
        k->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        k->ssrc = 0x50000000u + (uint32_t)n_consumers;
        k->seq_offset = (uint16_t)(n_consumers * 7919);
        k->ts_offset = (uint32_t)n_consumers * 104729u;
        n_consumers++;
        const char *comma = strchr(s, ',');
        if (!comma) break;
        s = comma + 1;
    }

    int fd = udp_socket_bound((uint16_t)arg_long(argc, argv, "--port", 0), 0);
    for (int i = 0; i < BATCH; i++) {
        in_iov[i] = (struct iovec){.iov_base = in_buf[i], .iov_len = MAX_DATAGRAM};
        in_msg[i].msg_hdr = (struct msghdr){.msg_name = &in_addr[i], .msg_namelen = sizeof in_addr[i],
                                            .msg_iov = &in_iov[i], .msg_iovlen = 1};
    }
    printf("port %u\n", local_port(fd));
    fflush(stdout);

    uint32_t loopback = htonl(INADDR_LOOPBACK);
    uint16_t source = htons(source_port);
    while (!stopping) {
        int n = recvmmsg(fd, in_msg, BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0) {
            struct pollfd p = {.fd = fd, .events = POLLIN};
            poll(&p, 1, 100);
            continue;
        }
        batches++;
        received += n;
        for (int i = 0; i < n; i++) {
            const uint8_t *p = in_buf[i];
            size_t len = in_msg[i].msg_len;
            if (in_addr[i].sin_addr.s_addr != loopback || in_addr[i].sin_port != source) {
                dropped_source++;
            } else if (len > MAX_DATAGRAM || rtp_header_length(p, len) == 0) {
                dropped_parse++;
            } else if (get_be32(p + 8) != INPUT_SSRC) {
                dropped_ssrc++;
            } else {
                forward(fd, p, len);
            }
            in_msg[i].msg_hdr.msg_namelen = sizeof in_addr[i];
        }
        if (n_out) flush(fd);
    }
    printf("{\"received\": %lu, \"forwarded\": %lu, \"send_failed\": %lu, \"dropped_source\": %lu, "
           "\"dropped_parse\": %lu, \"dropped_ssrc\": %lu, \"batches\": %lu}\n",
           received, forwarded, send_failed, dropped_source, dropped_parse, dropped_ssrc, batches);
    return 0;
}
