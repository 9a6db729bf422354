/*
 * memory.c - the memory half of a sync: hash the union of dirty pages on
 * both domains, copy the pages whose hashes differ from A into B; and the
 * verify pass that hashes every mappable page of both and counts mismatches.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "statecopy.h"

#define BATCH 512

/* Compares (and with copy, fixes) pages pfns[0..n) of B against A. */
static struct sc *cur;   /* for recording verify mismatches */

static void one_batch(const uint64_t *pfns, size_t n, void **pa, void **pb,
                      bool copy, size_t *differ, const uint64_t *report,
                      size_t *reported)
{
    for (size_t i = 0; i < n; i++) {
        XXH128_hash_t ha = XXH3_128bits(pa[i], VSMR_PAGE_SIZE);
        XXH128_hash_t hb = XXH3_128bits(pb[i], VSMR_PAGE_SIZE);
        if (XXH128_isEqual(ha, hb))
            continue;
        (*differ)++;
        if (copy)
            memcpy(pb[i], pa[i], VSMR_PAGE_SIZE);
        else {
            if (report && (*reported)++ < 8)
                printf("  verify: gfn 0x%llx differs\n",
                       (unsigned long long)pfns[i]);
            if (cur && cur->nmiss < MAX_MISS)
                cur->miss[cur->nmiss++] = pfns[i];
        }
    }
}

static int walk(struct sc *s, const uint64_t *pfns, size_t n, bool copy,
                size_t *differ, size_t *map_fail)
{
    void *pa[BATCH], *pb[BATCH];
    size_t reported = 0;
    int bprot = VSMR_MAP_READ | (copy ? VSMR_MAP_WRITE : 0);
    for (size_t first = 0; first < n; first += BATCH) {
        size_t c = n - first < BATCH ? n - first : BATCH;
        void *ca, *cb;
        int ra = vsmr_guest_map(s->a, pfns + first, c, VSMR_MAP_READ, pa, &ca);
        int rb = ra ? ra : vsmr_guest_map(s->b, pfns + first, c, bprot, pb, &cb);
        if (ra == VSMR_OK && rb == VSMR_OK) {
            one_batch(pfns + first, c, pa, pb, copy, differ, pfns, &reported);
            vsmr_guest_unmap(s->a, ca, pa, c);
            vsmr_guest_unmap(s->b, cb, pb, c);
            continue;
        }
        if (ra == VSMR_OK)
            vsmr_guest_unmap(s->a, ca, pa, c);
        if ((ra && ra != VSMR_ENOENT) || (rb && rb != VSMR_ENOENT)) {
            printf("map: %s: %s\n", vsmr_err_name(ra ? ra : rb),
                   vsmr_errmsg());
            return -1;
        }
        for (size_t i = first; i < first + c; i++) {   /* a hole: one by one */
            void *p1, *p2;
            if (vsmr_guest_map(s->a, &pfns[i], 1, VSMR_MAP_READ, &p1, &ca)) {
                (*map_fail)++;
                continue;
            }
            if (vsmr_guest_map(s->b, &pfns[i], 1, bprot, &p2, &cb)) {
                vsmr_guest_unmap(s->a, ca, &p1, 1);
                (*map_fail)++;
                continue;
            }
            one_batch(&pfns[i], 1, &p1, &p2, copy, differ, &pfns[i], &reported);
            vsmr_guest_unmap(s->a, ca, &p1, 1);
            vsmr_guest_unmap(s->b, cb, &p2, 1);
        }
    }
    return 0;
}

/* The copy of divergent pages, run on the pool: chunk [first, first+n)
 * of the divergent list, mapped as one batch on each side. */
struct copy_job {
    struct sc *s;
    const uint64_t *pfns;
};

static int copy_chunk(void *ctx, size_t first, size_t n)
{
    struct copy_job *j = ctx;
    void *pa[BATCH], *pb[BATCH], *ca, *cb;
    int rc = vsmr_guest_map(j->s->a, j->pfns + first, n, VSMR_MAP_READ, pa,
                            &ca);
    if (rc < 0)
        return rc;
    rc = vsmr_guest_map(j->s->b, j->pfns + first, n,
                        VSMR_MAP_READ | VSMR_MAP_WRITE, pb, &cb);
    if (rc == VSMR_OK) {
        for (size_t i = 0; i < n; i++)
            memcpy(pb[i], pa[i], VSMR_PAGE_SIZE);
        vsmr_guest_unmap(j->s->b, cb, pb, n);
    }
    vsmr_guest_unmap(j->s->a, ca, pa, n);
    return rc;
}

/* The sync's memory step, as VSMR's engine does it: hash U on both sides
 * with the pool's threads, copy only the pages whose hashes differ.
 * Frames that do not map in both (holes) are counted, not compared. */
int copy_divergent(struct sc *s, const uint64_t *u, size_t n,
                   struct sync_stats *st)
{
    uint64_t *f = malloc((n ? n : 1) * sizeof *f);
    vsmr_page_hash *ha = malloc((n ? n : 1) * sizeof *ha);
    vsmr_page_hash *hb = malloc((n ? n : 1) * sizeof *hb);
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    int rc = -1;
    if (!f || !ha || !hb || !idx)
        goto out;
    size_t m = 0, nd = 0;
    for (size_t i = 0; i < n; i++) {
        if (s->mappable[u[i] / 64] >> (u[i] % 64) & 1)
            f[m++] = u[i];
        else
            st->map_fail++;
    }
    if ((rc = vsmr_hash_pages(s->pool, s->a, f, m, 0, ha)) < 0 ||
        (rc = vsmr_hash_pages(s->pool, s->b, f, m, 0, hb)) < 0 ||
        (rc = vsmr_hash_diff(ha, hb, m, idx, &nd)) < 0)
        goto out;
    for (size_t k = 0; k < nd; k++)
        f[k] = f[idx[k]];        /* idx is increasing: in-place is safe */
    struct copy_job job = {.s = s, .pfns = f};
    rc = vsmr_pool_run(s->pool, nd, BATCH, copy_chunk, &job);
    st->diverged += nd;
out:
    if (rc < 0)
        printf("copy: %s: %s\n", vsmr_err_name(rc), vsmr_errmsg());
    free(f);
    free(ha);
    free(hb);
    free(idx);
    return rc < 0 ? -1 : 0;
}

int verify_all(struct sc *s, struct sync_stats *st)
{
    size_t fail = 0;
    cur = s;
    s->nmiss = 0;
    int rc = walk(s, s->gfns, s->ngfns, false, &st->mismatched_after, &fail);
    cur = NULL;
    st->map_fail += fail;
    return rc;
}

/* Pages Xen (or a backend through a grant mapping) wrote without a dirty
 * mark: copy them now and compare them at every later sync. */
int repair_and_learn(struct sc *s, struct sync_stats *st)
{
    size_t dummy = 0, fail = 0;
    if (walk(s, s->miss, s->nmiss, true, &dummy, &fail) < 0)
        return -1;
    for (size_t i = 0; i < s->nmiss; i++) {
        size_t k;
        for (k = 0; k < s->nsticky && s->sticky[k] != s->miss[i]; k++)
            ;
        if (k == s->nsticky && s->nsticky < MAX_MISS) {
            s->sticky[s->nsticky++] = s->miss[i];
            st->learned++;
        }
    }
    return 0;
}
