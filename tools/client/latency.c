/*
 * latency.c - log-linear buckets: values below LAT_SUB exactly, above that
 * LAT_SUB buckets per power of two; a quantile is its bucket's midpoint.
 */
#include "latency.h"

static unsigned lat_index(uint64_t v)
{
    if (v < LAT_SUB)
        return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);      /* >= 5 */
    unsigned sub = (unsigned)(v >> (msb - 5)) & (LAT_SUB - 1);
    unsigned i = (msb - 4) * LAT_SUB + sub;
    return i < LAT_BUCKETS ? i : LAT_BUCKETS - 1;
}

static double lat_mid(unsigned i)
{
    if (i < LAT_SUB)
        return i;
    unsigned msb = i / LAT_SUB + 4, sub = i % LAT_SUB;
    double lo = (double)((uint64_t)(LAT_SUB + sub) << (msb - 5));
    double width = (double)(1ull << (msb - 5));
    return lo + width / 2;
}

void latency_add(struct latency *l, uint64_t us)
{
    l->buckets[lat_index(us)]++;
    l->count++;
}

double latency_quantile(const struct latency *l, double q)
{
    if (l->count == 0)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)l->count + 0.5);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < LAT_BUCKETS; i++) {
        seen += l->buckets[i];
        if (seen >= rank)
            return lat_mid(i);
    }
    return lat_mid(LAT_BUCKETS - 1);
}
