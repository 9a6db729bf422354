/*
 * log_cluster.h - a tiny hand-driven cluster of three consensus cores for
 * the log's unit tests: messages go through the real wire codec into one
 * queue; links can be cut and replicas stopped; every ready batch is
 * handled at once (persisting is a no-op, everything is sent after it).
 */
#ifndef VSMR_TEST_LOG_CLUSTER_H
#define VSMR_TEST_LOG_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log/log.h"

#define CLUSTER_N 3
#define CLUSTER_QMAX 4096

struct packet { uint32_t from, to; uint8_t *buf; size_t len; };

struct cluster {
    struct vsmr_log *node[CLUSTER_N + 1];
    bool cut[CLUSTER_N + 1][CLUSTER_N + 1];
    bool down[CLUSTER_N + 1];
    struct packet q[CLUSTER_QMAX];
    size_t nq;
    uint64_t applied[CLUSTER_N + 1];
    bool snapshot_seen[CLUSTER_N + 1];
    uint64_t appends_to[CLUSTER_N + 1];   /* APPENDs sent to each replica */
};

extern const enum vsmr_log_kind cluster_kinds[CLUSTER_N];

/* election_ticks 10, heartbeat every tick, 4096 entries held */
struct vsmr_log *cluster_make_node(uint32_t id, uint64_t seed, bool lazy);
struct cluster *cluster_new(bool lazy);
void cluster_free(struct cluster *c);
/* Cuts (or heals) every link of replica id, both ways. */
void cluster_isolate(struct cluster *c, uint32_t id, bool on);
/* Handles every ready batch of one replica. */
void cluster_drive(struct cluster *c, uint32_t id);
/* Delivers queued messages (and what they cause) until none is left. */
void cluster_deliver_all(struct cluster *c);
/* Each round: every live replica ticks, then everything is delivered. */
void cluster_tick(struct cluster *c, uint32_t rounds);
/* The live leader of the highest term, 0: none. */
uint32_t cluster_leader(struct cluster *c);
/* Proposes one entry holding s on replica id and delivers everything. */
uint64_t cluster_propose(struct cluster *c, uint32_t id, const char *s);
bool cluster_entry_is(struct vsmr_log *l, uint64_t index, const char *s);

#endif
