/*
 * test_sync_core.c - the sync state machine alone: the action sequence of
 * an epoch for each role and mode, early messages for the next epoch,
 * out-of-turn and stale events refused, verify mismatch fails the epoch,
 * aborts resume the guest; and the trigger policy.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "sync/sync.h"
#include "sync/trigger.h"

static struct vsmr_sync *mk(enum vsmr_sync_role r, enum vsmr_sync_mode m,
                            bool verify)
{
    struct vsmr_sync *s;
    struct vsmr_sync_config c = {.role = r, .mode = m, .verify = verify};
    ck_assert_int_eq(vsmr_sync_new(&c, &s), VSMR_OK);
    return s;
}

/* The actions now queued, as a space-separated string. */
static const char *drain(struct vsmr_sync *s)
{
    static char buf[256];
    buf[0] = '\0';
    for (enum vsmr_sync_action a; (a = vsmr_sync_next_action(s));) {
        if (buf[0])
            strcat(buf, " ");
        strcat(buf, vsmr_sync_action_name(a));
    }
    return buf;
}

/* Either role: the peer's bitmap for epoch 1 came before our SYNC entry,
 * so the pause comes at once and hashing right after our own bitmap. */
static void epoch_one_after_an_early_bitmap(struct vsmr_sync *s)
{
    ck_assert_int_eq(vsmr_sync_peer_dirty(s, 1), VSMR_OK);
    ck_assert_int_eq(vsmr_sync_begin(s, 1, 10), VSMR_OK);
    ck_assert_str_eq(drain(s), "pause");
    vsmr_sync_paused(s);
    ck_assert_str_eq(drain(s), "fetch-dirty");
    vsmr_sync_dirty_fetched(s);
    ck_assert_str_eq(drain(s), "send-dirty hash");
}

START_TEST(primary_vsmr_epoch)
{
    struct vsmr_sync *s = mk(VSMR_SYNC_PRIMARY, VSMR_SYNC_MODE_VSMR, true);
    ck_assert_int_eq(vsmr_sync_begin(s, 1, 10), VSMR_OK);
    ck_assert_str_eq(drain(s), "");        /* runs on until the backup stops */
    ck_assert_int_eq(vsmr_sync_paused(s), VSMR_ESTATE);
    ck_assert_int_eq(vsmr_sync_peer_dirty(s, 1), VSMR_OK);
    ck_assert_str_eq(drain(s), "pause");
    ck_assert_int_eq(vsmr_sync_paused(s), VSMR_OK);
    ck_assert_str_eq(drain(s), "fetch-dirty");
    ck_assert_int_eq(vsmr_sync_dirty_fetched(s), VSMR_OK);
    ck_assert_str_eq(drain(s), "send-dirty hash");
    ck_assert_int_eq(vsmr_sync_peer_hashes(s, 1), VSMR_OK);  /* early */
    ck_assert_str_eq(drain(s), "");
    ck_assert_int_eq(vsmr_sync_hashed(s), VSMR_OK);
    ck_assert_str_eq(drain(s), "send-pages");
    ck_assert_int_eq(vsmr_sync_pages_sent(s), VSMR_OK);
    ck_assert_str_eq(drain(s), "verify");
    ck_assert_int_eq(vsmr_sync_peer_ack(s, 1, 7, 8), VSMR_OK);
    ck_assert_str_eq(drain(s), "");                    /* own digest first */
    ck_assert_int_eq(vsmr_sync_verified(s, 7, 8), VSMR_OK);
    ck_assert_str_eq(drain(s), "release-outputs compact resume");
    struct vsmr_sync_status st;
    vsmr_sync_get_status(s, &st);
    ck_assert_uint_eq(st.committed_epoch, 1);
    ck_assert_int_eq(st.phase, VSMR_SYNC_RUNNING);
    vsmr_sync_free(s);
}
END_TEST

/* The backup stopped first (its bitmap came before our SYNC entry):
 * nothing to wait for, the primary pauses at once. */
START_TEST(primary_pauses_at_once_after_an_early_bitmap)
{
    struct vsmr_sync *s = mk(VSMR_SYNC_PRIMARY, VSMR_SYNC_MODE_VSMR, false);
    epoch_one_after_an_early_bitmap(s);
    /* An abort while the pause waits: resumes (a no-op for a running
     * guest) and the next epoch starts clean. */
    ck_assert_int_eq(vsmr_sync_begin(s, 2, 20), VSMR_ESTATE);
    vsmr_sync_abort(s, "test");
    ck_assert_str_eq(drain(s), "aborted resume");
    ck_assert_int_eq(vsmr_sync_begin(s, 2, 20), VSMR_OK);
    ck_assert_str_eq(drain(s), "");
    vsmr_sync_abort(s, "the backup went away");
    ck_assert_str_eq(drain(s), "aborted resume");
    ck_assert_int_eq(vsmr_sync_begin(s, 3, 30), VSMR_OK);
    ck_assert_int_eq(vsmr_sync_peer_dirty(s, 3), VSMR_OK);
    ck_assert_str_eq(drain(s), "pause");
    vsmr_sync_free(s);
}
END_TEST

