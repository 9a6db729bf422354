/*
 * conformance.c - the checks every guest backend passes (see
 * conformance.h). Each check leaves the guest running and unpaused.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "guest/conformance.h"
#include "vsmr/hash.h"

#define HASH_LIMIT 65536u   /* pages hashed by the stability check */

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int fail_unpaused(vsmr_guest *g, int rc)
{
    char msg[512];
    strncpy(msg, vsmr_errmsg(), sizeof msg - 1);
    msg[sizeof msg - 1] = '\0';
    vsmr_guest_unpause(g);
    return vsmr_fail(rc, "%s", msg);
}

static int check_pause_stops_progress(const struct vsmr_conformance_target *t)
{
    uint64_t a, b;
    int rc = vsmr_guest_pause(t->guest);
    if (rc < 0)
        return rc;
    if ((rc = t->guest_progress(t->ctx, &a)) < 0)
        return fail_unpaused(t->guest, rc);
    sleep_ms(300);
    if ((rc = t->guest_progress(t->ctx, &b)) < 0)
        return fail_unpaused(t->guest, rc);
    if (a != b)
        return fail_unpaused(t->guest, vsmr_fail(VSMR_ESTATE, "paused guest "
                             "progressed from %llu to %llu",
                             (unsigned long long)a, (unsigned long long)b));
    if ((rc = vsmr_guest_unpause(t->guest)) < 0)
        return rc;
    for (int i = 0; i < 100; i++) {
        if ((rc = t->guest_progress(t->ctx, &b)) < 0)
            return rc;
        if (b > a)
            return VSMR_OK;
        sleep_ms(100);
    }
    return vsmr_fail(VSMR_ESTATE, "unpaused guest made no progress in 10 s "
                     "(counter stuck at %llu)", (unsigned long long)b);
}

static int fetch_dirty(vsmr_guest *g, uint64_t **bitmap)
{
    size_t words = (vsmr_guest_page_count(g) + 63) / 64;
    *bitmap = calloc(words, sizeof **bitmap);
    if (!*bitmap)
        return vsmr_fail(VSMR_ENOMEM, "out of memory for the bitmap");
    return vsmr_guest_dirty_fetch_clear(g, *bitmap, words);
}

static int check_dirty_reported(const struct vsmr_conformance_target *t)
{
    uint64_t *bm = NULL, pfn;
    int rc = vsmr_guest_logdirty(t->guest, true);
    if (rc == VSMR_OK)
        rc = fetch_dirty(t->guest, &bm);
    free(bm);
    bm = NULL;
    if (rc == VSMR_OK)
        rc = t->guest_write(t->ctx, 0xa5, &pfn);
    if (rc == VSMR_OK)
        rc = fetch_dirty(t->guest, &bm);
    if (rc == VSMR_OK && !(bm[pfn / 64] & (1ull << (pfn % 64))))
        rc = vsmr_fail(VSMR_ESTATE, "page %llu written by the guest is not "
                       "in the dirty bitmap", (unsigned long long)pfn);
    free(bm);
    return rc;
}

static int check_map_matches_guest_write(const struct vsmr_conformance_target *t)
{
    uint64_t pfn;
    void *page, *cookie;
    int rc = t->guest_write(t->ctx, 0x3c, &pfn);
    if (rc < 0)
        return rc;
    if ((rc = vsmr_guest_map(t->guest, &pfn, 1, VSMR_MAP_READ, &page,
                             &cookie)) < 0)
        return rc;
    const uint8_t *p = page;
    size_t bad = VSMR_PAGE_SIZE;
    for (size_t i = 0; i < VSMR_PAGE_SIZE && bad == VSMR_PAGE_SIZE; i++)
        if (p[i] != 0x3c)
            bad = i;
    vsmr_guest_unmap(t->guest, cookie, &page, 1);
    if (bad != VSMR_PAGE_SIZE)
        return vsmr_fail(VSMR_ESTATE, "mapped page %llu has 0x%02x at byte "
                         "%zu, the guest wrote 0x3c",
                         (unsigned long long)pfn, p[bad], bad);
    return VSMR_OK;
}

static int hash_first_pages(vsmr_pool *pool, vsmr_guest *g, uint64_t *pfns,
                            size_t n, vsmr_page_hash *out)
{
    for (size_t i = 0; i < n; i++)
        pfns[i] = i;
    return vsmr_hash_pages(pool, g, pfns, n, 0, out);
}

