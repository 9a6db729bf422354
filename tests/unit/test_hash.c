/*
 * test_hash.c - the parallel hash engine equals a single-threaded
 * reference for any thread count and batch size; empty lists, one page and
 * unaligned counts; diff and bitmap helpers; bad input.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "simtest.h"
#include "vsmr/hash.h"

static vsmr_guest *guest;
static uint64_t pages;

static void setup(void)
{
    guest = simtest_open("pages=1024,workers=2");
    pages = vsmr_guest_page_count(guest);
    /* Give every page distinct content from dom0's side. */
    ck_assert_int_eq(vsmr_guest_pause(guest), VSMR_OK);
    for (uint64_t p = 0; p < pages; p++) {
        void *page, *cookie;
        ck_assert_int_eq(vsmr_guest_map(guest, &p, 1, VSMR_MAP_WRITE, &page,
                                        &cookie), VSMR_OK);
        uint64_t *w = page;
        for (size_t i = 0; i < VSMR_PAGE_SIZE / 8; i++)
            w[i] = p * 1000003u + i * (p % 7 + 1);
        vsmr_guest_unmap(guest, cookie, &page, 1);
    }
}

static void teardown(void)
{
    vsmr_guest_close(guest);
}

/* The reference: one page at a time, XXH3-128 directly. */
static void reference(const uint64_t *pfns, size_t n, vsmr_page_hash *out)
{
    for (size_t i = 0; i < n; i++) {
        void *page, *cookie;
        ck_assert_int_eq(vsmr_guest_map(guest, &pfns[i], 1, VSMR_MAP_READ,
                                        &page, &cookie), VSMR_OK);
        XXH128_hash_t h = XXH3_128bits(page, VSMR_PAGE_SIZE);
        out[i] = (vsmr_page_hash){h.low64, h.high64};
        vsmr_guest_unmap(guest, cookie, &page, 1);
    }
}

START_TEST(equals_reference_for_any_threads_and_batch)
{
    static const unsigned threads[] = {1, 2, 3, 8};
    static const size_t batches[] = {1, 7, 64, 256, 4096};
    static const size_t counts[] = {0, 1, 2, 63, 255, 257, 1000};
    size_t maxn = 1000;
    uint64_t *pfns = malloc(maxn * 8);
    vsmr_page_hash *ref = malloc(maxn * sizeof *ref), *got = malloc(maxn * sizeof *got);
    /* A scattered, repeating, unsorted page list. */
    for (size_t i = 0; i < maxn; i++)
        pfns[i] = (i * 37 + 11) % pages;
    reference(pfns, maxn, ref);
    for (size_t t = 0; t < sizeof threads / sizeof *threads; t++) {
        vsmr_pool *pool;
        ck_assert_int_eq(vsmr_pool_new(threads[t], &pool), VSMR_OK);
        ck_assert_uint_eq(vsmr_pool_threads(pool), threads[t]);
        for (size_t b = 0; b < sizeof batches / sizeof *batches; b++)
            for (size_t c = 0; c < sizeof counts / sizeof *counts; c++) {
                memset(got, 0, maxn * sizeof *got);
                ck_assert_int_eq(vsmr_hash_pages(pool, guest, pfns, counts[c],
                                                 batches[b], got), VSMR_OK);
                ck_assert_msg(!memcmp(got, ref, counts[c] * sizeof *got),
                              "threads %u batch %zu count %zu differs",
                              threads[t], batches[b], counts[c]);
            }
        vsmr_pool_free(pool);
    }
    free(pfns); free(ref); free(got);
}
END_TEST

START_TEST(default_threads_is_online_cpus)
{
    vsmr_pool *pool;
    ck_assert_int_eq(vsmr_pool_new(0, &pool), VSMR_OK);
    ck_assert_uint_ge(vsmr_pool_threads(pool), 1);
    vsmr_pool_free(pool);
}
END_TEST

START_TEST(distinct_pages_distinct_hashes_and_diff)
{
    uint64_t pfns[4] = {0, 1, 2, 3};
    vsmr_page_hash a[4], b[4];
    size_t idx[4], n = 99;
    vsmr_pool *pool;
    ck_assert_int_eq(vsmr_pool_new(2, &pool), VSMR_OK);
    ck_assert_int_eq(vsmr_hash_pages(pool, guest, pfns, 4, 0, a), VSMR_OK);
    memcpy(b, a, sizeof a);
    ck_assert_int_eq(vsmr_hash_diff(a, b, 4, idx, &n), VSMR_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert(a[0].lo != a[1].lo || a[0].hi != a[1].hi);
    b[1].hi ^= 1;
    b[3].lo ^= 1;
    ck_assert_int_eq(vsmr_hash_diff(a, b, 4, idx, &n), VSMR_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(idx[0], 1);
    ck_assert_uint_eq(idx[1], 3);
    ck_assert_int_eq(vsmr_hash_diff(a, b, 0, NULL, &n), VSMR_OK);
    ck_assert_uint_eq(n, 0);
    vsmr_pool_free(pool);
}
END_TEST

START_TEST(bitmap_helpers)
{
    uint64_t bm[3] = {0x5, 0x8000000000000000ull, 0xff};
    uint64_t pfns[16];
    /* 130 pages: bits past page 129 are ignored. */
    ck_assert_uint_eq(vsmr_bitmap_count(bm, 130), 5);
    size_t n = vsmr_bitmap_to_pfns(bm, 130, pfns);
    ck_assert_uint_eq(n, 5);
    ck_assert_uint_eq(pfns[0], 0);
    ck_assert_uint_eq(pfns[1], 2);
    ck_assert_uint_eq(pfns[2], 127);
    ck_assert_uint_eq(pfns[3], 128);
    ck_assert_uint_eq(pfns[4], 129);
}
END_TEST

START_TEST(bad_input_is_a_clear_error)
{
    vsmr_pool *pool;
    vsmr_page_hash out[2];
    ck_assert_int_eq(vsmr_pool_new(100000, &pool), VSMR_ERANGE);
    ck_assert_int_eq(vsmr_pool_new(2, &pool), VSMR_OK);
    uint64_t bad[2] = {1, pages + 3};
    ck_assert_int_eq(vsmr_hash_pages(pool, guest, bad, 2, 1, out), VSMR_ERANGE);
    ck_assert_ptr_nonnull(strstr(vsmr_errmsg(), "past the end"));
    ck_assert_int_eq(vsmr_hash_pages(pool, NULL, bad, 1, 1, out), VSMR_EINVAL);
    ck_assert_int_eq(vsmr_hash_pages(pool, guest, bad, 1, 100000, out),
                     VSMR_ERANGE);
    ck_assert_int_eq(vsmr_hash_pages(pool, guest, NULL, 0, 0, NULL), VSMR_OK);
    ck_assert_int_eq(vsmr_pool_run(pool, 1, 0, NULL, NULL), VSMR_EINVAL);
    vsmr_pool_free(pool);
    vsmr_pool_free(NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hash");
    TCase *tc = tcase_create("hash");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, equals_reference_for_any_threads_and_batch);
    tcase_add_test(tc, default_threads_is_online_cpus);
    tcase_add_test(tc, distinct_pages_distinct_hashes_and_diff);
    tcase_add_test(tc, bitmap_helpers);
    tcase_add_test(tc, bad_input_is_a_clear_error);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
