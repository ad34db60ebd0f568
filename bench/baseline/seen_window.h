/* Which packets of one stream a receiver has seen, by the sender's packet counter (meeting_media.c
 * writes it into every payload): the last SEEN_WINDOW counters, so that a retransmission of a packet
 * that was missing counts as a repair and a second copy as a duplicate. */
#ifndef PODIUM_BENCH_SEEN_WINDOW_H
#define PODIUM_BENCH_SEEN_WINDOW_H

#include <stdint.h>

#define SEEN_WINDOW 1024

struct seen { /* a receiver's view of one (publisher, slot): which counters arrived */
    uint64_t max;  /* highest counter + 1 (0: none yet) */
    uint64_t bits[SEEN_WINDOW / 64];
};

/* Marks `counter` seen in s; returns 0 for a new packet in order, 1 for a repair (an older one that
 * was missing), -1 for a duplicate. */
static int see(struct seen *s, uint64_t counter) {
    if (counter + 1 > s->max) {
        uint64_t from = counter >= SEEN_WINDOW && s->max < counter - SEEN_WINDOW ? counter - SEEN_WINDOW : s->max;
        for (uint64_t c = from; c < counter; c++) /* the skipped ones: unseen */
            s->bits[(c % SEEN_WINDOW) / 64] &= ~(1ull << (c % 64));
        s->max = counter + 1;
        s->bits[(counter % SEEN_WINDOW) / 64] |= 1ull << (counter % 64);
        return 0;
    }
    if (counter + SEEN_WINDOW < s->max) return -1; /* too old to tell: not counted */
    uint64_t bit = 1ull << (counter % 64), *word = &s->bits[(counter % SEEN_WINDOW) / 64];
    if (*word & bit) return -1;
    *word |= bit;
    return 1;
}

#endif
