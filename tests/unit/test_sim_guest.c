/*
 * test_sim_guest.c - the simulated guest: a real key-value service in
 * shared memory; pause at a request boundary; a dirty bitmap that matches
 * a full-memory diff; two copies fed the same requests mostly identical;
 * the backend conformance suite; bad input.
 */
#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest/conformance.h"
#include "simtest.h"
#include "vsmr/hash.h"

#define SPEC "pages=2048,workers=4"

START_TEST(kv_set_get_del)
{
    vsmr_guest *g = simtest_open(SPEC);
    int st;
    char out[VSMR_SIM_MAX_VALUE];
    size_t n;
    ck_assert_int_eq(simtest_call(g, VSMR_SIM_SET, "alpha", "one", 3, 0, &st,
                                  NULL, NULL), VSMR_OK);
    ck_assert_int_eq(st, VSMR_SIM_OK);
    char big[1500];
    memset(big, 'b', sizeof big);
    ck_assert_int_eq(simtest_call(g, VSMR_SIM_SET, "big", big, sizeof big, 0,
                                  &st, NULL, NULL), VSMR_OK);
    ck_assert_int_eq(simtest_call(g, VSMR_SIM_GET, "alpha", NULL, 0, 0, &st,
                                  out, &n), VSMR_OK);
    ck_assert_int_eq(st, VSMR_SIM_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_mem_eq(out, "one", 3);
    ck_assert_int_eq(simtest_call(g, VSMR_SIM_GET, "big", NULL, 0, 0, &st,
                                  out, &n), VSMR_OK);
    ck_assert_uint_eq(n, sizeof big);
    ck_assert_mem_eq(out, big, sizeof big);
    ck_assert_int_eq(simtest_call(g, VSMR_SIM_DEL, "alpha", NULL, 0, 0, &st,
                                  NULL, NULL), VSMR_OK);
    ck_assert_int_eq(simtest_call(g, VSMR_SIM_GET, "alpha", NULL, 0, 0, &st,
                                  NULL, NULL), VSMR_OK);
    ck_assert_int_eq(st, VSMR_SIM_NOTFOUND);
    vsmr_guest_close(g);
}
END_TEST

START_TEST(pause_at_request_boundary)
{
    vsmr_guest *g = simtest_open(SPEC);
    ck_assert_int_eq(vsmr_guest_pause(g), VSMR_OK);
    uint64_t done = vsmr_sim_completed(g);
    uint8_t buf[64];
    size_t len = vsmr_sim_encode_request(buf, sizeof buf, 9, VSMR_SIM_SET,
                                         "k", 1, "v", 1, 0);
    ck_assert_int_eq(vsmr_sim_send(g, buf, len), VSMR_OK);
    usleep(200000);
    ck_assert_uint_eq(vsmr_sim_completed(g), done);   /* nothing served */
    bool idle = true;
    ck_assert_int_eq(vsmr_guest_is_idle(g, &idle), VSMR_OK);
    ck_assert(!idle);                                 /* one is queued */
    ck_assert_int_eq(vsmr_guest_unpause(g), VSMR_OK);
    ck_assert_int_eq(simtest_wait_idle(g), VSMR_OK);
    ck_assert_int_eq(vsmr_guest_is_idle(g, &idle), VSMR_OK);
    ck_assert(idle);

    /* Pause in the middle of a burst: every served request is complete
     * (sent == completed + still queued), and nothing moves while paused. */
    ck_assert_int_eq(simtest_workload(g, 1, 0, 10), VSMR_OK);
    for (int i = 0; i < 2000; i++) {
        len = vsmr_sim_encode_request(buf, sizeof buf, (uint32_t)i,
                                      VSMR_SIM_SET, "burst", 5, "xyz", 3, 0);
        ck_assert_int_eq(vsmr_sim_send(g, buf, len), VSMR_OK);
    }
    ck_assert_int_eq(vsmr_guest_pause(g), VSMR_OK);
    uint64_t a = vsmr_sim_completed(g);
    usleep(100000);
    ck_assert_uint_eq(vsmr_sim_completed(g), a);
    ck_assert_int_eq(vsmr_guest_unpause(g), VSMR_OK);
    ck_assert_int_eq(simtest_wait_idle(g), VSMR_OK);
    vsmr_guest_close(g);
}
END_TEST

/* Snapshot all memory, run a workload, diff everything: the dirty bitmap
 * must cover every page that changed. */
START_TEST(dirty_bitmap_covers_full_diff)
{
    vsmr_guest *g = simtest_open(SPEC);
    uint64_t pages = vsmr_guest_page_count(g);
    size_t words = (pages + 63) / 64;
    uint64_t *bm = calloc(words, 8);
    uint8_t *before = malloc(pages * VSMR_PAGE_SIZE);
    uint64_t *pfns = malloc(pages * 8);
    void **map = malloc(pages * sizeof *map), *cookie;
    for (uint64_t i = 0; i < pages; i++)
        pfns[i] = i;
    ck_assert_int_eq(simtest_workload(g, 7, 500, 100), VSMR_OK);
    ck_assert_int_eq(vsmr_guest_logdirty(g, true), VSMR_OK);
    ck_assert_int_eq(vsmr_guest_pause(g), VSMR_OK);
    ck_assert_int_eq(vsmr_guest_map(g, pfns, pages, VSMR_MAP_READ, map,
                                    &cookie), VSMR_OK);
    for (uint64_t i = 0; i < pages; i++)
        memcpy(before + i * VSMR_PAGE_SIZE, map[i], VSMR_PAGE_SIZE);
    ck_assert_int_eq(vsmr_guest_unpause(g), VSMR_OK);

    ck_assert_int_eq(simtest_workload(g, 8, 3000, 400), VSMR_OK);
    ck_assert_int_eq(vsmr_guest_pause(g), VSMR_OK);
    ck_assert_int_eq(vsmr_guest_dirty_fetch_clear(g, bm, words), VSMR_OK);
    uint64_t changed = 0, dirty = vsmr_bitmap_count(bm, pages);
    for (uint64_t i = 0; i < pages; i++) {
        if (memcmp(before + i * VSMR_PAGE_SIZE, map[i], VSMR_PAGE_SIZE)) {
            changed++;
            ck_assert_msg(bm[i / 64] & (1ull << (i % 64)),
                          "page %llu changed but is not marked dirty",
                          (unsigned long long)i);
        }
    }
    ck_assert_uint_gt(changed, 50);
    /* Dirty but unchanged pages exist (locks, rewrites) but are few. */
    ck_assert_uint_le(dirty, changed * 2 + 64);
    /* Fetch cleared it. */
    ck_assert_int_eq(vsmr_guest_dirty_fetch_clear(g, bm, words), VSMR_OK);
    ck_assert_uint_eq(vsmr_bitmap_count(bm, pages), 0);
    vsmr_guest_unmap(g, cookie, map, pages);
    vsmr_guest_close(g);
    free(bm); free(before); free(pfns); free(map);
}
END_TEST

/* The PLOVER premise: same requests, same order -> mostly the same memory,
 * never exactly (thread interleaving, timestamps, allocation order). */
START_TEST(twins_diverge_in_few_pages)
{
    vsmr_guest *a = simtest_open(SPEC), *b = simtest_open(SPEC);
    uint64_t pages = vsmr_guest_page_count(a);
    uint64_t *pfns = malloc(pages * 8);
    vsmr_page_hash *ha = malloc(pages * sizeof *ha), *hb = malloc(pages * sizeof *hb);
    size_t *idx = malloc(pages * sizeof *idx), diverged;
    uint64_t *bm = calloc((pages + 63) / 64, 8);
    vsmr_pool *pool;
    ck_assert_int_eq(vsmr_pool_new(2, &pool), VSMR_OK);
    ck_assert_int_eq(vsmr_guest_logdirty(a, true), VSMR_OK);
    for (uint64_t i = 0; i < pages; i++)
        pfns[i] = i;
    for (int round = 0; round < 3; round++) {
        ck_assert_int_eq(simtest_workload(a, 100 + round, 4000, 2000), VSMR_OK);
        ck_assert_int_eq(simtest_workload(b, 100 + round, 4000, 2000), VSMR_OK);
    }
    ck_assert_int_eq(vsmr_guest_pause(a), VSMR_OK);
    ck_assert_int_eq(vsmr_guest_pause(b), VSMR_OK);
    ck_assert_int_eq(vsmr_guest_dirty_fetch_clear(a, bm, (pages + 63) / 64),
                     VSMR_OK);
    uint64_t dirty = vsmr_bitmap_count(bm, pages);
    ck_assert_int_eq(vsmr_hash_pages(pool, a, pfns, pages, 0, ha), VSMR_OK);
    ck_assert_int_eq(vsmr_hash_pages(pool, b, pfns, pages, 0, hb), VSMR_OK);
    ck_assert_int_eq(vsmr_hash_diff(ha, hb, pages, idx, &diverged), VSMR_OK);
    fprintf(stderr, "twins: %llu dirty pages, %zu diverged (%.1f%%)\n",
            (unsigned long long)dirty, diverged, 100.0 * diverged / dirty);
    ck_assert_uint_gt(diverged, 0);            /* not a deterministic toy */
    ck_assert_uint_lt(diverged * 4, dirty);    /* under a quarter of dirty */
    vsmr_pool_free(pool);
    vsmr_guest_close(a);
    vsmr_guest_close(b);
    free(pfns); free(ha); free(hb); free(idx); free(bm);
}
END_TEST

/* Conformance hooks for sim: POKE/PEEK requests on scratch pages, and the
 * completed-request counter (nudged by a GET) as progress. */
static int sim_guest_write(void *ctx, uint8_t pattern, uint64_t *pfn)
{
    int st;
    int rc = simtest_call(ctx, VSMR_SIM_POKE, NULL, &pattern, 1, 1, &st,
                          NULL, NULL);
    *pfn = vsmr_sim_scratch_first(ctx) + 1;
    return rc == VSMR_OK && st != VSMR_SIM_OK ? VSMR_EIO : rc;
}

static int sim_guest_read(void *ctx, uint64_t pfn, uint8_t out[64])
{
    int st;
    size_t n;
    uint32_t page = (uint32_t)(pfn - vsmr_sim_scratch_first(ctx));
    int rc = simtest_call(ctx, VSMR_SIM_PEEK, NULL, NULL, 0, page, &st, out,
                          &n);
    return rc == VSMR_OK && (st != VSMR_SIM_OK || n != 64) ? VSMR_EIO : rc;
}

static int sim_guest_progress(void *ctx, uint64_t *counter)
{
    uint8_t buf[64];
    size_t len = vsmr_sim_encode_request(buf, sizeof buf, 0, VSMR_SIM_GET,
                                         "tick", 4, NULL, 0, 0);
    int rc = vsmr_sim_send(ctx, buf, len);
    usleep(20000);
    *counter = vsmr_sim_completed(ctx);
    return rc;
}

START_TEST(conformance)
{
    vsmr_guest *g = simtest_open(SPEC);
    struct vsmr_conformance_target t = {
        .guest = g, .ctx = g, .guest_write = sim_guest_write,
        .guest_read = sim_guest_read, .guest_progress = sim_guest_progress,
    };
    ck_assert_int_eq(vsmr_conformance_run(&t, stderr), 0);
    vsmr_guest_close(g);
}
END_TEST

START_TEST(context_round_trip)
{
    vsmr_guest *a = simtest_open(SPEC), *b = simtest_open(SPEC);
    uint8_t ctx[256];
    size_t len;
    ck_assert_int_eq(vsmr_guest_context_get(a, ctx, sizeof ctx, &len),
                     VSMR_ESTATE);                   /* not paused */
    ck_assert_int_eq(vsmr_guest_pause(a), VSMR_OK);
    ck_assert_int_eq(vsmr_guest_pause(b), VSMR_OK);
    ck_assert_int_eq(vsmr_guest_context_get(a, ctx, sizeof ctx, &len), VSMR_OK);
    ck_assert_int_eq(vsmr_guest_context_set(b, ctx, len), VSMR_OK);
    ck_assert_int_eq(vsmr_guest_context_set(b, ctx, len - 1), VSMR_EPROTO);
    ck_assert_int_eq(vsmr_guest_context_get(a, ctx, 3, &len), VSMR_ERANGE);
    vsmr_guest_close(a);
    vsmr_guest_close(b);
}
END_TEST

START_TEST(bad_input_is_a_clear_error)
{
    vsmr_guest *g = NULL;
    ck_assert_int_eq(vsmr_guest_open("nosuch", "x", &g), VSMR_ENOENT);
    ck_assert_ptr_nonnull(strstr(vsmr_errmsg(), "no guest backend named 'nosuch'"));
    ck_assert_int_eq(vsmr_guest_open("sim", "pages=0", &g), VSMR_EINVAL);
    ck_assert_ptr_nonnull(strstr(vsmr_errmsg(), "0 pages"));
    ck_assert_int_eq(vsmr_guest_open("sim", "pages=12x", &g), VSMR_EINVAL);
    ck_assert_int_eq(vsmr_guest_open("sim", "colour=4", &g), VSMR_EINVAL);
    ck_assert_int_eq(vsmr_guest_open("sim", "workers=0", &g), VSMR_ERANGE);
    ck_assert_int_eq(vsmr_guest_open("sim", "pages=99999999999", &g), VSMR_ERANGE);
    ck_assert_int_eq(vsmr_guest_open(NULL, "x", &g), VSMR_EINVAL);
    ck_assert_ptr_null(g);

    g = simtest_open(SPEC);
    uint64_t word;
    ck_assert_int_eq(vsmr_guest_dirty_fetch_clear(g, &word, 1), VSMR_ESTATE);
    uint64_t past = vsmr_guest_page_count(g) + 5;
    void *page, *cookie;
    ck_assert_int_eq(vsmr_guest_map(g, &past, 1, VSMR_MAP_READ, &page, &cookie),
                     VSMR_ERANGE);
    ck_assert_ptr_nonnull(strstr(vsmr_errmsg(), "past the end"));
    uint64_t zero = 0;
    ck_assert_int_eq(vsmr_guest_map(g, &zero, 1, 8, &page, &cookie), VSMR_EINVAL);
    /* No network devices: the failover's MAC lookup says so. */
    uint8_t mac[6];
    ck_assert_int_eq(vsmr_guest_vif_mac(g, "vif1.0", mac), VSMR_ENOTSUP);
    ck_assert_ptr_nonnull(strstr(vsmr_errmsg(), "no network devices"));
    ck_assert_int_eq(vsmr_guest_vif_mac(g, "", mac), VSMR_EINVAL);

    /* A malformed request gets BADREQ, the guest lives on. */
    uint8_t junk[20] = {0xff, 0xff, 0xff, 0xff, 1, 200};
    ck_assert_int_eq(vsmr_sim_send(g, junk, sizeof junk), VSMR_OK);
    int st;
    ck_assert_int_eq(simtest_call(g, VSMR_SIM_SET, "a", "b", 1, 0, &st, NULL,
                                  NULL), VSMR_OK);
    ck_assert_int_eq(st, VSMR_SIM_OK);
    ck_assert_int_eq(simtest_call(g, VSMR_SIM_PEEK, NULL, NULL, 0, 100000, &st,
                                  NULL, NULL), VSMR_OK);
    ck_assert_int_eq(st, VSMR_SIM_BADREQ);

    /* A guest that died is reported as closed, not a crash. */
    kill(vsmr_sim_pid(g), SIGKILL);
    usleep(100000);
    ck_assert_int_eq(vsmr_guest_pause(g), VSMR_ECLOSED);
    ck_assert_ptr_nonnull(strstr(vsmr_errmsg(), "exited"));
    vsmr_guest_close(g);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sim_guest");
    TCase *tc = tcase_create("sim_guest");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, kv_set_get_del);
    tcase_add_test(tc, pause_at_request_boundary);
    tcase_add_test(tc, dirty_bitmap_covers_full_diff);
    tcase_add_test(tc, twins_diverge_in_few_pages);
    tcase_add_test(tc, conformance);
    tcase_add_test(tc, context_round_trip);
    tcase_add_test(tc, bad_input_is_a_clear_error);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
