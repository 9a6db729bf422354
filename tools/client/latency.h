/*
 * latency.h - a histogram of request latencies in microseconds with about
 * 3% resolution, for p50/p99 without keeping every sample.
 */
#ifndef VSMR_CLIENT_LATENCY_H
#define VSMR_CLIENT_LATENCY_H

#include <stdint.h>

#define LAT_SUB     32u                 /* buckets per power of two */
#define LAT_BUCKETS (64u * LAT_SUB)

struct latency {
    uint64_t count;
    uint64_t buckets[LAT_BUCKETS];
};

void latency_add(struct latency *l, uint64_t us);
/* The q-quantile (0 < q <= 1) in microseconds; 0 with no samples. */
double latency_quantile(const struct latency *l, double q);

#endif
