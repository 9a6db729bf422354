/*
 * xen_mappable.c - the gfns that have memory behind them, found by mapping
 * the whole gfn range in batches and reading the per-page errors. Slow
 * under emulation (seconds for a 128 MiB PVH guest's 1M frames), so the
 * result is kept for the handle's life (memory that ballooning adds or
 * takes later is not seen).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common/err.h"
#include "guest/xen/xen_guest.h"

#define BATCH 1024

static int scan(struct xen_guest *x, uint64_t *bm)
{
    xen_pfn_t arr[BATCH];
    int err[BATCH];
    uint64_t pages = x->base.pages;
    for (uint64_t first = 0; first < pages; first += BATCH) {
        size_t c = pages - first < BATCH ? pages - first : BATCH;
        for (size_t i = 0; i < c; i++)
            arr[i] = first + i;
        void *p = xenforeignmemory_map(x->fmem, x->domid, PROT_READ, c, arr,
                                       err);
        if (!p) {
            xc_dominfo_t info;
            int rc = xen_domain_info(x, &info);
            if (rc < 0)
                return rc;
            continue;           /* nothing in this batch maps */
        }
        for (size_t i = 0; i < c; i++)
            if (!err[i])
                bm[arr[i] / 64] |= UINT64_C(1) << (arr[i] % 64);
        xenforeignmemory_unmap(x->fmem, p, c);
    }
    return VSMR_OK;
}

int xen_mappable(vsmr_guest *g, uint64_t *bitmap, size_t nwords)
{
    struct xen_guest *x = xen_of(g);
    size_t words = (g->pages + 63) / 64;
    if (!x->mappable) {
        uint64_t *bm = calloc(words, sizeof *bm);
        if (!bm)
            return vsmr_fail(VSMR_ENOMEM, "domain %u: out of memory for its "
                             "mappable set", x->domid);
        int rc = scan(x, bm);
        if (rc < 0) {
            free(bm);
            return rc;
        }
        x->mappable = bm;
    }
    memcpy(bitmap, x->mappable, words * sizeof *bitmap);
    memset(bitmap + words, 0, (nwords - words) * sizeof *bitmap);
    return VSMR_OK;
}