START_TEST(backup_vsmr_epoch_with_early_dirty)
{
    struct vsmr_sync *s = mk(VSMR_SYNC_BACKUP, VSMR_SYNC_MODE_VSMR, false);
    epoch_one_after_an_early_bitmap(s);   /* the primary's bitmap first */
    vsmr_sync_hashed(s);
    ck_assert_str_eq(drain(s), "send-hashes");
    ck_assert_int_eq(vsmr_sync_peer_done(s, 1), VSMR_OK);
    ck_assert_str_eq(drain(s), "apply");
    vsmr_sync_applied(s);
    ck_assert_str_eq(drain(s), "send-ack drop-outputs compact resume");
    vsmr_sync_free(s);
}
END_TEST

/* A backup replaying old SYNC entries after a restart: the primary's
 * bitmap for epoch 9 is already in, so epoch 7's entry is skipped (not
 * begun, the early message kept) and epoch 9 starts with it. */
START_TEST(stale_begin_skipped_early_kept)
{
    struct vsmr_sync *s = mk(VSMR_SYNC_BACKUP, VSMR_SYNC_MODE_VSMR, false);
    ck_assert_int_eq(vsmr_sync_peer_dirty(s, 9), VSMR_OK);
    ck_assert_int_eq(vsmr_sync_begin(s, 7, 70), VSMR_EINVAL);
    ck_assert_ptr_nonnull(strstr(vsmr_errmsg(), "skipped"));
    ck_assert_str_eq(drain(s), "");
    ck_assert_int_eq(vsmr_sync_begin(s, 9, 90), VSMR_OK);
    ck_assert_str_eq(drain(s), "pause");
    vsmr_sync_paused(s);
    ck_assert_str_eq(drain(s), "fetch-dirty");
    vsmr_sync_dirty_fetched(s);
    ck_assert_str_eq(drain(s), "send-dirty hash");   /* peer's was kept */
    vsmr_sync_free(s);
}
END_TEST

START_TEST(remus_epochs)
{
    struct vsmr_sync *p = mk(VSMR_SYNC_PRIMARY, VSMR_SYNC_MODE_REMUS, false);
    struct vsmr_sync *b = mk(VSMR_SYNC_BACKUP, VSMR_SYNC_MODE_REMUS, false);
    vsmr_sync_begin(p, 1, 5);
    ck_assert_str_eq(drain(p), "pause");
    vsmr_sync_paused(p);
    ck_assert_str_eq(drain(p), "fetch-dirty");
    vsmr_sync_dirty_fetched(p);
    ck_assert_str_eq(drain(p), "send-pages");
    vsmr_sync_pages_sent(p);
    /* The backup gets the pages before its own SYNC entry. */
    ck_assert_int_eq(vsmr_sync_peer_done(b, 1), VSMR_OK);
    vsmr_sync_begin(b, 1, 5);
    ck_assert_str_eq(drain(b), "apply");
    vsmr_sync_applied(b);
    ck_assert_str_eq(drain(b), "send-ack compact");   /* never resumes */
    ck_assert_int_eq(vsmr_sync_peer_dirty(b, 2), VSMR_EPROTO);
    vsmr_sync_peer_ack(p, 1, 0, 0);
    ck_assert_str_eq(drain(p), "release-outputs compact resume");
    vsmr_sync_free(p);
    vsmr_sync_free(b);
}
END_TEST

