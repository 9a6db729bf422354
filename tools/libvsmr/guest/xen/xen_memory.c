/*
 * xen_memory.c - foreign mapping of guest frames by gfn (PVH/HVM), in
 * batches. A frame Xen cannot map (a hole in the gfn space: MMIO, special
 * ranges, ballooned-out memory) fails the whole call with VSMR_ENOENT naming
 * it, and nothing stays mapped; callers that scan may retry page by page.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common/err.h"
#include "guest/xen/xen_guest.h"

#define BATCH 1024u

struct xen_mapping {
    size_t nbatch;
    struct {
        void *addr;
        size_t n;
    } b[];
};

static void unmap_all(struct xen_guest *x, struct xen_mapping *m)
{
    for (size_t i = 0; i < m->nbatch; i++)
        if (m->b[i].addr)
            xenforeignmemory_unmap(x->fmem, m->b[i].addr, m->b[i].n);
    free(m);
}

int xen_map(vsmr_guest *g, const uint64_t *pfns, size_t n, int prot,
            void **pages, void **cookie)
{
    struct xen_guest *x = xen_of(g);
    size_t nbatch = (n + BATCH - 1) / BATCH;
    struct xen_mapping *m = calloc(1, sizeof *m + nbatch * sizeof m->b[0]);
    xen_pfn_t *arr = calloc(n < BATCH ? n : BATCH, sizeof *arr);
    int *err = calloc(n < BATCH ? n : BATCH, sizeof *err);
    int rc = VSMR_OK;
    if (!m || !arr || !err) {
        rc = vsmr_fail(VSMR_ENOMEM, "map: out of memory for %zu pages", n);
        goto out;
    }
    int mprot = PROT_READ | ((prot & VSMR_MAP_WRITE) ? PROT_WRITE : 0);
    for (size_t b = 0; b < nbatch; b++) {
        size_t first = b * BATCH;
        size_t cnt = n - first < BATCH ? n - first : BATCH;
        for (size_t i = 0; i < cnt; i++)
            arr[i] = (xen_pfn_t)pfns[first + i];
        void *addr = xenforeignmemory_map(x->fmem, x->domid, mprot, cnt, arr,
                                          err);
        if (!addr) {
            rc = vsmr_fail_errno(errno == ESRCH ? VSMR_ENOENT : VSMR_ESYS,
                                 "domain %u: mapping %zu pages failed",
                                 x->domid, cnt);
            goto out;
        }
        m->b[b].addr = addr;
        m->b[b].n = cnt;
        m->nbatch = b + 1;
        size_t bad = 0, first_bad = 0;
        for (size_t i = 0; i < cnt; i++)
            if (err[i] && bad++ == 0)
                first_bad = i;
        if (bad) {
            rc = vsmr_fail(VSMR_ENOENT, "domain %u: gfn 0x%llx has no "
                           "mappable memory (%s; %zu of the %zu pages in "
                           "this batch failed)", x->domid,
                           (unsigned long long)arr[first_bad],
                           strerror(-err[first_bad] > 0 ? -err[first_bad]
                                                        : err[first_bad]),
                           bad, cnt);
            goto out;
        }
        for (size_t i = 0; i < cnt; i++)
            pages[first + i] = (char *)addr + i * XC_PAGE_SIZE;
    }
    *cookie = m;
    m = NULL;
out:
    if (m)
        unmap_all(x, m);
    free(arr);
    free(err);
    return rc;
}

int xen_unmap(vsmr_guest *g, void *cookie, void **pages, size_t n)
{
    if (!cookie)
        return vsmr_fail(VSMR_EINVAL, "unmap: no mapping cookie");
    unmap_all(xen_of(g), cookie);
    for (size_t i = 0; i < n; i++)
        pages[i] = NULL;
    return VSMR_OK;
}
