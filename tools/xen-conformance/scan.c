/*
 * scan.c - hash guest pages via vsmr_guest_map in batches; a batch that
 * hits a hole is redone page by page so one hole does not hide the rest.
 */
#include <stdlib.h>
#include <string.h>

#include "scan.h"

#define BATCH 512

size_t bitmap_to_pfns(const uint64_t *bm, uint64_t npages, uint64_t **pfns)
{
    size_t n = 0;
    for (uint64_t w = 0; w < (npages + 63) / 64; w++)
        n += (size_t)__builtin_popcountll(bm[w]);
    *pfns = malloc((n ? n : 1) * sizeof **pfns);
    if (!*pfns)
        return 0;
    size_t k = 0;
    for (uint64_t w = 0; w < (npages + 63) / 64; w++)
        for (uint64_t b = bm[w]; b; b &= b - 1)
            (*pfns)[k++] = w * 64 + (uint64_t)__builtin_ctzll(b);
    return k;
}

static int hash_one_by_one(vsmr_guest *g, const uint64_t *pfns, size_t n,
                           XXH128_hash_t *hashes, size_t *holes)
{
    for (size_t i = 0; i < n; i++) {
        void *page, *cookie;
        int rc = vsmr_guest_map(g, &pfns[i], 1, VSMR_MAP_READ, &page, &cookie);
        if (rc == VSMR_ENOENT) {
            memset(&hashes[i], 0, sizeof hashes[i]);
            (*holes)++;
            continue;
        }
        if (rc < 0)
            return rc;
        hashes[i] = XXH3_128bits(page, VSMR_PAGE_SIZE);
        vsmr_guest_unmap(g, cookie, &page, 1);
    }
    return VSMR_OK;
}

int hash_pages(vsmr_guest *g, const uint64_t *pfns, size_t n,
               XXH128_hash_t *hashes, size_t *holes)
{
    void *pages[BATCH];
    *holes = 0;
    for (size_t first = 0; first < n; first += BATCH) {
        size_t cnt = n - first < BATCH ? n - first : BATCH;
        void *cookie;
        int rc = vsmr_guest_map(g, pfns + first, cnt, VSMR_MAP_READ, pages,
                                &cookie);
        if (rc == VSMR_ENOENT) {
            rc = hash_one_by_one(g, pfns + first, cnt, hashes + first, holes);
            if (rc < 0)
                return rc;
            continue;
        }
        if (rc < 0)
            return rc;
        for (size_t i = 0; i < cnt; i++)
            hashes[first + i] = XXH3_128bits(pages[i], VSMR_PAGE_SIZE);
        vsmr_guest_unmap(g, cookie, pages, cnt);
    }
    return VSMR_OK;
}
