/*
 * simdemo.c - vsmr-simdemo: the VSMR idea on two simulated guests in one
 * process, no network: a primary and a running backup are fed the same
 * requests in the same order; at each sync both pause, the union of their
 * dirty pages is hashed on both with the thread pool, and only the pages
 * whose hashes differ are copied; then all memory is compared (verify).
 *
 *   vsmr-simdemo [--pages N] [--workers W] [--epochs E] [--requests R]
 *                [--threads T]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vsmr/guest.h"
#include "vsmr/hash.h"
#include "vsmr/sim.h"

struct side {
    const char *name;
    vsmr_guest *g;
    uint64_t *dirty;
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int die(const char *what)
{
    fprintf(stderr, "vsmr-simdemo: %s: %s\n", what, vsmr_errmsg());
    return 1;
}

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* The same seeded requests to both guests, in the same order. */
static int feed(struct side *sides, uint64_t seed, unsigned n)
{
    uint8_t buf[VSMR_SIM_MAX_MSG], val[512];
    for (unsigned i = 0; i < n; i++) {
        char key[24];
        snprintf(key, sizeof key, "user:%llu",
                 (unsigned long long)(xorshift(&seed) % 20000));
        size_t vlen = 16 + xorshift(&seed) % 400;
        memset(val, (int)(i & 0xff), vlen);
        int op = xorshift(&seed) % 4 ? VSMR_SIM_SET : VSMR_SIM_GET;
        size_t len = vsmr_sim_encode_request(buf, sizeof buf, i, op, key,
                                             strlen(key), val,
                                             op == VSMR_SIM_SET ? vlen : 0, 0);
        for (int s = 0; s < 2; s++)
            if (vsmr_sim_send(sides[s].g, buf, len) < 0)
                return -1;
    }
    return 0;
}

static int drain_until_idle(vsmr_guest *g)
{
    uint8_t buf[VSMR_SIM_MAX_MSG];
    size_t len;
    while (vsmr_sim_completed(g) != vsmr_sim_sent(g))
        vsmr_sim_recv(g, buf, sizeof buf, &len, 1);
    while (vsmr_sim_recv(g, buf, sizeof buf, &len, 0) == VSMR_OK)
        ;
    return 0;
}

/* Pages that differ between the two guests over all memory (verify). */
static int verify(vsmr_pool *pool, struct side *s, uint64_t *all, size_t n,
                  vsmr_page_hash *ha, vsmr_page_hash *hb, size_t *idx,
                  size_t *diff)
{
    if (vsmr_hash_pages(pool, s[0].g, all, n, 0, ha) < 0 ||
        vsmr_hash_pages(pool, s[1].g, all, n, 0, hb) < 0)
        return -1;
    return vsmr_hash_diff(ha, hb, n, idx, diff);
}

static int copy_pages(struct side *s, const uint64_t *pfns, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        void *src, *dst, *c1, *c2;
        if (vsmr_guest_map(s[0].g, &pfns[i], 1, VSMR_MAP_READ, &src, &c1) < 0 ||
            vsmr_guest_map(s[1].g, &pfns[i], 1, VSMR_MAP_WRITE, &dst, &c2) < 0)
            return -1;
        memcpy(dst, src, VSMR_PAGE_SIZE);
        vsmr_guest_unmap(s[0].g, c1, &src, 1);
        vsmr_guest_unmap(s[1].g, c2, &dst, 1);
    }
    return 0;
}

