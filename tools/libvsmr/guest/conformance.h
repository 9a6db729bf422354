/*
 * conformance.h - the backend conformance suite: the checks every guest
 * backend must pass, run against "sim" in `make check` and against a real
 * PVH domU in `make lab-check`.
 *
 * The checks drive the backend through guest.h only, plus a few hooks that
 * make the guest itself act (write a page, read one back, show progress);
 * each backend's test supplies those hooks its own way.
 */
#ifndef VSMR_GUEST_CONFORMANCE_H
#define VSMR_GUEST_CONFORMANCE_H

#include <stdint.h>
#include <stdio.h>

#include "vsmr/guest.h"

struct vsmr_conformance_target {
    vsmr_guest *guest;
    void *ctx;
    /* The guest fills one of its pages with `pattern` and says which. */
    int (*guest_write)(void *ctx, uint8_t pattern, uint64_t *pfn);
    /* The guest reads the first 64 bytes of page pfn and returns them. */
    int (*guest_read)(void *ctx, uint64_t pfn, uint8_t out[64]);
    /* A counter that advances while the guest runs and not while it is
     * paused (the hook may itself nudge the guest, e.g. send a request). */
    int (*guest_progress)(void *ctx, uint64_t *counter);
};

struct vsmr_conformance_check {
    const char *name;
    int (*run)(const struct vsmr_conformance_target *t);
};

/* The checks, NULL-terminated. */
extern const struct vsmr_conformance_check vsmr_conformance_checks[];

/* Runs every check, one "PASS name" / "FAIL name: why" line each on out;
 * returns the number that failed. */
int vsmr_conformance_run(const struct vsmr_conformance_target *t, FILE *out);

#endif
