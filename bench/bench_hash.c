/*
 * bench_hash.c - the hash engine against plain reading, same region, same
 * threads, same run.
 *
 * A 1 GiB sim guest (VSMR_BENCH_PAGES to change) is filled with data; then
 * for 1..N threads: a plain sequential read (sum of 64-bit words) of every
 * page, mapped in batches through the guest interface exactly as the hash
 * engine maps them, and the XXH3-128 hash of every page. The region is 1
 * GiB, far above the last-level cache, so each pass reads cold memory.
 * Prints pages/s, GB/s and the ratio hash/read; no pass or fail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "vsmr/guest.h"
#include "vsmr/hash.h"

#define REPEAT 3

struct sum_job {
    vsmr_guest *g;
    const uint64_t *pfns;
    _Atomic uint64_t total;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int sum_batch(void *ctx, size_t first, size_t count)
{
    struct sum_job *j = ctx;
    void *pages[4096], *cookie;
    int rc = vsmr_guest_map(j->g, j->pfns + first, count, VSMR_MAP_READ,
                            pages, &cookie);
    if (rc < 0)
        return rc;
    uint64_t s = 0;
    for (size_t i = 0; i < count; i++) {
        const uint64_t *w = pages[i];
        for (size_t k = 0; k < VSMR_PAGE_SIZE / 8; k++)
            s += w[k];
    }
    j->total += s;
    return vsmr_guest_unmap(j->g, cookie, pages, count);
}

static int fill_batch(void *ctx, size_t first, size_t count)
{
    struct sum_job *j = ctx;
    void *pages[4096], *cookie;
    int rc = vsmr_guest_map(j->g, j->pfns + first, count, VSMR_MAP_WRITE,
                            pages, &cookie);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < count; i++) {
        uint64_t *w = pages[i];
        for (size_t k = 0; k < VSMR_PAGE_SIZE / 8; k++)
            w[k] = (first + i) * 0x9e3779b97f4a7c15ull + k;
    }
    return vsmr_guest_unmap(j->g, cookie, pages, count);
}

static int die(const char *what)
{
    fprintf(stderr, "bench_hash: %s: %s\n", what, vsmr_errmsg());
    return 1;
}

int main(void)
{
    const char *env = getenv("VSMR_BENCH_PAGES");
    uint64_t pages = env ? strtoull(env, NULL, 10) : 262144;   /* 1 GiB */
    char spec[64];
    snprintf(spec, sizeof spec, "pages=%llu,workers=1",
             (unsigned long long)pages);
    vsmr_guest *g;
    if (vsmr_guest_open("sim", spec, &g) < 0)
        return die("open sim guest");
    uint64_t *pfns = malloc(pages * sizeof *pfns);
    vsmr_page_hash *out = malloc(pages * sizeof *out);
    for (uint64_t i = 0; i < pages; i++)
        pfns[i] = i;
    vsmr_pool *all;
    if (vsmr_pool_new(0, &all) < 0 || vsmr_guest_pause(g) < 0)
        return die("set up");
    struct sum_job job = {.g = g, .pfns = pfns};
    if (vsmr_pool_run(all, pages, 256, fill_batch, &job) < 0)
        return die("fill");
    unsigned maxt = vsmr_pool_threads(all);
    vsmr_pool_free(all);

    double mib = (double)pages * VSMR_PAGE_SIZE / (1 << 20);
    printf("hash engine: %.0f MiB region, cold (region >> cache), batch 256, "
           "best of %d\n", mib, REPEAT);
    printf("%-8s %14s %10s %14s %10s %8s\n", "threads", "read pages/s",
           "read GB/s", "hash pages/s", "hash GB/s", "hash/read");
    for (unsigned t = 1; t <= maxt; t++) {
        vsmr_pool *pool;
        if (vsmr_pool_new(t, &pool) < 0)
            return die("pool");
        double best_read = 1e9, best_hash = 1e9;
        for (int r = 0; r < REPEAT; r++) {
            double t0 = now();
            if (vsmr_pool_run(pool, pages, 256, sum_batch, &job) < 0)
                return die("read");
            double t1 = now();
            if (vsmr_hash_pages(pool, g, pfns, pages, 256, out) < 0)
                return die("hash");
            double t2 = now();
            if (t1 - t0 < best_read) best_read = t1 - t0;
            if (t2 - t1 < best_hash) best_hash = t2 - t1;
        }
        double bytes = (double)pages * VSMR_PAGE_SIZE;
        printf("%-8u %14.0f %10.2f %14.0f %10.2f %8.2f\n", t,
               pages / best_read, bytes / best_read / 1e9,
               pages / best_hash, bytes / best_hash / 1e9,
               best_read / best_hash);
        vsmr_pool_free(pool);
    }
    printf("(checksum %llu)\n", (unsigned long long)job.total);
    vsmr_guest_close(g);
    free(pfns);
    free(out);
    return 0;
}
