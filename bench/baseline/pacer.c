/* The paced load generator: RTP from N publishers at a fixed total rate (open loop), each packet
 * stamped with its send time, for latency at a chosen load and for many meetings at once.
 *
 *   pacer --size BYTES --rate PPS --sources N --counters PATH [--frame K] [--max-seconds S]
 *
 * Binds N UDP sockets on 127.0.0.1:0 and prints "ports P1,P2,..." (publisher i sends from Pi), then
 * reads "HOST PORT" (the forwarder) from stdin and sends, every millisecond, the packets due by then
 * at --rate packets/s in total, round-robin over the publishers, K packets in a row from each (a
 * video frame's packets, sent back to back; default 1). Publisher i's packets carry SSRC
 * INPUT_SSRC + i, payload type 96, its own sequence (+1) and timestamp (+3000 a frame); bytes 12..19 of the
 * payload are the send time (CLOCK_MONOTONIC ns, big-endian) and byte j from 20 on is j & 0xff. A
 * tick that finds the generator more than 50 ms behind skips what it missed (counted as a resync)
 * instead of bursting. Unlike loadgen.c it never waits for the forwarder: the load is the rate.
 */
#include "common.h"

#include <sys/resource.h>

#define MAX_SOURCES 4096
#define BEHIND_NS 50000000ull

static int fds[MAX_SOURCES];
static uint16_t seqs[MAX_SOURCES];
static uint32_t timestamps[MAX_SOURCES];
static uint8_t packet[1500];

int main(int argc, char **argv) {
    long size = arg_long(argc, argv, "--size", 1200);
    long rate = arg_long(argc, argv, "--rate", 1000);
    long sources = arg_long(argc, argv, "--sources", 1);
    long frame = arg_long(argc, argv, "--frame", 1);
    const char *path = arg_str(argc, argv, "--counters", NULL);
    if (!path || size < 20 || size > 1500 || rate < 1 || sources < 1 || sources > MAX_SOURCES || frame < 1) {
        fprintf(stderr, "usage: pacer --size 20..1500 --rate PPS --sources N --counters PATH [--frame K]\n");
        return 2;
    }
    bound_lifetime((unsigned)arg_long(argc, argv, "--max-seconds", 60));
    prctl(PR_SET_TIMERSLACK, 1000ul);
    struct rlimit files;
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < (rlim_t)sources + 64) {
        files.rlim_cur = files.rlim_max;
        setrlimit(RLIMIT_NOFILE, &files);
    }
    struct counters *c = map_counters(path);
    printf("ports ");
    for (long i = 0; i < sources; i++) {
        fds[i] = udp_socket_bound(0, 0);
        printf(i ? ",%u" : "%u", local_port(fds[i]));
    }
    printf("\n");
    fflush(stdout);

    char host[64];
    unsigned port;
    if (scanf("%63s %u", host, &port) != 2) return 0;
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &dst.sin_addr) != 1) die("inet_pton");

    packet[0] = 0x80;
    packet[1] = 96;
    for (long j = 20; j < size; j++) packet[j] = (uint8_t)j;
    uint64_t sent = 0, errors = 0, resyncs = 0, due = 0;
    uint64_t start = now_ns();
    long next = 0, in_frame = 0;
    struct timespec tick = {.tv_sec = 0, .tv_nsec = 1000000};
    while (!stopping) {
        uint64_t now = now_ns();
        uint64_t should = (now - start) * (uint64_t)rate / 1000000000ull; /* packets due since start */
        if (should > due + (uint64_t)rate * BEHIND_NS / 1000000000ull) {
            STORE(c->gen_resyncs, ++resyncs);
            due = should; /* behind: skip, never burst */
        }
        for (; due < should; due++) {
            long i = next;
            if (in_frame == 0) timestamps[i] += 3000;
            if (++in_frame == frame) {
                in_frame = 0;
                next = (next + 1) % sources;
            }
            put_be16(packet + 2, ++seqs[i]);
            put_be32(packet + 4, timestamps[i]);
            put_be32(packet + 8, INPUT_SSRC + (uint32_t)i);
            uint64_t at = now_ns();
            put_be32(packet + 12, (uint32_t)(at >> 32));
            put_be32(packet + 16, (uint32_t)at);
            if (sendto(fds[i], packet, (size_t)size, 0, (struct sockaddr *)&dst, sizeof dst) < 0)
                STORE(c->gen_send_errors, ++errors);
            else
                STORE(c->gen_packets, ++sent);
        }
        nanosleep(&tick, NULL);
    }
    return 0;
}
