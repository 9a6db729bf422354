/*
 * test_log_sim.c - runs the deterministic simulator of three consensus
 * cores (tests/sim/) over many seeds, with the lazy witness on (as vsmrd
 * runs) and off. VSMR_SIM_SEEDS=N runs N seeds per mode (half as many
 * with it off), VSMR_SIM_SEED=S replays one; a failing seed is printed.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "../sim/log_sim.c"

static uint64_t env_u64(const char *name, uint64_t dflt)
{
    const char *v = getenv(name);
    return v && *v ? strtoull(v, NULL, 0) : dflt;
}

static bool run_seed(uint64_t seed, bool lazy, struct sim_result *r)
{
    struct sim_params p = {.seed = seed, .fault_ticks = 400,
                           .heal_ticks = 3000, .lazy_witness = lazy,
                           .verbose = getenv("VSMR_SIM_TRACE") != NULL};
    sim_run(&p, r);
    if (!r->ok)
        fprintf(stderr, "log sim: seed %llu (lazy witness %s) FAILED: %s\n"
                "  replay: VSMR_SIM_SEED=%llu %s\n",
                (unsigned long long)seed, lazy ? "on" : "off", r->why,
                (unsigned long long)seed, "build/tests/test_log_sim");
    return r->ok;
}

/* _i = 1: lazy witness on; 0: off (the plain Raft fan-out). */
START_TEST(many_seeds_keep_every_invariant)
{
    bool lazy = _i;
    const char *one = getenv("VSMR_SIM_SEED");
    uint64_t first = one && *one ? strtoull(one, NULL, 0) : 1;
    uint64_t n = one && *one ? 1 : env_u64("VSMR_SIM_SEEDS", 4000);
    if (!lazy && n > 1)
        n /= 2;
    uint64_t committed = 0, crashes = 0, wipes = 0, msgs = 0, failed = 0;
    uint64_t merged = 0, early_crashes = 0, deferred = 0;
    for (uint64_t seed = first; seed < first + n; seed++) {
        struct sim_result r;
        failed += !run_seed(seed, lazy, &r);
        committed += r.committed;
        crashes += r.crashes;
        wipes += r.wipes;
        msgs += r.msgs;
        merged += r.merged;
        early_crashes += r.early_crashes;
        deferred += r.deferred;
    }
    fprintf(stderr, "log sim, lazy witness %s: %llu seeds, %llu failed; "
            "%llu entries committed, %llu crashes, %llu wipes, %llu "
            "messages, %llu appends merged, %llu deferred, %llu crashes "
            "between early sends and persisting\n", lazy ? "on" : "off",
            (unsigned long long)n, (unsigned long long)failed,
            (unsigned long long)committed, (unsigned long long)crashes,
            (unsigned long long)wipes, (unsigned long long)msgs,
            (unsigned long long)merged, (unsigned long long)deferred,
            (unsigned long long)early_crashes);
    ck_assert_uint_eq(failed, 0);
    if (n >= 100) {
        /* the runs did real work: commits despite the faults */
        ck_assert_uint_gt(committed, n * 10);
        ck_assert_uint_gt(crashes, n / 10);
        ck_assert_uint_gt(wipes, 0);
        ck_assert_uint_gt(merged, 0);
        ck_assert_uint_gt(early_crashes, 0);
        if (lazy)   /* the witness really was left to its batches */
            ck_assert_uint_gt(deferred, committed / 20);
        else
            ck_assert_uint_eq(deferred, 0);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("log_sim");
    TCase *tc = tcase_create("sim");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, many_seeds_keep_every_invariant, 0, 2);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
