/*
 * node_impl.h - the replica's state, shared by node.c (the driver loop
 * around the log core) and bench.c (the in-leader load generator).
 */
#ifndef VSMRD_NODE_IMPL_H
#define VSMRD_NODE_IMPL_H

#include "node.h"
#include "store/store.h"
#include "transport/transport.h"

struct bench {
    bool active;
    uint64_t total, proposed, committed;
    uint32_t size, window;
    uint64_t base;           /* index of the first proposed entry */
    int64_t *sent_ns;        /* by index - base; 0: not ours or done */
    size_t sent_cap;
    uint32_t *lat_ns;
    size_t n_lat;
    int64_t start_ns;
    uint8_t *payload;
    node_bench_done_fn fn;
    void *ctx;
};

struct node {
    struct vsmr_config cfg;
    struct loop *loop;
    struct vsmr_log *log;
    vsmr_store *store;
    const struct vsmr_transport_ops *tops;
    vsmr_transport *tr;
    struct vsmr_entry dec_ents[VSMR_LOG_MAX_MSG_ENTRIES];
    uint8_t *enc;
    size_t enc_cap;
    uint64_t match[VSMR_MAX_PEERS + 1];   /* seen in APPEND_RESP */
    uint64_t match_term;
    uint32_t last_leader;
    uint64_t last_term;
    enum vsmr_log_role last_role;
    bool learner;
    uint64_t join_target;     /* commit index to reach before voting */
    uint64_t rejected_msgs, send_drops;
    int64_t reject_log_sec;   /* rate limit of rejection log lines */
    unsigned reject_logged;
    bool failed;              /* the store failed: stop at once */
    struct vsmr_log_hard_state hs_saved;    /* last written to the store */
    struct vsmr_log_hard_state hs_pending;  /* commit-only, not yet written */
    bool commit_pending;
    bool in_ready;            /* flushing between ready() and advance() */
    uint32_t peers_down;      /* links lost meanwhile: bit per peer id */
    struct node_hooks hooks;
    bool started_fresh;       /* the log was empty at start */
    node_applied_fn applied_fn;
    void *applied_ctx;
    struct bench bench;
};

/* bench.c */
void bench_refill(struct node *n);
void bench_on_commit(struct node *n, const struct vsmr_entry *e, size_t cnt);
void bench_free(struct bench *b);
int64_t node_now_ns(void);

#endif
