/*
 * mappable.c - finds the gfns that both domains have memory behind, by
 * mapping the whole gfn range in batches and reading the per-page errors.
 * Slow under emulation (seconds), so it runs once, before the first sync.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "statecopy.h"

#define BATCH 1024

int discover_mappable(struct sc *s)
{
    s->gfns = malloc(s->pages * sizeof *s->gfns);
    s->mappable = calloc((s->pages + 63) / 64, sizeof *s->mappable);
    if (!s->gfns || !s->mappable)
        return -1;
    xen_pfn_t arr[BATCH];
    int ea[BATCH], eb[BATCH];
    size_t only_a = 0, only_b = 0;
    for (uint64_t first = 0; first < s->pages; first += BATCH) {
        size_t c = s->pages - first < BATCH ? s->pages - first : BATCH;
        for (size_t i = 0; i < c; i++)
            arr[i] = first + i;
        void *pa = xenforeignmemory_map(s->fmem, s->da, PROT_READ, c, arr, ea);
        void *pb = xenforeignmemory_map(s->fmem, s->db, PROT_READ, c, arr, eb);
        for (size_t i = 0; i < c; i++) {
            bool a = pa && !ea[i], b = pb && !eb[i];
            if (a && b) {
                s->gfns[s->ngfns++] = arr[i];
                s->mappable[arr[i] / 64] |= 1ull << (arr[i] % 64);
            }
            else if (a)
                only_a++;
            else if (b)
                only_b++;
        }
        if (pa)
            xenforeignmemory_unmap(s->fmem, pa, c);
        if (pb)
            xenforeignmemory_unmap(s->fmem, pb, c);
    }
    printf("mappable: %zu gfns in both of %llu (only A %zu, only B %zu)\n",
           s->ngfns, (unsigned long long)s->pages, only_a, only_b);
    return s->ngfns ? 0 : -1;
}
