/*
 * sim_net.c - the simulated network: every message is encoded with the
 * real wire codec, then lost, duplicated or delayed by a seeded PRNG;
 * partitions cut links in both directions.
 */
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

#define SIM_N 3

struct sim_packet {
    uint64_t at;            /* tick of delivery */
    uint32_t from, to;
    uint8_t *buf;
    size_t len;
};

struct sim_net {
    struct sim_packet *q;
    size_t n, cap;
    bool cut[SIM_N + 1][SIM_N + 1];
    uint32_t loss_pct, dup_pct, max_delay;
    bool fifo;              /* in order, like TCP: no reordering */
    uint64_t sent;
};

static uint64_t sim_rand(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static bool chance(uint64_t *rng, uint32_t per_mille)
{
    return sim_rand(rng) % 1000 < per_mille;
}

static void net_push(struct sim_net *n, uint64_t at, uint32_t from,
                     uint32_t to, const uint8_t *buf, size_t len)
{
    if (n->n == n->cap) {
        n->cap = n->cap ? n->cap * 2 : 256;
        n->q = realloc(n->q, n->cap * sizeof *n->q);
    }
    uint8_t *copy = malloc(len);
    memcpy(copy, buf, len);
    n->q[n->n++] = (struct sim_packet){at, from, to, copy, len};
}

/* Returns false if the core produced a message the codec refuses. */
static bool net_send(struct sim_net *n, uint64_t *rng, uint64_t now,
                     const struct vsmr_msg *m)
{
    static uint8_t buf[VSMR_WIRE_MAX_FRAME];
    size_t len;
    if (vsmr_wire_log_encode(m, buf, sizeof buf, &len) != 0)
        return false;
    n->sent++;
    int copies = chance(rng, n->dup_pct * 10) ? 2 : 1;
    for (int i = 0; i < copies; i++) {
        if (chance(rng, n->loss_pct * 10))
            continue;
        uint64_t delay = n->max_delay ? sim_rand(rng) % (n->max_delay + 1) : 0;
        net_push(n, now + delay, m->from, m->to, buf, len);
    }
    return true;
}

/* Takes a random packet due at `now` out of the queue (reordering), or
 * the oldest one on a fifo network. */
static bool net_pop_due(struct sim_net *n, uint64_t *rng, uint64_t now,
                        struct sim_packet *out)
{
    size_t due = 0;
    for (size_t i = 0; i < n->n; i++)
        due += n->q[i].at <= now;
    if (!due)
        return false;
    size_t pick = n->fifo ? 0 : sim_rand(rng) % due;
    for (size_t i = 0; i < n->n; i++) {
        if (n->q[i].at > now || pick--)
            continue;
        *out = n->q[i];
        if (n->fifo)   /* keep the queue in sending order */
            memmove(&n->q[i], &n->q[i + 1], (--n->n - i) * sizeof *n->q);
        else
            n->q[i] = n->q[--n->n];
        return true;
    }
    return false;
}

static void net_free(struct sim_net *n)
{
    for (size_t i = 0; i < n->n; i++)
        free(n->q[i].buf);
    free(n->q);
    memset(n, 0, sizeof *n);
}
