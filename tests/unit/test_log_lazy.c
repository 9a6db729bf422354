/*
 * test_log_lazy.c - what a user of the lazy witness relies on: while the
 * backup keeps up, the witness gets entries in batches (a few APPENDs a
 * tick, not one per entry) and every entry commits on the backup's
 * acknowledgement alone; when the backup is cut off or dead, entries
 * commit through the witness again within two ticks; after a failover
 * the backup, which acknowledged everything, wins over a lagging witness.
 */
#include <check.h>
#include <stdlib.h>

#include "log/log.h"
#include "log_cluster.h"

#define TICKS       20
#define PER_TICK    50

/* A cluster led by the primary, with a few entries committed. */
static struct cluster *steady_cluster(bool lazy)
{
    struct cluster *c = cluster_new(lazy);
    cluster_tick(c, 25);
    ck_assert_uint_eq(cluster_leader(c), 1);
    for (int i = 0; i < 5; i++)
        cluster_propose(c, 1, "warm-up");
    cluster_tick(c, 3);
    return c;
}

/* Proposes on the primary; true if it committed before any tick. */
static bool commits_at_once(struct cluster *c, uint64_t *index)
{
    uint64_t i = cluster_propose(c, 1, "input");
    if (index)
        *index = i;
    return vsmr_log_commit_index(c->node[1]) >= i;
}

/* _i = 1: lazy witness on; 0: off, as the comparison. */
START_TEST(healthy_backup_leaves_witness_to_batches)
{
    struct cluster *c = steady_cluster(_i);
    uint64_t before = c->appends_to[3], first = 0, last = 0;
    for (int t = 0; t < TICKS; t++) {
        for (int k = 0; k < PER_TICK; k++) {
            /* the backup's acknowledgement alone commits */
            ck_assert(commits_at_once(c, &last));
            first = first ? first : last;
        }
        cluster_tick(c, 1);
    }
    uint64_t appends = c->appends_to[3] - before, n = last - first + 1;
    if (_i)   /* a batch and a heartbeat per tick */
        ck_assert_uint_le(appends, 2 * TICKS + n / VSMR_LOG_LAZY_ENTRIES);
    else      /* at least one APPEND per entry */
        ck_assert_uint_ge(appends, n);
    /* the tick's batch brought the witness everything */
    ck_assert_uint_eq(vsmr_log_last_index(c->node[3]), last);
    cluster_tick(c, 1);
    ck_assert_uint_eq(vsmr_log_commit_index(c->node[3]), last);
    ck_assert(cluster_entry_is(c->node[3], last, "input"));
    cluster_free(c);
}
END_TEST

START_TEST(a_full_batch_leaves_before_the_tick)
{
    struct cluster *c = steady_cluster(true);
    uint64_t before = c->appends_to[3], last = 0;
    for (uint32_t k = 0; k < VSMR_LOG_LAZY_ENTRIES; k++)
        ck_assert(commits_at_once(c, &last));
    ck_assert_uint_eq(c->appends_to[3] - before, 1);
    ck_assert_uint_eq(vsmr_log_last_index(c->node[3]), last);
    cluster_free(c);
}
END_TEST

START_TEST(cut_off_backup_commits_go_through_witness)
{
    struct cluster *c = steady_cluster(true);
    cluster_isolate(c, 2, true);
    uint32_t ticks = 0;
    uint64_t i;
    while (!commits_at_once(c, &i)) {
        cluster_tick(c, 1);   /* the witness's batch commits it */
        ck_assert_uint_ge(vsmr_log_commit_index(c->node[1]), i);
        ck_assert_uint_le(++ticks, 2);
    }
    for (int k = 0; k < 20; k++)
        ck_assert(commits_at_once(c, NULL));
    /* the backup returns, catches up, and the witness waits again */
    cluster_isolate(c, 2, false);
    cluster_tick(c, 5);
    ck_assert_uint_eq(vsmr_log_last_index(c->node[2]),
                      vsmr_log_last_index(c->node[1]));
    uint64_t before = c->appends_to[3];
    for (int k = 0; k < 100; k++)
        ck_assert(commits_at_once(c, NULL));
    ck_assert_uint_eq(c->appends_to[3], before);
    cluster_free(c);
}
END_TEST

START_TEST(backup_that_acked_everything_wins_over_lagging_witness)
{
    struct cluster *c = steady_cluster(true);
    uint64_t last = 0;
    for (int k = 0; k < 30; k++)
        ck_assert(commits_at_once(c, &last));
    ck_assert_uint_lt(vsmr_log_last_index(c->node[3]), last);  /* lags */
    c->down[1] = true;                    /* the primary dies */
    cluster_isolate(c, 1, true);
    for (int t = 0; t < 100 && cluster_leader(c) != 2; t++) {
        cluster_tick(c, 1);
        ck_assert_uint_ne(cluster_leader(c), 3);  /* its log is shorter */
    }
    ck_assert_uint_eq(cluster_leader(c), 2);
    ck_assert(cluster_entry_is(c->node[2], last, "input"));
    cluster_tick(c, 1);   /* its first heartbeat brings the witness along */
    ck_assert(cluster_entry_is(c->node[3], last, "input"));
    /* the new leader's only VM-running peer is down: the witness is
     * needed for every commit, and gets every entry at once */
    for (int k = 0; k < 20; k++) {
        uint64_t i = cluster_propose(c, 2, "after-failover");
        ck_assert_uint_ge(vsmr_log_commit_index(c->node[2]), i);
    }
    cluster_free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("log_lazy");
    TCase *tc = tcase_create("lazy");
    tcase_add_loop_test(tc, healthy_backup_leaves_witness_to_batches, 0, 2);
    tcase_add_test(tc, a_full_batch_leaves_before_the_tick);
    tcase_add_test(tc, cut_off_backup_commits_go_through_witness);
    tcase_add_test(tc, backup_that_acked_everything_wins_over_lagging_witness);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
