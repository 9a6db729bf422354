/*
 * test_netio_epoch.c - the output-epoch bookkeeping over sch_plug: which
 * kernel commands an epoch end or commit sends, merging when the kernel's
 * single closed-epoch slot is busy, and order checks.
 */
#include <check.h>

#include "netio/epoch.h"
#include "vsmr/vsmr.h"

static enum netbuf_cmd end(struct netbuf_epochs *st, uint64_t e)
{
    enum netbuf_cmd c;
    ck_assert_int_eq(netbuf_epochs_end(st, e, &c), VSMR_OK);
    return c;
}

static enum netbuf_cmd commit(struct netbuf_epochs *st, uint64_t e)
{
    enum netbuf_cmd c;
    ck_assert_int_eq(netbuf_epochs_commit(st, e, &c), VSMR_OK);
    return c;
}

START_TEST(end_then_commit_releases_one)
{
    struct netbuf_epochs st;
    netbuf_epochs_init(&st);
    ck_assert_int_eq(end(&st, 1), NETBUF_CMD_BUFFER);
    ck_assert_int_eq(commit(&st, 1), NETBUF_CMD_RELEASE_ONE);
    ck_assert_int_eq(end(&st, 2), NETBUF_CMD_BUFFER);
    ck_assert_int_eq(commit(&st, 2), NETBUF_CMD_RELEASE_ONE);
    ck_assert_int_eq(commit(&st, 2), NETBUF_CMD_NONE);   /* again: no-op */
}
END_TEST

START_TEST(second_end_before_commit_merges)
{
    struct netbuf_epochs st;
    netbuf_epochs_init(&st);
    ck_assert_int_eq(end(&st, 1), NETBUF_CMD_BUFFER);
    /* The kernel counts one closed epoch: epoch 2 stays in the open one. */
    ck_assert_int_eq(end(&st, 2), NETBUF_CMD_NONE);
    ck_assert_uint_eq(st.merged, 1);
    ck_assert_int_eq(commit(&st, 1), NETBUF_CMD_RELEASE_ONE);
    /* Epoch 2's outputs are not closed yet: nothing to release. */
    ck_assert_int_eq(commit(&st, 2), NETBUF_CMD_NONE);
    /* They go with epoch 3 (later, never earlier). */
    ck_assert_int_eq(end(&st, 3), NETBUF_CMD_BUFFER);
    ck_assert_int_eq(commit(&st, 3), NETBUF_CMD_RELEASE_ONE);
}
END_TEST

START_TEST(commit_of_a_later_epoch_covers_the_slot)
{
    struct netbuf_epochs st;
    netbuf_epochs_init(&st);
    end(&st, 4);
    end(&st, 5);
    ck_assert_int_eq(commit(&st, 5), NETBUF_CMD_RELEASE_ONE);
}
END_TEST

START_TEST(commit_never_releases_an_uncommitted_slot)
{
    struct netbuf_epochs st;
    netbuf_epochs_init(&st);
    end(&st, 1);
    commit(&st, 1);
    end(&st, 2);
    end(&st, 3);   /* merged */
    ck_assert_int_eq(commit(&st, 1), NETBUF_CMD_NONE);   /* old */
    ck_assert_int_eq(commit(&st, 2), NETBUF_CMD_RELEASE_ONE);
}
END_TEST

START_TEST(order_is_checked)
{
    struct netbuf_epochs st;
    enum netbuf_cmd c;
    netbuf_epochs_init(&st);
    ck_assert_int_eq(netbuf_epochs_end(&st, 0, &c), VSMR_ESTATE);
    end(&st, 3);
    ck_assert_int_eq(netbuf_epochs_end(&st, 3, &c), VSMR_ESTATE);
    ck_assert_int_eq(netbuf_epochs_end(&st, 2, &c), VSMR_ESTATE);
    ck_assert_int_eq(netbuf_epochs_commit(&st, 4, &c), VSMR_ESTATE);
    ck_assert_int_eq(c, NETBUF_CMD_NONE);
}
END_TEST

START_TEST(passing_mode_sends_nothing)
{
    struct netbuf_epochs st;
    netbuf_epochs_init(&st);
    end(&st, 1);
    netbuf_epochs_on_unplug(&st);
    ck_assert_int_eq(end(&st, 2), NETBUF_CMD_NONE);
    ck_assert_int_eq(commit(&st, 2), NETBUF_CMD_NONE);
    /* A raw plug from passing starts holding with nothing closed. */
    netbuf_epochs_on_buffer(&st);
    ck_assert(!st.passing);
    ck_assert_int_eq(end(&st, 3), NETBUF_CMD_BUFFER);
    ck_assert_int_eq(commit(&st, 3), NETBUF_CMD_RELEASE_ONE);
}
END_TEST

START_TEST(drop_and_raw_commands_keep_the_books)
{
    struct netbuf_epochs st;
    netbuf_epochs_init(&st);
    end(&st, 1);
    netbuf_epochs_on_drop(&st);   /* the backup at a commit */
    ck_assert(!st.slot_busy);
    ck_assert_int_eq(commit(&st, 1), NETBUF_CMD_NONE);
    netbuf_epochs_on_buffer(&st); /* raw plug: closes as epoch 2 */
    ck_assert_int_eq(commit(&st, 1), NETBUF_CMD_NONE);
    ck_assert_int_eq(end(&st, 2), NETBUF_CMD_NONE);   /* slot busy */
    ck_assert_int_eq(commit(&st, 2), NETBUF_CMD_RELEASE_ONE);
    netbuf_epochs_on_buffer(&st);
    netbuf_epochs_on_release_one(&st);
    ck_assert(!st.slot_busy);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("netio_epoch");
    TCase *tc = tcase_create("epoch");
    tcase_add_test(tc, end_then_commit_releases_one);
    tcase_add_test(tc, second_end_before_commit_merges);
    tcase_add_test(tc, commit_of_a_later_epoch_covers_the_slot);
    tcase_add_test(tc, commit_never_releases_an_uncommitted_slot);
    tcase_add_test(tc, order_is_checked);
    tcase_add_test(tc, passing_mode_sends_nothing);
    tcase_add_test(tc, drop_and_raw_commands_keep_the_books);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
