/* The load generator: one RTP publisher sending as fast as the forwarder under test can forward.
 *
 *   loadgen --size BYTES --fanout N --counters PATH [--window W] [--burst B] [--max-seconds S]
 *           [--packets FILE]
 *
 * Binds 127.0.0.1:0 and prints "port N" (the forwarder must accept that source), then reads
 * "HOST PORT" (the forwarder) from stdin and sends RTP datagrams of --size bytes (SSRC INPUT_SSRC,
 * payload type 96, sequence +1 and timestamp +3000 per packet) with sendmmsg, --burst at most per call.
 * With --packets it sends the datagrams of FILE instead, in order and unchanged, starting over at its
 * end: records of a 2-byte big-endian length and that many bytes (e.g. SRTP packets protected in
 * advance, for a forwarder row with SRTP transports; make the file longer than the run, since packets
 * sent a second time are replays).
 *
 * Closed loop, so that neither the generator nor drops waste the CPU the forwarder needs: at most
 * --window input datagrams are in flight, where in flight = sent - (received by the sink / fanout).
 * When the window is full it sleeps 20 us at a time. If the sink makes no progress for 200 ms with a
 * full window, what is in flight is given up as lost (a "resync", counted in the counter page); what
 * arrives later after all is taken back, so the window never grows past --window.
 */
#include "common.h"

#include <sys/uio.h>

#define MAX_BURST 256
#define STALL_NS 200000000ull

static uint8_t buf[MAX_BURST][1500];
static struct iovec *records; /* --packets: each datagram of the file, borrowed from its contents */
static size_t n_records;

static void load_packets(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) die(path);
    if (fseek(f, 0, SEEK_END) < 0) die(path);
    long size = ftell(f);
    rewind(f);
    uint8_t *data = malloc((size_t)size + 1);
    if (!data || fread(data, 1, (size_t)size, f) != (size_t)size) die(path);
    fclose(f);
    size_t capacity = 0;
    for (long off = 0; off + 2 <= size;) {
        size_t len = get_be16(data + off);
        if (off + 2 + (long)len > size || len == 0 || len > 1500) {
            fprintf(stderr, "%s: bad record at byte %ld\n", path, off);
            exit(2);
        }
        if (n_records == capacity) {
            capacity = capacity ? 2 * capacity : 1024;
            records = realloc(records, capacity * sizeof *records);
            if (!records) die("realloc");
        }
        records[n_records++] = (struct iovec){.iov_base = data + off + 2, .iov_len = len};
        off += 2 + (long)len;
    }
    if (!n_records) {
        fprintf(stderr, "%s: no packets\n", path);
        exit(2);
    }
}
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
    const char *packets = arg_str(argc, argv, "--packets", NULL);
    if (packets) load_packets(packets);

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

    for (int i = 0; i < MAX_BURST; i++) {
        buf[i][0] = 0x80;
        buf[i][1] = 96;
        put_be32(buf[i] + 8, INPUT_SSRC);
        for (long j = 12; j < size; j++) buf[i][j] = (uint8_t)j;
        iov[i] = (struct iovec){.iov_base = buf[i], .iov_len = (size_t)size};
        msg[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i], .msg_iovlen = 1};
    }

    uint64_t sent = 0, lost = 0, resyncs = 0, errors = 0;
    size_t next_record = 0;
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
            if (n_records) {
                iov[i] = records[(next_record + (size_t)i) % n_records];
                continue;
            }
            put_be16(buf[i] + 2, seq++);
            put_be32(buf[i] + 4, ts);
            ts += 3000;
        }
        int r = sendmmsg(fd, msg, n, 0);
        if (r < 0) {
            STORE(c->gen_send_errors, ++errors); /* e.g. ECONNREFUSED before the forwarder listens */
            nanosleep(&nap, NULL);
            continue;
        }
        sent += (uint64_t)r;
        next_record += (size_t)r;
        STORE(c->gen_packets, sent);
    }
    return 0;
}
