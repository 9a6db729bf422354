/*
 * workload.h - what the client asks for next: a seeded choice of operation
 * and of a key that has no request in flight. Same seed, same choices.
 */
#ifndef VSMR_CLIENT_WORKLOAD_H
#define VSMR_CLIENT_WORKLOAD_H

#include <stdint.h>

struct workload {
    uint64_t state;
    uint32_t keys;
    uint32_t write_ratio;       /* percent of requests that write */
};

void workload_init(struct workload *w, uint64_t seed, uint32_t keys,
                   uint32_t write_ratio);
uint64_t workload_rand(struct workload *w);
/* VSMR_SIM_SET, VSMR_SIM_GET or VSMR_SIM_DEL (one write in ten). */
int workload_op(struct workload *w);
/* A key whose busy[key] is 0; UINT32_MAX if every key is busy. */
uint32_t workload_key(struct workload *w, const uint8_t *busy);

#endif
