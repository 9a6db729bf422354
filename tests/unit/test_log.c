/*
 * test_log.c - focused tests of the consensus core: election and the
 * primary's preference, commit, truncation of a conflicting suffix,
 * Raft's rule for old-term entries, check-quorum, pre-vote, compaction
 * * with snapshot catch-up, the witness's rules, hostile messages. Cluster
 * tests run with the lazy witness off (_i = 0) and on (_i = 1).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "log_cluster.h"
#include "vsmr/vsmr.h"
#include "wire/wire.h"

START_TEST(primary_wins_first_election)
{
    struct cluster *c = cluster_new(_i);
    cluster_tick(c, 25);
    ck_assert_uint_eq(cluster_leader(c), 1);
    for (uint32_t id = 1; id <= CLUSTER_N; id++) {
        ck_assert_uint_eq(vsmr_log_leader(c->node[id]), 1);
        ck_assert_uint_eq(vsmr_log_term(c->node[id]), 1);
    }
    ck_assert(!vsmr_log_leader_is_witness(c->node[2]));
    cluster_free(c);
}
END_TEST

START_TEST(proposals_commit_and_apply_everywhere)
{
    struct cluster *c = cluster_new(_i);
    cluster_tick(c, 25);
    uint64_t i = cluster_propose(c, 1, "packet-1");
    cluster_propose(c, 1, "packet-2");
    cluster_tick(c, 2);
    for (uint32_t id = 1; id <= CLUSTER_N; id++) {
        ck_assert_uint_ge(vsmr_log_commit_index(c->node[id]), i + 1);
        ck_assert_uint_ge(c->applied[id], i + 1);
        ck_assert(cluster_entry_is(c->node[id], i, "packet-1"));
        ck_assert(cluster_entry_is(c->node[id], i + 1, "packet-2"));
    }
    ck_assert_int_eq(vsmr_log_propose(c->node[2], NULL, 0, NULL),
                     VSMR_ESTATE);
    cluster_free(c);
}
END_TEST

START_TEST(conflicting_suffix_is_truncated)
{
    struct cluster *c = cluster_new(_i);
    cluster_tick(c, 25);
    cluster_isolate(c, 1, true);
    uint64_t lost = cluster_propose(c, 1, "never-committed");
    ck_assert_uint_lt(vsmr_log_commit_index(c->node[1]), lost);
    cluster_tick(c, 40);                 /* 2 and 3 elect the backup */
    ck_assert_uint_eq(cluster_leader(c), 2);
    uint64_t kept = cluster_propose(c, 2, "committed");
    ck_assert_uint_eq(kept, lost + 1);   /* the new leader's NOOP is at lost */
    cluster_isolate(c, 1, false);
    cluster_tick(c, 5);
    const struct vsmr_entry *e = vsmr_log_entry(c->node[1], lost);
    ck_assert_int_eq(e->type, VSMR_ENTRY_NOOP);
    ck_assert_uint_eq(e->term, vsmr_log_term(c->node[2]));
    ck_assert(cluster_entry_is(c->node[1], kept, "committed"));
    ck_assert_uint_ge(vsmr_log_commit_index(c->node[1]), kept);
    cluster_free(c);
}
END_TEST

/* Feeds one handcrafted message from `from` to a lone core. */
static int feed(struct vsmr_log *l, uint8_t type, uint32_t from,
                uint64_t term, uint64_t index, uint8_t flags)
{
    struct vsmr_msg m = {.type = type, .from = from, .to = vsmr_log_id(l),
                         .term = term, .index = index, .flags = flags};
    int rc = vsmr_log_step(l, &m);
    struct vsmr_log_ready rd;
    while (vsmr_log_has_ready(l)) {
        vsmr_log_ready(l, &rd);
        vsmr_log_advance(l);
    }
    return rc;
}