int main(int argc, char **argv)
{
    unsigned long pages = 16384, workers = 4, epochs = 8, requests = 20000,
                  threads = 0;
    static const struct option opts[] = {
        {"pages", 1, NULL, 'p'}, {"workers", 1, NULL, 'w'},
        {"epochs", 1, NULL, 'e'}, {"requests", 1, NULL, 'r'},
        {"threads", 1, NULL, 't'}, {NULL, 0, NULL, 0}};
    for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
        char *end;
        unsigned long v = strtoul(optarg ? optarg : "", &end, 10);
        if (c == '?' || !optarg || *end || v > 100000000ul) {
            fprintf(stderr, "usage: vsmr-simdemo [--pages N] [--workers W] "
                            "[--epochs E] [--requests R] [--threads T]\n");
            return 2;
        }
        *(c == 'p' ? &pages : c == 'w' ? &workers : c == 'e' ? &epochs
          : c == 'r' ? &requests : &threads) = v;
    }
    char spec[64];
    snprintf(spec, sizeof spec, "pages=%lu,workers=%lu", pages, workers);
    struct side s[2] = {{.name = "primary"}, {.name = "backup"}};
    vsmr_pool *pool;
    for (int i = 0; i < 2; i++)
        if (vsmr_guest_open("sim", spec, &s[i].g) < 0)
            return die("open sim guest");
    if (vsmr_pool_new((unsigned)threads, &pool) < 0)
        return die("thread pool");
    size_t words = (pages + 63) / 64;
    uint64_t *uni = calloc(words, 8), *pfns = malloc(pages * 8),
             *all = malloc(pages * 8), *div = malloc(pages * 8);
    vsmr_page_hash *ha = malloc(pages * sizeof *ha), *hb = malloc(pages * sizeof *hb);
    size_t *idx = malloc(pages * sizeof *idx);
    for (int i = 0; i < 2; i++)
        if (!(s[i].dirty = calloc(words, 8)) ||
            vsmr_guest_logdirty(s[i].g, true) < 0)
            return die("log-dirty");
    for (uint64_t p = 0; p < pages; p++)
        all[p] = p;

    printf("VSMR on two simulated guests: %lu MiB each, %lu worker threads, "
           "%u hash threads\n", pages * 4096 >> 20, workers,
           vsmr_pool_threads(pool));
    printf("%5s %8s %8s %8s %9s %10s %10s %8s %7s\n", "epoch", "dirty-P",
           "dirty-B", "union", "divergent", "VSMR-KiB", "Remus-KiB",
           "hash-ms", "verify");
    uint64_t total_vsmr = 0, total_remus = 0;
    for (unsigned long e = 1; e <= epochs; e++) {
        if (feed(s, e * 7919, (unsigned)requests) < 0)
            return die("feed requests");
        for (int i = 0; i < 2; i++)
            if (drain_until_idle(s[i].g) < 0 || vsmr_guest_pause(s[i].g) < 0 ||
                vsmr_guest_dirty_fetch_clear(s[i].g, s[i].dirty, words) < 0)
                return die("pause");
        for (size_t w = 0; w < words; w++)
            uni[w] = s[0].dirty[w] | s[1].dirty[w];
        size_t n = vsmr_bitmap_to_pfns(uni, pages, pfns), ndiv;
        double t0 = now_ms();
        if (vsmr_hash_pages(pool, s[0].g, pfns, n, 0, ha) < 0 ||
            vsmr_hash_pages(pool, s[1].g, pfns, n, 0, hb) < 0)
            return die("hash");
        double t1 = now_ms();
        vsmr_hash_diff(ha, hb, n, idx, &ndiv);
        for (size_t i = 0; i < ndiv; i++)
            div[i] = pfns[idx[i]];
        uint8_t ctx[256];
        size_t clen;
        if (copy_pages(s, div, ndiv) < 0 ||
            vsmr_guest_context_get(s[0].g, ctx, sizeof ctx, &clen) < 0 ||
            vsmr_guest_context_set(s[1].g, ctx, clen) < 0)
            return die("copy divergent pages");
        size_t left;
        if (verify(pool, s, all, pages, ha, hb, idx, &left) < 0)
            return die("verify");
        uint64_t dp = vsmr_bitmap_count(s[0].dirty, pages);
        uint64_t vsmr_bytes = ndiv * 4096 + n * 16, remus_bytes = dp * 4096;
        total_vsmr += vsmr_bytes;
        total_remus += remus_bytes;
        printf("%5lu %8llu %8llu %8zu %9zu %10llu %10llu %8.2f %7s\n", e,
               (unsigned long long)dp,
               (unsigned long long)vsmr_bitmap_count(s[1].dirty, pages), n,
               ndiv, (unsigned long long)vsmr_bytes >> 10,
               (unsigned long long)remus_bytes >> 10, t1 - t0,
               left ? "DIFFER" : "equal");
        if (left) {
            fprintf(stderr, "verify: %zu pages still differ after the sync\n",
                    left);
            return 1;
        }
        for (int i = 0; i < 2; i++)
            vsmr_guest_unpause(s[i].g);
    }
    printf("total: VSMR %llu KiB (divergent pages + hashes), Remus %llu KiB "
           "(every dirty page): %.1fx less\n",
           (unsigned long long)total_vsmr >> 10,
           (unsigned long long)total_remus >> 10,
           (double)total_remus / (double)(total_vsmr ? total_vsmr : 1));
    for (int i = 0; i < 2; i++)
        vsmr_guest_close(s[i].g);
    vsmr_pool_free(pool);
    return 0;
}
