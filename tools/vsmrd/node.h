/*
 * node.h - one replica: wires the log core to the transport, the store
 * and the event loop (the driver half of etcd's raft shape). The control
 * socket talks to the replica only through these functions.
 */
#ifndef VSMRD_NODE_H
#define VSMRD_NODE_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "log/log.h"
#include "loop.h"
#include "strbuf.h"

struct node;

/* Called after every batch of applied entries. */
typedef void (*node_applied_fn)(void *ctx, uint64_t applied);
/* Called once when a benchmark run ends; text is its result line. */
typedef void (*node_bench_done_fn)(void *ctx, int rc, const char *text);

/* bootstrap: an empty data_dir belongs to a new cluster and may vote at
 * once; without it, an empty data_dir is a replica rebuilt from scratch,
 * which only stores entries until it has caught up (then votes). */
int node_start(const struct vsmr_config *cfg, const uint8_t *key,
               bool bootstrap, struct loop *l, struct node **out);
void node_stop(struct node *n);
void node_on_applied(struct node *n, node_applied_fn fn, void *ctx);

void node_status(struct node *n, struct strbuf *out);
/* Proposes n entries (one request, one core call). *index gets the first
 * index, *term the term they were proposed in. */
int node_propose(struct node *n, const struct vsmr_entry *ents, size_t count,
                 uint64_t *index, uint64_t *term);
/* Writes committed entries from..from+count-1, one line each. */
int node_read_log(struct node *n, uint64_t from, uint64_t count,
                  struct strbuf *out);
/* The term of the committed entry at index; 0 if compacted or not yet
 * committed. */
uint64_t node_committed_term(struct node *n, uint64_t index);
/* Starts a benchmark inside the leader: count entries of size bytes with
 * window proposals outstanding; latency is measured from propose to
 * commit at the leader. */
int node_bench_start(struct node *n, uint64_t count, uint32_t size,
                     uint32_t window, node_bench_done_fn fn, void *ctx);
void node_bench_cancel(struct node *n, void *ctx);

#endif