static int check_paused_hashes_stable(const struct vsmr_conformance_target *t)
{
    uint64_t pages = vsmr_guest_page_count(t->guest);
    size_t n = pages < HASH_LIMIT ? (size_t)pages : HASH_LIMIT;
    uint64_t *pfns = malloc(n * sizeof *pfns);
    vsmr_page_hash *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    size_t *idx = malloc(n * sizeof *idx), diff = 0;
    vsmr_pool *pool = NULL;
    int rc = pfns && a && b && idx ? vsmr_pool_new(0, &pool)
                                   : vsmr_fail(VSMR_ENOMEM, "out of memory");
    if (rc == VSMR_OK)
        rc = vsmr_guest_pause(t->guest);
    if (rc == VSMR_OK) {
        rc = hash_first_pages(pool, t->guest, pfns, n, a);
        sleep_ms(300);
        if (rc == VSMR_OK)
            rc = hash_first_pages(pool, t->guest, pfns, n, b);
        if (rc == VSMR_OK)
            rc = vsmr_hash_diff(a, b, n, idx, &diff);
        if (rc == VSMR_OK && diff)
            rc = vsmr_fail(VSMR_ESTATE, "%zu of %zu pages of the paused guest "
                           "changed (first: page %zu)", diff, n, idx[0]);
        int urc = vsmr_guest_unpause(t->guest);
        rc = rc < 0 ? rc : urc;
    }
    vsmr_pool_free(pool);
    free(pfns); free(a); free(b); free(idx);
    return rc;
}

static int check_write_seen_by_guest(const struct vsmr_conformance_target *t)
{
    uint64_t pfn;
    void *page, *cookie;
    uint8_t seen[64];
    int rc = t->guest_write(t->ctx, 0x11, &pfn);
    if (rc == VSMR_OK)
        rc = vsmr_guest_pause(t->guest);
    if (rc < 0)
        return rc;
    rc = vsmr_guest_map(t->guest, &pfn, 1, VSMR_MAP_READ | VSMR_MAP_WRITE,
                        &page, &cookie);
    if (rc < 0)
        return fail_unpaused(t->guest, rc);
    memset(page, 0x77, VSMR_PAGE_SIZE);
    vsmr_guest_unmap(t->guest, cookie, &page, 1);
    if ((rc = vsmr_guest_unpause(t->guest)) < 0 ||
        (rc = t->guest_read(t->ctx, pfn, seen)) < 0)
        return rc;
    for (int i = 0; i < 64; i++)
        if (seen[i] != 0x77)
            return vsmr_fail(VSMR_ESTATE, "guest reads 0x%02x at byte %d of "
                             "page %llu after dom0 wrote 0x77", seen[i], i,
                             (unsigned long long)pfn);
    return VSMR_OK;
}

static int check_bad_input(const struct vsmr_conformance_target *t)
{
    uint64_t past = vsmr_guest_page_count(t->guest);
    void *page, *cookie;
    if (vsmr_guest_map(t->guest, &past, 1, VSMR_MAP_READ, &page,
                       &cookie) != VSMR_ERANGE)
        return vsmr_fail(VSMR_ESTATE, "mapping page %llu past the end did "
                         "not fail with VSMR_ERANGE",
                         (unsigned long long)past);
    uint64_t word;
    if (vsmr_guest_dirty_fetch_clear(t->guest, &word, 0) != VSMR_ERANGE)
        return vsmr_fail(VSMR_ESTATE, "a too-small dirty bitmap was accepted");
    return VSMR_OK;
}

const struct vsmr_conformance_check vsmr_conformance_checks[] = {
    {"pause_stops_progress", check_pause_stops_progress},
    {"dirty_reported", check_dirty_reported},
    {"map_matches_guest_write", check_map_matches_guest_write},
    {"paused_hashes_stable", check_paused_hashes_stable},
    {"write_seen_by_guest", check_write_seen_by_guest},
    {"bad_input", check_bad_input},
    {NULL, NULL},
};

int vsmr_conformance_run(const struct vsmr_conformance_target *t, FILE *out)
{
    int failed = 0;
    for (const struct vsmr_conformance_check *c = vsmr_conformance_checks;
         c->name; c++) {
        int rc = c->run(t);
        bool paused = false;
        vsmr_guest_is_paused(t->guest, &paused);
        if (rc == VSMR_OK && paused)
            rc = vsmr_fail(VSMR_ESTATE, "check left the guest paused");
        if (rc == VSMR_OK) {
            fprintf(out, "PASS %s\n", c->name);
        } else {
            fprintf(out, "FAIL %s: %s (%s)\n", c->name, vsmr_errmsg(),
                    vsmr_err_name(rc));
            failed++;
            vsmr_guest_unpause(t->guest);
        }
    }
    return failed;
}
