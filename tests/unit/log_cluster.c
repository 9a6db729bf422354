/*
 * log_cluster.c - the hand-driven cluster of log_cluster.h.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "log_cluster.h"
#include "vsmr/vsmr.h"
#include "wire/wire.h"

const enum vsmr_log_kind cluster_kinds[CLUSTER_N] = {
    VSMR_LOG_PRIMARY, VSMR_LOG_BACKUP, VSMR_LOG_WITNESS};

struct vsmr_log *cluster_make_node(uint32_t id, uint64_t seed, bool lazy)
{
    struct vsmr_log_config cfg = {.id = id, .n_nodes = CLUSTER_N, .seed = seed,
                                  .election_ticks = 10, .log_capacity = 4096,
                                  .lazy_witness = lazy};
    memcpy(cfg.kinds, cluster_kinds, sizeof cluster_kinds);
    struct vsmr_log *l;
    ck_assert_int_eq(vsmr_log_new(&cfg, &l), 0);
    return l;
}

struct cluster *cluster_new(bool lazy)
{
    struct cluster *c = calloc(1, sizeof *c);
    for (uint32_t id = 1; id <= CLUSTER_N; id++)
        c->node[id] = cluster_make_node(id, 42 + id, lazy);
    return c;
}

void cluster_free(struct cluster *c)
{
    for (uint32_t id = 1; id <= CLUSTER_N; id++)
        vsmr_log_free(c->node[id]);
    for (size_t i = 0; i < c->nq; i++)
        free(c->q[i].buf);
    free(c);
}

void cluster_isolate(struct cluster *c, uint32_t id, bool on)
{
    for (uint32_t o = 1; o <= CLUSTER_N; o++)
        c->cut[id][o] = c->cut[o][id] = on && o != id;
}

/* Handles every ready batch of one node: messages go to the queue. */
void cluster_drive(struct cluster *c, uint32_t id)
{
    static uint8_t buf[VSMR_WIRE_MAX_FRAME];
    struct vsmr_log_ready rd;
    while (vsmr_log_has_ready(c->node[id])) {
        vsmr_log_ready(c->node[id], &rd);
        c->snapshot_seen[id] |= rd.snapshot_changed;
        if (rd.snapshot_changed)
            c->applied[id] = rd.snap_index;
        for (size_t i = 0; i < rd.n_msgs; i++) {
            size_t len;
            ck_assert_int_eq(vsmr_wire_log_encode(&rd.msgs[i], buf,
                                                  sizeof buf, &len), 0);
            if (c->cut[rd.msgs[i].from][rd.msgs[i].to] || c->nq == CLUSTER_QMAX)
                continue;
            c->appends_to[rd.msgs[i].to] += rd.msgs[i].type == VSMR_MSG_APPEND;
            struct packet *p = &c->q[c->nq++];
            *p = (struct packet){rd.msgs[i].from, rd.msgs[i].to,
                                 malloc(len), len};
            memcpy(p->buf, buf, len);
        }
        for (size_t i = 0; i < rd.n_committed; i++) {
            ck_assert_uint_eq(rd.committed[i].index, c->applied[id] + 1);
            c->applied[id] = rd.committed[i].index;
        }
        vsmr_log_advance(c->node[id]);
    }
}

void cluster_deliver_all(struct cluster *c)
{
    static struct vsmr_entry ents[VSMR_LOG_MAX_MSG_ENTRIES];
    while (c->nq) {
        struct packet p = c->q[0];
        memmove(c->q, c->q + 1, --c->nq * sizeof *c->q);
        if (!c->cut[p.from][p.to] && !c->down[p.to]) {
            struct vsmr_msg m;
            ck_assert_int_eq(vsmr_wire_log_decode(p.buf, p.len, &m, ents,
                             VSMR_LOG_MAX_MSG_ENTRIES), 0);
            ck_assert_int_eq(vsmr_log_step(c->node[p.to], &m), 0);
            cluster_drive(c, p.to);
        }
        free(p.buf);
    }
}

void cluster_tick(struct cluster *c, uint32_t rounds)
{
    for (uint32_t r = 0; r < rounds; r++) {
        for (uint32_t id = 1; id <= CLUSTER_N; id++) {
            if (c->down[id])
                continue;
            vsmr_log_tick(c->node[id]);
            cluster_drive(c, id);
        }
        cluster_deliver_all(c);
    }
}

uint32_t cluster_leader(struct cluster *c)
{
    uint32_t found = 0;
    for (uint32_t id = 1; id <= CLUSTER_N; id++)
        if (!c->down[id] && vsmr_log_role(c->node[id]) == VSMR_LOG_LEADER &&
            (!found || vsmr_log_term(c->node[id]) >
                           vsmr_log_term(c->node[found])))
            found = id;
    return found;
}

uint64_t cluster_propose(struct cluster *c, uint32_t id, const char *s)
{
    struct vsmr_entry e = {.type = VSMR_ENTRY_NORMAL,
                           .data = (const uint8_t *)s,
                           .len = (uint32_t)strlen(s)};
    uint64_t index = 0;
    ck_assert_int_eq(vsmr_log_propose(c->node[id], &e, 1, &index), 0);
    cluster_drive(c, id);
    cluster_deliver_all(c);
    return index;
}

bool cluster_entry_is(struct vsmr_log *l, uint64_t index, const char *s)
{
    const struct vsmr_entry *e = vsmr_log_entry(l, index);
    return e && e->len == strlen(s) && memcmp(e->data, s, e->len) == 0;
}
