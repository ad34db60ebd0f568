/* Shared by the benchmark's C programs: clocks, lifetime, the shared counter page, argument parsing.
 *
 * Every program is bounded in time: it stops on SIGTERM/SIGINT, on its parent's death
 * (PR_SET_PDEATHSIG) and after --max-seconds at the latest.
 */
#ifndef PODIUM_BENCH_COMMON_H
#define PODIUM_BENCH_COMMON_H

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* The shared counter page (a file under /dev/shm): the sink writes what it received, the load
 * generator writes what it sent and reads the sink's count for its credit window, the harness reads
 * both. One cache line per writer. */
struct counters {
    volatile uint64_t sink_packets;   /* datagrams received by the sink, all sockets */
    volatile uint64_t sink_bytes;     /* their lengths */
    volatile uint64_t sink_bad;       /* wrong length, not RTP version 2, or SSRC not rewritten */
    uint8_t _pad0[64 - 3 * 8];
    volatile uint64_t gen_packets;    /* datagrams sent by the load generator */
    volatile uint64_t gen_resyncs;    /* credit windows given up as lost (see loadgen.c) */
    volatile uint64_t gen_send_errors;
    uint8_t _pad1[64 - 3 * 8];
};

#define INPUT_SSRC 1111u
#define STORE(field, value) __atomic_store_n(&(field), (value), __ATOMIC_RELAXED)
#define LOAD(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

static volatile sig_atomic_t stopping = 0;

static void on_stop(int signo) { (void)signo; stopping = 1; }

static inline uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* CLOCK_REALTIME in ns: the clock of the kernel's receive timestamps (SO_TIMESTAMPNS). */
static inline int64_t realtime_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* A datagram's arrival on CLOCK_MONOTONIC from the kernel's receive timestamp, when the socket has
 * SO_TIMESTAMPNS on and `m` was read with room for its control message: `offset_ns` is CLOCK_REALTIME
 * - CLOCK_MONOTONIC read near the receive, and the result is never after `read_at`, when it was read.
 * 0 when the message carries no timestamp. */
static inline uint64_t kernel_arrival_ns(struct msghdr *m, int64_t offset_ns, uint64_t read_at) {
    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS) continue;
        struct timespec ts;
        memcpy(&ts, CMSG_DATA(c), sizeof ts);
        int64_t at = (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec - offset_ns;
        return at > 0 && (uint64_t)at <= read_at ? (uint64_t)at : read_at;
    }
    return 0;
}

static inline void die(const char *what) {
    perror(what);
    exit(2);
}

/* Stops on SIGTERM, SIGINT, parent death and SIGALRM after max_seconds. */
static inline void bound_lifetime(unsigned max_seconds) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGALRM, &sa, NULL);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() == 1) exit(0); /* parent already gone */
    alarm(max_seconds);
}

static inline struct counters *map_counters(const char *path) {
    int fd = open(path, O_RDWR);
    if (fd < 0) die(path);
    struct counters *c = mmap(NULL, sizeof *c, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (c == MAP_FAILED) die("mmap");
    close(fd);
    return c;
}

static inline int udp_socket_bound(uint16_t port, int rcvbuf) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (fd < 0) die("socket");
    if (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
    return fd;
}

static inline uint16_t local_port(int fd) {
    struct sockaddr_in addr;
    socklen_t len = sizeof addr;
    if (getsockname(fd, (struct sockaddr *)&addr, &len) < 0) die("getsockname");
    return ntohs(addr.sin_port);
}

/* "--name value" lookup; returns fallback when absent. */
static inline const char *arg_str(int argc, char **argv, const char *name, const char *fallback) {
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0) return argv[i + 1];
    return fallback;
}

/* Whether the flag "--name" is on the command line. */
static inline int has_flag(int argc, char **argv, const char *name) {
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], name) == 0) return 1;
    return 0;
}

static inline long arg_long(int argc, char **argv, const char *name, long fallback) {
    const char *s = arg_str(argc, argv, name, NULL);
    return s ? strtol(s, NULL, 10) : fallback;
}

static inline void put_be16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v; }
static inline void put_be32(uint8_t *p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; }
static inline uint16_t get_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t get_be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

#endif
