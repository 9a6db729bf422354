/*
 * hash.h - the parallel page-hash engine.
 *
 * A pool of threads hashes lists of 4 KiB guest pages with XXH3-128,
 * mapping them in batches through the guest interface, and returns one
 * hash per page in input order. vsmr_hash_diff turns two such lists into
 * the divergent set.
 */
#ifndef VSMR_HASH_H
#define VSMR_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "vsmr/guest.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vsmr_pool vsmr_pool;

typedef struct vsmr_page_hash {
    uint64_t lo, hi;
} vsmr_page_hash;

#define VSMR_HASH_DEFAULT_BATCH 256u
#define VSMR_POOL_MAX_THREADS   256u

/* A pool of threads (the caller's thread counts as one). threads == 0:
 * one per online CPU. */
int vsmr_pool_new(unsigned threads, vsmr_pool **out);
void vsmr_pool_free(vsmr_pool *p);
unsigned vsmr_pool_threads(const vsmr_pool *p);

/*
 * Runs fn(ctx, first, count) over [0, n) in chunks of at most `chunk`
 * items on every thread of the pool, and returns when all are done. The
 * first failure (a negative return) stops the handing out of further
 * chunks and is returned, with its message, in the caller's thread.
 */
typedef int (*vsmr_pool_fn)(void *ctx, size_t first, size_t count);
int vsmr_pool_run(vsmr_pool *p, size_t n, size_t chunk, vsmr_pool_fn fn,
                  void *ctx);

/* Hashes pages pfns[0..n) of g into out[0..n). batch: pages mapped per
 * call to the guest's map (0: VSMR_HASH_DEFAULT_BATCH). n == 0 is fine. */
int vsmr_hash_pages(vsmr_pool *p, vsmr_guest *g, const uint64_t *pfns,
                    size_t n, size_t batch, vsmr_page_hash *out);

/* One page, on the calling thread. */
vsmr_page_hash vsmr_hash_page(const void *page);

/* Indices i where a[i] != b[i], written to idx (room for n), count to
 * *count. Returns 0. */
int vsmr_hash_diff(const vsmr_page_hash *a, const vsmr_page_hash *b,
                   size_t n, size_t *idx, size_t *count);

/* Frame numbers of the set bits of a dirty bitmap of `pages` bits, into
 * pfns (room for the population count); returns how many. */
size_t vsmr_bitmap_to_pfns(const uint64_t *bitmap, uint64_t pages,
                           uint64_t *pfns);
/* Population count of a bitmap of `pages` bits. */
uint64_t vsmr_bitmap_count(const uint64_t *bitmap, uint64_t pages);

#ifdef __cplusplus
}
#endif
#endif
