/*
 * mappable.c - the gfns that both domains have memory behind: the
 * intersection of the two mappable sets the guest interface reports (each
 * found once by the backend; slow under emulation), before the first sync.
 */
#include <stdio.h>
#include <stdlib.h>

#include "statecopy.h"

int discover_mappable(struct sc *s)
{
    uint64_t *mb = calloc(s->nwords, sizeof *mb);
    s->gfns = malloc(s->pages * sizeof *s->gfns);
    s->mappable = calloc(s->nwords, sizeof *s->mappable);
    if (!mb || !s->gfns || !s->mappable) {
        free(mb);
        return -1;
    }
    if (vsmr_guest_mappable(s->a, s->mappable, s->nwords) < 0 ||
        vsmr_guest_mappable(s->b, mb, s->nwords) < 0) {
        printf("mappable: %s\n", vsmr_errmsg());
        free(mb);
        return -1;
    }
    size_t only_a = 0, only_b = 0;
    for (size_t w = 0; w < s->nwords; w++) {
        only_a += (size_t)__builtin_popcountll(s->mappable[w] & ~mb[w]);
        only_b += (size_t)__builtin_popcountll(mb[w] & ~s->mappable[w]);
        s->mappable[w] &= mb[w];
        for (uint64_t b = s->mappable[w]; b; b &= b - 1)
            s->gfns[s->ngfns++] = w * 64 + (uint64_t)__builtin_ctzll(b);
    }
    free(mb);
    printf("mappable: %zu gfns in both of %llu (only A %zu, only B %zu)\n",
           s->ngfns, (unsigned long long)s->pages, only_a, only_b);
    return s->ngfns ? 0 : -1;
}