START_TEST(out_of_turn_and_stale_are_refused)
{
    struct vsmr_sync *s = mk(VSMR_SYNC_PRIMARY, VSMR_SYNC_MODE_VSMR, false);
    ck_assert_int_eq(vsmr_sync_paused(s), VSMR_ESTATE);
    ck_assert_int_eq(vsmr_sync_peer_ack(s, 1, 0, 0), VSMR_EPROTO);
    ck_assert_int_eq(vsmr_sync_peer_done(s, 1), VSMR_EPROTO);  /* primary */
    vsmr_sync_begin(s, 3, 30);
    ck_assert_int_eq(vsmr_sync_begin(s, 4, 40), VSMR_ESTATE);
    ck_assert_int_eq(vsmr_sync_peer_dirty(s, 2), VSMR_EPROTO);  /* stale */
    ck_assert_int_eq(vsmr_sync_peer_hashes(s, 4), VSMR_EPROTO);
    ck_assert_int_eq(vsmr_sync_hashed(s), VSMR_ESTATE);
    vsmr_sync_abort(s, "test");
    ck_assert_str_eq(drain(s), "aborted resume");   /* pause was moot */
    ck_assert_int_eq(vsmr_sync_begin(s, 3, 31), VSMR_EINVAL);  /* not newer */
    ck_assert_int_eq(vsmr_sync_begin(s, 4, 40), VSMR_OK);
    struct vsmr_sync_config bad = {.role = 9, .mode = VSMR_SYNC_MODE_VSMR};
    struct vsmr_sync *x;
    ck_assert_int_eq(vsmr_sync_new(&bad, &x), VSMR_EINVAL);
    vsmr_sync_free(s);
}
END_TEST

START_TEST(verify_mismatch_fails_the_epoch)
{
    struct vsmr_sync *s = mk(VSMR_SYNC_PRIMARY, VSMR_SYNC_MODE_VSMR, true);
    vsmr_sync_begin(s, 1, 1);
    vsmr_sync_peer_dirty(s, 1);
    vsmr_sync_paused(s);
    vsmr_sync_dirty_fetched(s);
    vsmr_sync_hashed(s);
    vsmr_sync_peer_hashes(s, 1);
    vsmr_sync_pages_sent(s);
    vsmr_sync_verified(s, 1, 2);
    drain(s);
    vsmr_sync_peer_ack(s, 1, 1, 3);
    ck_assert_str_eq(drain(s), "aborted resume");
    struct vsmr_sync_status st;
    vsmr_sync_get_status(s, &st);
    ck_assert_uint_eq(st.committed_epoch, 0);
    ck_assert_uint_eq(st.aborted, 1);
    ck_assert_ptr_nonnull(strstr(st.reason, "differs"));
    vsmr_sync_free(s);
}
END_TEST

START_TEST(trigger_policy)
{
    struct vsmr_trigger t;
    struct vsmr_trigger_config c = {.min_interval_ms = 10,
                                    .max_interval_ms = 100, .idle_checks = 3,
                                    .max_held_bytes = 1000};
    ck_assert_int_eq(vsmr_trigger_init(&t, &c, 0), VSMR_OK);
    /* Idle, but too soon. */
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(vsmr_trigger_check(&t, 5, true, true, 0),
                         VSMR_TRIGGER_NONE);
    /* Idle three checks in a row after min interval. */
    ck_assert_int_eq(vsmr_trigger_check(&t, 11, false, true, 0), VSMR_TRIGGER_NONE);
    ck_assert_int_eq(vsmr_trigger_check(&t, 12, true, true, 0), VSMR_TRIGGER_NONE);
    ck_assert_int_eq(vsmr_trigger_check(&t, 13, true, true, 0), VSMR_TRIGGER_NONE);
    ck_assert_int_eq(vsmr_trigger_check(&t, 14, true, true, 0), VSMR_TRIGGER_IDLE);
    vsmr_trigger_synced(&t, 14);
    /* Idle without activity: no sync until max interval. */
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(vsmr_trigger_check(&t, 50, true, false, 0),
                         VSMR_TRIGGER_NONE);
    ck_assert_int_eq(vsmr_trigger_check(&t, 114, false, true, 0),
                     VSMR_TRIGGER_MAX_INTERVAL);
    vsmr_trigger_synced(&t, 114);
    ck_assert_int_eq(vsmr_trigger_check(&t, 115, false, true, 1000),
                     VSMR_TRIGGER_OUTPUT_BOUND);
    struct vsmr_trigger_config bad = {.min_interval_ms = 50, .max_interval_ms = 10};
    ck_assert_int_eq(vsmr_trigger_init(&t, &bad, 0), VSMR_EINVAL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sync_core");
    TCase *tc = tcase_create("sync_core");
    tcase_add_test(tc, primary_vsmr_epoch);
    tcase_add_test(tc, primary_pauses_at_once_after_an_early_bitmap);
    tcase_add_test(tc, backup_vsmr_epoch_with_early_dirty);
    tcase_add_test(tc, stale_begin_skipped_early_kept);
    tcase_add_test(tc, remus_epochs);
    tcase_add_test(tc, out_of_turn_and_stale_are_refused);
    tcase_add_test(tc, verify_mismatch_fails_the_epoch);
    tcase_add_test(tc, trigger_policy);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
