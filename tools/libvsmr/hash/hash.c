/*
 * hash.c - hashing guest pages in parallel (XXH3-128), comparing hash
 * lists, and turning dirty bitmaps into page lists.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "common/err.h"
#include "hash/xxh3_wide.h"
#include "vsmr/hash.h"

#define MAX_BATCH 4096u

struct hash_job {
    vsmr_guest *guest;
    const uint64_t *pfns;
    vsmr_page_hash *out;
};

static vsmr_page_hash hash_page_baseline(const void *page)
{
    XXH128_hash_t h = XXH3_128bits(page, VSMR_PAGE_SIZE);
    return (vsmr_page_hash){h.low64, h.high64};
}

typedef vsmr_page_hash (*page_hash_fn)(const void *page);

/* The widest variant this build and this CPU both have; VSMR_HASH=sse2 or
 * =avx2 caps it (sse2: libxxhash's own baseline code). */
static page_hash_fn pick_page_hash(void)
{
    const char *force = getenv("VSMR_HASH");
    if (force && !strcmp(force, "sse2"))
        return hash_page_baseline;
    __builtin_cpu_init();
    if (!(force && !strcmp(force, "avx2")) && vsmr_xxh3_have_avx512 &&
        __builtin_cpu_supports("avx512f"))
        return vsmr_xxh3_page_avx512;
    if (vsmr_xxh3_have_avx2 && __builtin_cpu_supports("avx2"))
        return vsmr_xxh3_page_avx2;
    return hash_page_baseline;
}

vsmr_page_hash vsmr_hash_page(const void *page)
{
    static _Atomic(page_hash_fn) chosen;
    page_hash_fn fn = atomic_load_explicit(&chosen, memory_order_relaxed);
    if (!fn) {
        fn = pick_page_hash();
        atomic_store_explicit(&chosen, fn, memory_order_relaxed);
    }
    return fn(page);
}

static int hash_batch(void *ctx, size_t first, size_t count)
{
    struct hash_job *job = ctx;
    void *pages[MAX_BATCH];
    void *cookie;
    int rc = vsmr_guest_map(job->guest, job->pfns + first, count,
                            VSMR_MAP_READ, pages, &cookie);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < count; i++)
        job->out[first + i] = vsmr_hash_page(pages[i]);
    return vsmr_guest_unmap(job->guest, cookie, pages, count);
}

int vsmr_hash_pages(vsmr_pool *p, vsmr_guest *g, const uint64_t *pfns,
                    size_t n, size_t batch, vsmr_page_hash *out)
{
    if (!p || !g || (n && (!pfns || !out)))
        return vsmr_fail(VSMR_EINVAL, "hash pages: missing pool, guest, "
                                      "page list or output");
    if (batch == 0)
        batch = VSMR_HASH_DEFAULT_BATCH;
    if (batch > MAX_BATCH)
        return vsmr_fail(VSMR_ERANGE, "hash pages: batch of %zu pages is "
                         "more than %u", batch, MAX_BATCH);
    struct hash_job job = {.guest = g, .pfns = pfns, .out = out};
    return vsmr_pool_run(p, n, batch, hash_batch, &job);
}

int vsmr_hash_diff(const vsmr_page_hash *a, const vsmr_page_hash *b,
                   size_t n, size_t *idx, size_t *count)
{
    if (!count || (n && (!a || !b || !idx)))
        return vsmr_fail(VSMR_EINVAL, "hash diff: missing argument");
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (a[i].lo != b[i].lo || a[i].hi != b[i].hi)
            idx[k++] = i;
    *count = k;
    return VSMR_OK;
}

size_t vsmr_bitmap_to_pfns(const uint64_t *bitmap, uint64_t pages,
                           uint64_t *pfns)
{
    size_t k = 0;
    for (uint64_t w = 0; w < (pages + 63) / 64; w++) {
        uint64_t bits = bitmap[w];
        while (bits) {
            uint64_t pfn = w * 64 + (uint64_t)__builtin_ctzll(bits);
            bits &= bits - 1;
            if (pfn < pages)
                pfns[k++] = pfn;
        }
    }
    return k;
}

uint64_t vsmr_bitmap_count(const uint64_t *bitmap, uint64_t pages)
{
    uint64_t c = 0;
    for (uint64_t w = 0; w < pages / 64; w++)
        c += (uint64_t)__builtin_popcountll(bitmap[w]);
    if (pages % 64)
        c += (uint64_t)__builtin_popcountll(bitmap[pages / 64] &
                                            ((1ull << (pages % 64)) - 1));
    return c;
}
