/*
 * log_internal.h - the state of one consensus core and the functions its
 * files share (elections, replication, outbox). Internal to log/.
 */
#ifndef VSMR_LOG_INTERNAL_H
#define VSMR_LOG_INTERNAL_H

#include "log/log.h"
#include "log/log_store.h"

/* What the leader knows about one follower. */
struct peer {
    uint64_t match;       /* highest index known to be replicated there */
    uint64_t next;        /* next index to send */
    uint64_t match_at_heartbeat; /* match when the last heartbeat went */
    uint32_t stall;       /* heartbeats in a row without progress */
    bool probing;         /* one APPEND at a time until a match is found */
    bool active;          /* heard from it in this check-quorum window */
    bool vote_granted, vote_rejected;
    /* lazy witness (log_lazy.c) */
    uint64_t tick_mark;   /* next - 1 at the last tick */
    bool lagging;         /* had not acknowledged tick_mark a tick later */
    uint32_t silent;      /* ticks since it last sent us anything */
    uint64_t lazy_bytes;  /* entry bytes proposed since its last APPEND */
};

/* A queued message; APPEND entries are attached at ready() time from the
 * store (first_entry, n_entries) so the queue holds no pointers. */
struct out_msg {
    struct vsmr_msg m;
    uint64_t first_entry;
};

struct vsmr_log {
    struct vsmr_log_config cfg;
    uint32_t id;
    bool voter;
    bool candidate;              /* may campaign (vsmr_log_set_candidate) */

    /* persistent */
    uint64_t term;
    uint32_t vote;
    uint64_t commit;
    struct log_store store;

    /* volatile */
    enum vsmr_log_role role;
    uint32_t leader;
    uint64_t applied;
    uint64_t stable;            /* entries up to here are persisted */
    uint64_t durable_term;      /* term and vote as last persisted: a */
    uint32_t durable_vote;      /* leader sends early only if they hold */
    bool hard_dirty;
    bool snap_dirty;
    uint32_t election_elapsed;
    uint32_t heartbeat_elapsed;
    uint32_t election_timeout;  /* randomized, per kind */
    uint64_t prng;
    struct peer peers[VSMR_LOG_MAX_NODES];
    uint32_t transfer_to;       /* leadership transfer target, 0: none */
    uint32_t transfer_elapsed;
    uint32_t transfer_failed;   /* last target that did not take over */

    /* outbox and the ready batch handed out */
    struct out_msg *out;
    size_t n_out, cap_out;
    struct vsmr_msg *rd_msgs;
    bool rd_open;
    bool rd_took_msgs;
    size_t rd_n_msgs;
    size_t rd_n_early;          /* msgs[0..rd_n_early) may precede persist */
    uint64_t rd_stable_to, rd_applied_to;
    bool rd_hard, rd_snap;
    uint64_t rd_term;           /* the hard state handed out in the batch */
    uint32_t rd_vote;

    struct vsmr_log_stats stats;
};

static inline struct peer *peer_of(struct vsmr_log *l, uint32_t id)
{
    return &l->peers[id - 1];
}

static inline size_t quorum(const struct vsmr_log *l)
{
    return l->cfg.n_nodes / 2 + 1;
}

static inline enum vsmr_log_kind kind_of(const struct vsmr_log *l,
                                         uint32_t id)
{
    return l->cfg.kinds[id - 1];
}

#define FOR_EACH_PEER(l, p) \
    for (uint32_t p = 1; p <= (l)->cfg.n_nodes; p++) \
        if (p != (l)->id)

/* log_core.c */
void become_follower(struct vsmr_log *l, uint64_t term, uint32_t leader);
void become_leader(struct vsmr_log *l);
void set_term(struct vsmr_log *l, uint64_t term);
void reset_election_timer(struct vsmr_log *l);

/* log_elect.c */
void campaign(struct vsmr_log *l, bool pre_vote, bool transfer);
void handle_vote_request(struct vsmr_log *l, const struct vsmr_msg *m);
void handle_vote_response(struct vsmr_log *l, const struct vsmr_msg *m);
bool log_up_to_date(const struct vsmr_log *l, uint64_t last_index,
                    uint64_t last_term);

/* log_replicate.c (leader side) */
void send_append(struct vsmr_log *l, uint32_t to);
void send_heartbeats(struct vsmr_log *l);
void broadcast_append(struct vsmr_log *l);
void broadcast_commit(struct vsmr_log *l);
void handle_append_response(struct vsmr_log *l, const struct vsmr_msg *m);
bool maybe_commit(struct vsmr_log *l);
void maybe_transfer_from_witness(struct vsmr_log *l);
void send_timeout_now_if_ready(struct vsmr_log *l);

/* log_lazy.c (leader side: which APPENDs may wait for a batch) */
bool append_may_wait(struct vsmr_log *l, uint32_t to);
bool lazy_batch_due(struct vsmr_log *l, uint32_t to);
void lazy_note_proposed(struct vsmr_log *l, size_t bytes);
void lazy_note_sent(struct vsmr_log *l, uint32_t to);
void lazy_tick(struct vsmr_log *l);

/* log_follow.c (follower side) */
int handle_append(struct vsmr_log *l, const struct vsmr_msg *m);
void handle_snapshot(struct vsmr_log *l, const struct vsmr_msg *m);

/* log_ready.c */
void send_msg(struct vsmr_log *l, const struct vsmr_msg *m,
              uint64_t first_entry);

#endif
