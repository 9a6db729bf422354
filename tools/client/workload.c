/*
 * workload.c - splitmix64 choices of operation and key. A busy key is
 * skipped by probing forward, so a key never has two requests in flight.
 */
#include "vsmr/sim.h"
#include "workload.h"

void workload_init(struct workload *w, uint64_t seed, uint32_t keys,
                   uint32_t write_ratio)
{
    w->state = seed;
    w->keys = keys;
    w->write_ratio = write_ratio;
}

uint64_t workload_rand(struct workload *w)
{
    uint64_t z = (w->state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

int workload_op(struct workload *w)
{
    uint64_t r = workload_rand(w);
    if (r % 100 >= w->write_ratio)
        return VSMR_SIM_GET;
    return (r / 100) % 10 == 0 ? VSMR_SIM_DEL : VSMR_SIM_SET;
}

uint32_t workload_key(struct workload *w, const uint8_t *busy)
{
    if (w->keys == 0)
        return UINT32_MAX;
    uint32_t k = (uint32_t)(workload_rand(w) % w->keys);
    for (uint32_t i = 0; i < w->keys; i++) {
        uint32_t at = (k + i) % w->keys;
        if (!busy[at])
            return at;
    }
    return UINT32_MAX;
}
