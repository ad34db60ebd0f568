/* What a subscriber sends back to an SFU, built in plain C for bench/baseline/meeting_media.c:
 * transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01,
 * RTPFB FMT 15) about the packets that arrived, and generic NACKs (RFC 4585, RTPFB FMT 1) for
 * sequence-number gaps, receiver reports (RFC 3550); and where an RTP packet carries its transport-
 * wide sequence number. Unprotected here; the caller SRTCP-protects and sends them.
 *
 * Transport-wide feedback as Chromium writes it, kept simple: only two-bit status vector chunks
 * (seven symbols each: 0 not received, 1 small delta, 2 large or negative delta), receive deltas in
 * 250 us units (one byte unsigned for a small delta, two bytes signed otherwise), each from the
 * previous arrival, the first from the reference time (64 ms units), zero padding to 32 bits. */
#ifndef PODIUM_BENCH_RTCP_FEEDBACK_H
#define PODIUM_BENCH_RTCP_FEEDBACK_H

#include <stdint.h>
#include <string.h>

#define TWCC_MAX_ARRIVALS 1024 /* a feedback reports at most this many sequence numbers */

struct twcc_arrival {
    int64_t seq;  /* unwrapped transport-wide sequence number */
    uint64_t ns;  /* arrival, CLOCK_MONOTONIC */
};

static inline void fb_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline uint16_t fb_get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline void fb_put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static void twcc_sort(struct twcc_arrival *a, int n) { /* insertion sort: a feedback holds few, mostly in order */
    for (int i = 1; i < n; i++) {
        struct twcc_arrival x = a[i];
        int j = i - 1;
        while (j >= 0 && a[j].seq > x.seq) { a[j + 1] = a[j]; j--; }
        a[j + 1] = x;
    }
}

/* One transport-cc feedback packet about `n` arrivals (sorted here; duplicates reported once) into
 * `out` (at least 20 + 3 * TWCC_MAX_ARRIVALS bytes); returns its length, 0 when there is nothing to
 * report. `count` is the feedback packet counter (8 bits used). */
static int twcc_build(uint8_t *out, uint32_t sender_ssrc, uint32_t media_ssrc, struct twcc_arrival *a, int n,
                      uint8_t count) {
    if (n <= 0) return 0;
    twcc_sort(a, n);
    int64_t base = a[0].seq, last = a[n - 1].seq;
    if (last - base + 1 > TWCC_MAX_ARRIVALS) base = last - TWCC_MAX_ARRIVALS + 1; /* the oldest are dropped */
    int statuses = (int)(last - base + 1);
    uint8_t symbol[TWCC_MAX_ARRIVALS];
    int16_t delta[TWCC_MAX_ARRIVALS];
    memset(symbol, 0, sizeof symbol);
    int first = 0;
    while (a[first].seq < base) first++;
    int64_t reference = (int64_t)(a[first].ns / 64000000ull); /* 64 ms units */
    int64_t previous_us = reference * 64000;
    for (int i = first; i < n; i++) {
        int k = (int)(a[i].seq - base);
        if (symbol[k]) continue; /* a duplicate */
        int64_t at_us = (int64_t)(a[i].ns / 1000);
        int64_t units = (at_us - previous_us) / 250;
        if (units < -32768) units = -32768;
        if (units > 32767) units = 32767;
        previous_us += units * 250;
        delta[k] = (int16_t)units;
        symbol[k] = units >= 0 && units <= 255 ? 1 : 2;
    }
    uint8_t *p = out + 20;
    for (int k = 0; k < statuses; k += 7) { /* two-bit status vector chunks */
        uint16_t chunk = 0xC000;
        for (int j = 0; j < 7; j++)
            if (k + j < statuses) chunk |= (uint16_t)(symbol[k + j] << (12 - 2 * j));
        fb_put16(p, chunk);
        p += 2;
    }
    for (int k = 0; k < statuses; k++) {
        if (symbol[k] == 1) *p++ = (uint8_t)delta[k];
        else if (symbol[k] == 2) { fb_put16(p, (uint16_t)delta[k]); p += 2; }
    }
    while ((p - out) % 4) *p++ = 0;
    int length = (int)(p - out);
    out[0] = 0x80 | 15;
    out[1] = 205;
    fb_put16(out + 2, (uint16_t)(length / 4 - 1));
    fb_put32(out + 4, sender_ssrc);
    fb_put32(out + 8, media_ssrc);
    fb_put16(out + 12, (uint16_t)base);
    fb_put16(out + 14, (uint16_t)statuses);
    out[16] = (uint8_t)(reference >> 16);
    out[17] = (uint8_t)(reference >> 8);
    out[18] = (uint8_t)reference;
    out[19] = count;
    return length;
}

/* A generic NACK asking `media_ssrc` for sequence numbers first .. first + missing - 1 (at most
 * 17 * 16 of them) into `out` (at least 12 + 4 * 16 bytes); returns its length. */
static int nack_build(uint8_t *out, uint32_t sender_ssrc, uint32_t media_ssrc, uint16_t first, int missing) {
    uint8_t *p = out + 12;
    if (missing > 17 * 16) missing = 17 * 16;
    for (int i = 0; i < missing;) {
        uint16_t pid = (uint16_t)(first + i), blp = 0;
        int j = 1;
        for (; j <= 16 && i + j < missing; j++) blp |= (uint16_t)(1u << (j - 1));
        fb_put16(p, pid);
        fb_put16(p + 2, blp);
        p += 4;
        i += j;
    }
    int length = (int)(p - out);
    out[0] = 0x80 | 1;
    out[1] = 205;
    fb_put16(out + 2, (uint16_t)(length / 4 - 1));
    fb_put32(out + 4, sender_ssrc);
    fb_put32(out + 8, media_ssrc);
    return length;
}

/* A receiver report (RFC 3550) with one report block about `ssrc`: no loss or jitter claimed, its
 * highest sequence number, LSR and DLSR (1/65536 s) for the sender's round-trip time. Into `out` (at
 * least 32 bytes); returns its length. */
static int report_build(uint8_t *out, uint32_t sender_ssrc, uint32_t ssrc, uint16_t max_seq, uint32_t lsr,
                        uint32_t dlsr) {
    memset(out, 0, 32);
    out[0] = 0x81;
    out[1] = 201;
    fb_put16(out + 2, 7);
    fb_put32(out + 4, sender_ssrc);
    fb_put32(out + 8, ssrc);
    fb_put32(out + 16, max_seq);
    fb_put32(out + 24, lsr);
    fb_put32(out + 28, dlsr);
    return 32;
}

/* The transport-wide sequence number in the packet's one-byte header extensions, or -1. */
static int twcc_seq(const uint8_t *p, int len, int id) {
    int offset = 12 + 4 * (p[0] & 0x0f);
    if (!id || !(p[0] & 0x10) || len < offset + 4 || fb_get16(p + offset) != 0xBEDE) return -1;
    int end = offset + 4 + 4 * fb_get16(p + offset + 2);
    if (end > len) return -1;
    for (int at = offset + 4; at < end;) {
        if (p[at] == 0) { at++; continue; } /* padding */
        int element = p[at] >> 4, size = (p[at] & 0x0f) + 1;
        if (element == 15) return -1;
        if (element == id && size == 2 && at + 3 <= end) return fb_get16(p + at + 1);
        at += 1 + size;
    }
    return -1;
}

#endif
