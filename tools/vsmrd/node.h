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

/* The guest side (replica.c) plugs in here: committed entries in order,
 * frames of the sync protocol from a peer, a peer link going up or down,
 * and changes of role or leader. */
struct node_hooks {
    void (*committed)(void *ctx, const struct vsmr_entry *ents, size_t n);
    void (*frame)(void *ctx, uint32_t peer, const uint8_t *data, size_t len);
    void (*peer)(void *ctx, uint32_t peer, bool up);
    void (*role)(void *ctx, enum vsmr_log_role role, uint32_t leader,
                 uint64_t term);
    void (*status)(void *ctx, struct strbuf *out);   /* control `status` */
    void *ctx;
};
void node_set_hooks(struct node *n, const struct node_hooks *h);
/* Pushes out what is queued for every peer now, not at the loop's next
 * sleep (before a long step the peers wait on). */
void node_flush(struct node *n);
/* Sends one sync frame to peer, waiting (with the loop's transport work)
 * while its queue is full, at most timeout_ms. */
int node_send_frame(struct node *n, uint32_t peer, const uint8_t *data,
                    size_t len, unsigned timeout_ms);
/* Leader of its term, with a VM (not a witness): may take guest inputs. */
bool node_is_serving(struct node *n);
uint32_t node_id(const struct node *n);
uint32_t node_leader(const struct node *n);
/* Whether this node may campaign (a backup only while its guest holds the
 * protected state: it could not serve if it won). */
void node_set_candidate(struct node *n, bool candidate);
/* Hands leadership to peer `to` (it must be up to date). */
int node_transfer_leadership(struct node *n, uint32_t to);
/* Whether the log was empty when this node started (a new cluster). */
bool node_started_fresh(const struct node *n);
/* Compacts the log up to index (a committed sync) and records it. */
void node_compact(struct node *n, uint64_t index);
/* The peer id of the other VM-running replica, 0 if none. */
uint32_t node_vm_peer(const struct node *n);
bool node_peer_connected(struct node *n, uint32_t peer);

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