START_TEST(old_term_entry_commits_only_under_current_term)
{
    struct vsmr_log *l = cluster_make_node(1, 7, false);
    struct vsmr_entry old[2] = {{.index = 1, .term = 1},
                                {.index = 2, .term = 2}};
    struct vsmr_log_persisted p = {.hs = {.term = 2}, .entries = old,
                                   .n_entries = 2};
    ck_assert_int_eq(vsmr_log_restore(l, &p), 0);
    while (vsmr_log_role(l) != VSMR_LOG_PRE_CANDIDATE)
        vsmr_log_tick(l);
    feed(l, VSMR_MSG_PREVOTE_RESP, 2, 3, 0, 0);
    ck_assert_int_eq(vsmr_log_role(l), VSMR_LOG_CANDIDATE);
    feed(l, VSMR_MSG_VOTE_RESP, 2, 3, 0, 0);
    ck_assert_int_eq(vsmr_log_role(l), VSMR_LOG_LEADER);
    ck_assert_uint_eq(vsmr_log_last_index(l), 3);   /* the NOOP */
    /* A majority holds entry 2 (term 2) but it is not of term 3. */
    feed(l, VSMR_MSG_APPEND_RESP, 2, 3, 2, 0);
    ck_assert_uint_eq(vsmr_log_commit_index(l), 0);
    feed(l, VSMR_MSG_APPEND_RESP, 2, 3, 3, 0);
    ck_assert_uint_eq(vsmr_log_commit_index(l), 3);
    vsmr_log_free(l);
}
END_TEST

START_TEST(isolated_leader_steps_down)
{
    struct cluster *c = cluster_new(_i);
    cluster_tick(c, 25);
    ck_assert_uint_eq(cluster_leader(c), 1);
    cluster_isolate(c, 1, true);
    c->down[2] = c->down[3] = true;   /* only node 1 ticks */
    cluster_tick(c, 21);
    ck_assert_int_ne(vsmr_log_role(c->node[1]), VSMR_LOG_LEADER);
    cluster_free(c);
}
END_TEST

START_TEST(pre_vote_keeps_partitioned_term)
{
    struct cluster *c = cluster_new(_i);
    cluster_tick(c, 25);
    uint64_t term = vsmr_log_term(c->node[1]);
    cluster_isolate(c, 3, true);
    cluster_tick(c, 200);
    ck_assert_uint_eq(vsmr_log_term(c->node[3]), term);
    cluster_isolate(c, 3, false);
    cluster_tick(c, 5);
    ck_assert_uint_eq(cluster_leader(c), 1);
    ck_assert_uint_eq(vsmr_log_term(c->node[1]), term);
    cluster_free(c);
}
END_TEST

START_TEST(compacted_entries_reach_follower_as_snapshot)
{
    struct cluster *c = cluster_new(_i);
    cluster_tick(c, 25);
    cluster_isolate(c, 3, true);
    uint64_t last = 0;
    for (int i = 0; i < 20; i++)
        last = cluster_propose(c, 1, "input");
    cluster_tick(c, 2);
    ck_assert_uint_ge(c->applied[1], last);
    ck_assert_int_eq(vsmr_log_compact(c->node[1], last - 3), 0);
    ck_assert_int_eq(vsmr_log_compact(c->node[1], last + 5), VSMR_ERANGE);
    ck_assert_uint_eq(vsmr_log_first_index(c->node[1]), last - 2);
    cluster_isolate(c, 3, false);
    cluster_tick(c, 5);
    ck_assert(c->snapshot_seen[3]);
    ck_assert_uint_eq(vsmr_log_first_index(c->node[3]), last - 2);
    ck_assert_uint_eq(vsmr_log_commit_index(c->node[3]),
                      vsmr_log_commit_index(c->node[1]));
    ck_assert(cluster_entry_is(c->node[3], last, "input"));
    cluster_free(c);
}
END_TEST

