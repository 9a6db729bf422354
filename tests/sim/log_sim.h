/*
 * log_sim.h - a deterministic simulator of three consensus cores in one
 * process: seeded network (loss, duplication, delay, reordering,
 * partitions), crashes with persisted state kept, wiped restarts, and
 * invariant checks after every event. Included by tests/unit/test_log_sim.c.
 */
#ifndef VSMR_TESTS_LOG_SIM_H
#define VSMR_TESTS_LOG_SIM_H

#include <stdbool.h>
#include <stdint.h>

struct sim_result {
    bool ok;
    char why[256];          /* first violated invariant */
    uint64_t committed;     /* entries committed in the run */
    uint64_t elections, crashes, wipes, msgs, merged;
    uint64_t early_crashes; /* crashed after early APPENDs, before persist */
    uint64_t deferred;      /* proposals a lazy witness got in a batch */
};

struct sim_params {
    uint64_t seed;
    uint32_t fault_ticks;   /* ticks with faults */
    uint32_t heal_ticks;    /* max ticks to recover after healing */
    bool lazy_witness;      /* config.lazy_witness of every replica */
    bool verbose;
};

void sim_run(const struct sim_params *p, struct sim_result *r);

#endif
