/*
 * test_guest_sync.c - the guest interface's sync stops on the sim backend:
 * the order guest.c enforces (out of order is VSMR_ESTATE naming the
 * state), the pause flag that follows each step, repeats that are no-ops,
 * what close does mid-copy, and the sim's trivial shared and mappable sets.
 */
#include <check.h>
#include <string.h>

#include "common/err.h"
#include "simtest.h"

static bool paused(vsmr_guest *g)
{
    bool p;
    ck_assert_int_eq(vsmr_guest_is_paused(g, &p), VSMR_OK);
    return p;
}

START_TEST(backup_steps_in_order)
{
    vsmr_guest *g = simtest_open("pages=256,workers=2");
    ck_assert_int_eq(vsmr_guest_backup_begin(g), VSMR_ESTATE);
    ck_assert_ptr_nonnull(strstr(vsmr_errmsg(), "not in a sync"));
    ck_assert_int_eq(vsmr_guest_backup_end(g, true), VSMR_ESTATE);
    ck_assert_int_eq(vsmr_guest_backup_prepare(g), VSMR_OK);
    ck_assert(paused(g));
    ck_assert_int_eq(vsmr_guest_backup_prepare(g), VSMR_OK);   /* no-op */
    ck_assert_int_eq(vsmr_guest_stop_for_sync(g), VSMR_ESTATE);
    ck_assert_int_eq(vsmr_guest_backup_end(g, true), VSMR_ESTATE);
    ck_assert_int_eq(vsmr_guest_backup_begin(g), VSMR_OK);
    ck_assert_int_eq(vsmr_guest_backup_end(g, false), VSMR_OK);
    ck_assert(paused(g));                       /* reconnected, held */
    ck_assert_int_eq(vsmr_guest_backup_end(g, true), VSMR_OK);
    ck_assert(!paused(g));
    char trace[128];
    ck_assert_int_eq(vsmr_sim_sync_trace(g, trace, sizeof trace), VSMR_OK);
    ck_assert_str_eq(trace, "prepare begin end end");
    vsmr_guest_close(g);
}
END_TEST

START_TEST(primary_stop_and_continue)
{
    vsmr_guest *g = simtest_open("pages=256,workers=2");
    ck_assert_int_eq(vsmr_guest_continue_after_sync(g), VSMR_OK); /* no-op */
    ck_assert_int_eq(vsmr_guest_stop_for_sync(g), VSMR_OK);
    ck_assert(paused(g));
    ck_assert_int_eq(vsmr_guest_backup_prepare(g), VSMR_ESTATE);
    ck_assert_ptr_nonnull(strstr(vsmr_errmsg(), "stopped for a sync"));
    ck_assert_int_eq(vsmr_guest_continue_after_sync(g), VSMR_OK);
    ck_assert(!paused(g));
    /* A failed stop leaves it running. */
    ck_assert_int_eq(vsmr_sim_fail_sync_step(g, "stop"), VSMR_OK);
    ck_assert_int_eq(vsmr_guest_stop_for_sync(g), VSMR_EIO);
    ck_assert(!paused(g));
    ck_assert_int_eq(vsmr_sim_fail_sync_step(g, "nope"), VSMR_EINVAL);
    vsmr_guest_close(g);
}
END_TEST

START_TEST(cancel_and_close_mid_copy)
{
    vsmr_guest *g = simtest_open("pages=256,workers=2");
    ck_assert_int_eq(vsmr_guest_backup_prepare(g), VSMR_OK);
    ck_assert_int_eq(vsmr_guest_backup_begin(g), VSMR_OK);
    /* A backend that cannot restart it keeps it stopped. */
    ck_assert_int_eq(vsmr_sim_fail_sync_step(g, "cancel"), VSMR_OK);
    ck_assert_int_eq(vsmr_guest_backup_cancel(g), VSMR_ESTATE);
    ck_assert(paused(g));
    ck_assert_int_eq(vsmr_guest_backup_cancel(g), VSMR_OK);
    ck_assert(!paused(g));
    /* A failed prepare that the backend can undo leaves it running. */
    ck_assert_int_eq(vsmr_sim_fail_sync_step(g, "prepare"), VSMR_OK);
    ck_assert_int_eq(vsmr_guest_backup_prepare(g), VSMR_EIO);
    ck_assert(!paused(g));
    ck_assert_int_eq(vsmr_guest_backup_prepare(g), VSMR_OK);
    vsmr_guest_close(g);                        /* cancels: no leak, no hang */
}
END_TEST

START_TEST(sim_shares_nothing_and_maps_everything)
{
    vsmr_guest *g = simtest_open("pages=200,workers=1");
    uint64_t pfns[4], bm[4];
    size_t n = 99;
    ck_assert_int_eq(vsmr_guest_shared_pages(g, pfns, 4, &n), VSMR_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(vsmr_guest_mappable(g, bm, 3), VSMR_ERANGE);
    ck_assert_int_eq(vsmr_guest_mappable(g, bm, 4), VSMR_OK);
    ck_assert(bm[0] == UINT64_MAX && bm[2] == UINT64_MAX);
    ck_assert_uint_eq(bm[3], (UINT64_C(1) << 8) - 1);
    bool up = false;
    ck_assert_int_eq(vsmr_guest_devices_connected(g, 0, &up), VSMR_OK);
    ck_assert(up);
    struct vsmr_guest_backup_figures f;
    ck_assert_int_eq(vsmr_guest_backup_figures(g, &f), VSMR_OK);
    ck_assert_int_eq(f.store_port, -1);
    vsmr_guest_close(g);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("guest_sync");
    TCase *tc = tcase_create("guest_sync");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, backup_steps_in_order);
    tcase_add_test(tc, primary_stop_and_continue);
    tcase_add_test(tc, cancel_and_close_mid_copy);
    tcase_add_test(tc, sim_shares_nothing_and_maps_everything);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