START_TEST(witness_leads_only_until_a_vm_replica_catches_up)
{
    struct cluster *c = cluster_new(_i);
    cluster_tick(c, 25);
    c->cut[1][2] = c->cut[2][1] = true;   /* backup falls behind */
    uint64_t last = cluster_propose(c, 1, "only-on-1-and-3");
    cluster_tick(c, 2);
    ck_assert_uint_ge(vsmr_log_commit_index(c->node[3]), last);
    c->down[1] = true;                    /* the primary dies */
    cluster_isolate(c, 1, true);
    bool witness_led = false;
    for (int t = 0; t < 100 && cluster_leader(c) != 2; t++) {
        cluster_tick(c, 1);
        if (cluster_leader(c) == 3) {
            witness_led = true;
            ck_assert(vsmr_log_leader_is_witness(c->node[3]));
            struct vsmr_entry e = {.type = VSMR_ENTRY_NORMAL};
            ck_assert_int_eq(vsmr_log_propose(c->node[3], &e, 1, NULL),
                             VSMR_ESTATE);
        }
    }
    ck_assert(witness_led);                  /* 2 alone could not win */
    ck_assert_uint_eq(cluster_leader(c), 2);      /* and it handed over */
    ck_assert(cluster_entry_is(c->node[2], last, "only-on-1-and-3"));
    ck_assert(!vsmr_log_leader_is_witness(c->node[2]));
    cluster_propose(c, 2, "after-failover");
    cluster_free(c);
}
END_TEST

START_TEST(hostile_messages_are_refused)
{
    struct cluster *c = cluster_new(_i);
    cluster_tick(c, 25);
    uint64_t i = cluster_propose(c, 1, "committed");
    cluster_tick(c, 2);
    struct vsmr_log *f = c->node[2];
    uint64_t term = vsmr_log_term(f);
    struct vsmr_entry bad = {.index = i, .term = term + 1, .type = 1,
                             .data = (const uint8_t *)"evil", .len = 4};
    struct vsmr_msg m = {.type = VSMR_MSG_APPEND, .from = 1, .to = 2,
                         .term = term + 1, .index = i - 1, .entries = &bad,
                         .n_entries = 1, .commit = i,
                         .log_term = vsmr_log_entry(f, i - 1)->term};
    /* a rewrite of committed entry i is ignored, never applied */
    ck_assert_int_eq(vsmr_log_step(f, &m), 0);
    ck_assert(cluster_entry_is(f, i, "committed"));
    cluster_drive(c, 2);
    m.to = 3;
    ck_assert_int_eq(vsmr_log_step(f, &m), VSMR_EPROTO);   /* not for me */
    m.to = 2;
    m.from = 2;
    ck_assert_int_eq(vsmr_log_step(f, &m), VSMR_EPROTO);   /* from myself */
    m.from = 1;
    bad.index = i + 7;
    ck_assert_int_eq(vsmr_log_step(f, &m), VSMR_EPROTO);   /* gap */
    bad.index = i;
    bad.term = term + 5;
    ck_assert_int_eq(vsmr_log_step(f, &m), VSMR_EPROTO);   /* future term */
    ck_assert_ptr_nonnull(strstr(vsmr_errmsg(), "entry terms"));
    struct vsmr_log_stats st;
    vsmr_log_stats(f, &st);
    ck_assert_uint_eq(st.msgs_rejected, 4);
    ck_assert(cluster_entry_is(f, i, "committed"));
    cluster_free(c);
}
END_TEST

START_TEST(learner_never_votes)
{
    struct vsmr_log_config cfg = {.id = 2, .n_nodes = CLUSTER_N, .learner = true};
    memcpy(cfg.kinds, cluster_kinds, sizeof cluster_kinds);
    struct vsmr_log *l;
    ck_assert_int_eq(vsmr_log_new(&cfg, &l), 0);
    for (int t = 0; t < 100; t++)
        vsmr_log_tick(l);
    ck_assert_int_eq(vsmr_log_role(l), VSMR_LOG_FOLLOWER);
    struct vsmr_msg m = {.type = VSMR_MSG_VOTE, .from = 1, .to = 2,
                         .term = 1};
    ck_assert_int_eq(vsmr_log_step(l, &m), 0);
    struct vsmr_log_ready rd;
    vsmr_log_ready(l, &rd);
    ck_assert_uint_eq(rd.n_msgs, 1);
    ck_assert(rd.msgs[0].flags & VSMR_MSG_F_REJECT);
    ck_assert_uint_eq(rd.hard_state.vote, 0);
    vsmr_log_advance(l);
    vsmr_log_set_voter(l);
    ck_assert(vsmr_log_is_voter(l));
    vsmr_log_free(l);
}
END_TEST

