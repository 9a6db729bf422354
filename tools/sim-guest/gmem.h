/*
 * gmem.h - the simulated guest's memory and its write barrier.
 *
 * Every store the guest makes into its memory goes through these helpers,
 * which mark the touched pages in the dirty bitmap after the store (so a
 * page cleared by a concurrent fetch is marked again: no write is missed).
 * This plays the role of Xen's log-dirty page faults.
 */
#ifndef SIMGUEST_GMEM_H
#define SIMGUEST_GMEM_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "guest/sim/sim_abi.h"

struct gmem {
    uint8_t *base;
    uint64_t pages;
    _Atomic uint64_t *dirty;
};

extern struct gmem gm;

static inline void gm_mark(const void *addr, size_t len)
{
    if (len == 0)
        return;
    uint64_t first = (uint64_t)((const uint8_t *)addr - gm.base) >> 12;
    uint64_t last = (uint64_t)((const uint8_t *)addr + len - 1 - gm.base) >> 12;
    for (uint64_t p = first; p <= last; p++) {
        uint64_t bit = 1ull << (p & 63);
        if (!(atomic_load_explicit(&gm.dirty[p >> 6], memory_order_relaxed) & bit))
            atomic_fetch_or_explicit(&gm.dirty[p >> 6], bit, memory_order_release);
    }
}

static inline void gm_copy(void *dst, const void *src, size_t len)
{
    memcpy(dst, src, len);
    gm_mark(dst, len);
}

static inline void gm_fill(void *dst, int byte, size_t len)
{
    memset(dst, byte, len);
    gm_mark(dst, len);
}

#define GM_SET(lvalue, value)                        \
    do {                                             \
        (lvalue) = (value);                          \
        gm_mark(&(lvalue), sizeof(lvalue));          \
    } while (0)

static inline void *gm_page(uint64_t pfn)
{
    return gm.base + (pfn << 12);
}

/* A spinlock living in guest memory: taking it dirties its page, as a
 * real guest's lock would. */
static inline void gm_lock(_Atomic uint32_t *l)
{
    uint32_t expect = 0;
    while (!atomic_compare_exchange_weak_explicit(l, &expect, 1,
            memory_order_acquire, memory_order_relaxed)) {
        expect = 0;
        __builtin_ia32_pause();
    }
    gm_mark((const void *)l, sizeof *l);
}

static inline void gm_unlock(_Atomic uint32_t *l)
{
    atomic_store_explicit(l, 0, memory_order_release);
}

#endif
