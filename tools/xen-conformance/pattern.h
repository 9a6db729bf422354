/*
 * pattern.h - the page pattern both the in-guest agent (tests/lab/guest/)
 * and the dom0 conformance tool compute: word i of a page filled with seed
 * s is mix(s, i). Header-only so the static guest program can include it.
 */
#ifndef VSMR_XC_PATTERN_H
#define VSMR_XC_PATTERN_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t pattern_word(uint64_t seed, uint64_t i)
{
    uint64_t z = seed * 0x9e3779b97f4a7c15ULL + i + 1;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline void pattern_fill(void *page, uint64_t seed)
{
    uint64_t *w = page;
    for (size_t i = 0; i < 4096 / 8; i++)
        w[i] = pattern_word(seed, i);
}

/* Index of the first word that differs from the pattern, or -1. */
static inline long pattern_check(const void *page, uint64_t seed)
{
    const uint64_t *w = page;
    for (size_t i = 0; i < 4096 / 8; i++)
        if (w[i] != pattern_word(seed, i))
            return (long)i;
    return -1;
}

#endif