/* A backup that may not campaign (its guest lacks the protected state)
 * still votes and stores entries, never starts an election, and does not
 * take over on a transfer; when the primary dies the witness leads and
 * keeps trying to hand over, and once the backup may campaign again it
 * takes over. */
START_TEST(non_candidate_never_campaigns)
{
    struct cluster *c = cluster_new(_i);
    vsmr_log_set_candidate(c->node[2], false);
    cluster_tick(c, 25);
    ck_assert_uint_eq(cluster_leader(c), 1);
    uint64_t i = cluster_propose(c, 1, "before");
    cluster_tick(c, 2);
    ck_assert(cluster_entry_is(c->node[2], i, "before"));
    ck_assert_int_eq(vsmr_log_transfer_leadership(c->node[1], 2), VSMR_OK);
    cluster_tick(c, 30);
    ck_assert_uint_eq(cluster_leader(c), 1);   /* the transfer went nowhere */
    c->down[1] = true;                         /* the primary dies */
    cluster_isolate(c, 1, true);
    for (int t = 0; t < 100; t++) {
        cluster_tick(c, 1);
        ck_assert_uint_ne(cluster_leader(c), 2);
    }
    ck_assert_uint_eq(cluster_leader(c), 3);   /* 2 voted for the witness */
    vsmr_log_set_candidate(c->node[2], true);
    for (int t = 0; t < 100 && cluster_leader(c) != 2; t++)
        cluster_tick(c, 1);
    ck_assert_uint_eq(cluster_leader(c), 2);
    cluster_free(c);
}
END_TEST

START_TEST(bad_config_is_refused)
{
    struct vsmr_log_config cfg = {.id = 4, .n_nodes = 3};
    memcpy(cfg.kinds, cluster_kinds, sizeof cluster_kinds);
    struct vsmr_log *l = (struct vsmr_log *)1;
    ck_assert_int_eq(vsmr_log_new(&cfg, &l), VSMR_EINVAL);
    ck_assert_ptr_null(l);
    cfg.id = 1;
    cfg.kinds[2] = 0;
    ck_assert_int_eq(vsmr_log_new(&cfg, &l), VSMR_EINVAL);
    ck_assert_ptr_nonnull(strstr(vsmr_errmsg(), "replica 3 has no kind"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("log");
    tcase_add_loop_test(tc, primary_wins_first_election, 0, 2);
    tcase_add_loop_test(tc, proposals_commit_and_apply_everywhere, 0, 2);
    tcase_add_loop_test(tc, conflicting_suffix_is_truncated, 0, 2);
    tcase_add_test(tc, old_term_entry_commits_only_under_current_term);
    tcase_add_loop_test(tc, isolated_leader_steps_down, 0, 2);
    tcase_add_loop_test(tc, pre_vote_keeps_partitioned_term, 0, 2);
    tcase_add_loop_test(tc, compacted_entries_reach_follower_as_snapshot, 0, 2);
    tcase_add_loop_test(tc, witness_leads_only_until_a_vm_replica_catches_up, 0, 2);
    tcase_add_loop_test(tc, hostile_messages_are_refused, 0, 2);
    tcase_add_test(tc, learner_never_votes);
    tcase_add_loop_test(tc, non_candidate_never_campaigns, 0, 2);
    tcase_add_test(tc, bad_config_is_refused);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
