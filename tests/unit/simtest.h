/*
 * simtest.h - helpers for tests that drive a sim guest: synchronous
 * requests and a seeded key-value workload.
 */
#ifndef VSMR_TEST_SIMTEST_H
#define VSMR_TEST_SIMTEST_H

#include <stddef.h>
#include <stdint.h>

#include "vsmr/guest.h"
#include "vsmr/sim.h"

/* Sends one request and waits (up to 10 s) for its response. */
int simtest_call(vsmr_guest *g, int op, const char *key, const void *val,
                 size_t vlen, uint32_t arg, int *status, void *out,
                 size_t *outlen);
/* Sends n SET/GET/DEL requests drawn from seed (keys from a space of
 * `keys`, values 8..200 bytes), all at once, then collects every response.
 * The same seed gives the same request sequence. */
int simtest_workload(vsmr_guest *g, uint64_t seed, size_t n, unsigned keys);
/* Waits until the guest has served every request sent to it. */
int simtest_wait_idle(vsmr_guest *g);
/* Opens a sim guest, failing the test with the library's message. */
vsmr_guest *simtest_open(const char *spec);

#endif
