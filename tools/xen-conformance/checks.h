/*
 * checks.h - the guest-backend conformance checks. They speak only the
 * guest interface (vsmr/guest.h) plus the test guest's agent protocol, so
 * any backend whose test guest runs that agent can be held to them.
 */
#ifndef VSMR_XC_CHECKS_H
#define VSMR_XC_CHECKS_H

#include <stdbool.h>
#include <stdint.h>

#include "agent.h"
#include "vsmr/guest.h"

struct conf {
    vsmr_guest *g;
    struct agent *a;
    uint64_t *bitmap;      /* dirty bitmap fetched by check_dirty */
    size_t nwords;
    uint64_t gfn;          /* the agent's page */
    uint64_t seed;
    int passed, failed, skipped;
};

/* Each prints "CHECK <name> PASS|FAIL|SKIP <detail>" and counts itself. */
void check_pause(struct conf *c);
void check_idle(struct conf *c);
void check_dirty_and_content(struct conf *c);   /* leaves the guest paused */
void check_paused_hash_stable(struct conf *c);  /* expects it paused */
void check_write_seen(struct conf *c);          /* unpauses */
void check_context_roundtrip(struct conf *c);
void check_suspend_resume(struct conf *c);
void check_error_paths(struct conf *c);

#endif
