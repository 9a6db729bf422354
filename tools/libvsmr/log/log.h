/*
 * log.h - the consensus log core: a pure state machine (no sockets, no
 * clock, no threads) that orders VSMR's guest inputs across the replicas.
 * The driver feeds it messages, ticks and proposals and does all I/O.
 *
 * Driving loop (see docs/log.md):
 *
 *     vsmr_log_tick(log)                 every tick (e.g. 10 ms)
 *     vsmr_log_step(log, &msg)           for every decoded message
 *     vsmr_log_propose(log, ents, n, &i) on the leader, for guest inputs
 *     while (vsmr_log_has_ready(log)) {
 *         vsmr_log_ready(log, &rd);
 *         0. may send rd.msgs[0 .. rd.n_early_msgs) at once (optional)
 *         1. persist rd.hard_state, rd.snapshot, rd.entries (fsync)
 *         2. send the rest of rd.msgs  (only after step 1 is durable)
 *         3. apply rd.committed     (in order)
 *         vsmr_log_advance(log);
 *     }
 *
 * Between vsmr_log_ready() and vsmr_log_advance() the caller must not call
 * any other function that changes the core (step, tick, propose, compact,
 * transfer): the pointers in the ready batch point into the core's store.
 *
 * Memory: everything is allocated by vsmr_log_new() except the copies of
 * entry data, which propose() and step() allocate (one malloc per entry
 * with data). Callers may free their entries and messages after the call.
 */
#ifndef VSMR_LOG_LOG_H
#define VSMR_LOG_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VSMR_LOG_MAX_NODES        5
#define VSMR_LOG_MAX_ENTRY_DATA   (64u * 1024)     /* bytes in one entry */
#define VSMR_LOG_MAX_MSG_ENTRIES  4096u            /* entries in one APPEND */
#define VSMR_LOG_MAX_MSG_BYTES    (4u * 1024 * 1024) /* entry data in one APPEND */
/* Indexes and terms above this are rejected as hostile (no overflow). */
#define VSMR_LOG_MAX_INDEX        (UINT64_C(1) << 62)

/* What a replica runs. Fixed by configuration. */
enum vsmr_log_kind {
    VSMR_LOG_PRIMARY = 1,  /* runs the VM; preferred leader */
    VSMR_LOG_BACKUP  = 2,  /* runs the VM */
    VSMR_LOG_WITNESS = 3,  /* stores the log and votes; runs no VM */
};

/* Raft role of a replica in its current term. */
enum vsmr_log_role {
    VSMR_LOG_FOLLOWER      = 0,
    VSMR_LOG_PRE_CANDIDATE = 1,
    VSMR_LOG_CANDIDATE     = 2,
    VSMR_LOG_LEADER        = 3,
};

enum vsmr_entry_type {
    VSMR_ENTRY_NOOP   = 0,  /* a new leader's first entry of its term */
    VSMR_ENTRY_NORMAL = 1,  /* opaque bytes: one guest input */
    VSMR_ENTRY_SYNC   = 2,  /* checkpoint marker; aux = epoch number */
    VSMR_ENTRY_PROTECT = 3, /* a protection starts; aux = its id */
};
#define VSMR_ENTRY_TYPE_MAX VSMR_ENTRY_PROTECT

/* Only SYNC and PROTECT entries carry aux; only NORMAL ones data. */
static inline int vsmr_entry_has_aux(unsigned type)
{
    return type == VSMR_ENTRY_SYNC || type == VSMR_ENTRY_PROTECT;
}

struct vsmr_entry {
    uint64_t index;        /* position in the log, from 1 */
    uint64_t term;         /* term of the leader that created it */
    uint64_t aux;          /* SYNC: epoch; PROTECT: protection id; else 0 */
    const uint8_t *data;   /* NORMAL payload (may be NULL when len == 0) */
    uint32_t len;          /* <= VSMR_LOG_MAX_ENTRY_DATA */
    uint8_t type;          /* enum vsmr_entry_type */
};

/* Message types; the values are also the wire type codes (0x0001-0x00ff
 * are reserved for the log, see docs/wire-protocol.md). */
enum vsmr_msg_type {
    VSMR_MSG_APPEND       = 0x01,  /* entries / heartbeat, leader -> follower */
    VSMR_MSG_APPEND_RESP  = 0x02,
    VSMR_MSG_VOTE         = 0x03,
    VSMR_MSG_VOTE_RESP    = 0x04,
    VSMR_MSG_PREVOTE      = 0x05,
    VSMR_MSG_PREVOTE_RESP = 0x06,
    VSMR_MSG_SNAPSHOT     = 0x07,  /* "your log starts after index" */
    VSMR_MSG_TIMEOUT_NOW  = 0x08,  /* leadership transfer: campaign now */
};
#define VSMR_MSG_TYPE_MIN VSMR_MSG_APPEND
#define VSMR_MSG_TYPE_MAX VSMR_MSG_TIMEOUT_NOW

#define VSMR_MSG_F_REJECT   0x01u  /* *_RESP: refused */
#define VSMR_MSG_F_TRANSFER 0x02u  /* VOTE: campaign after TIMEOUT_NOW */

/*
 * One message. Which fields mean what depends on the type:
 *   APPEND        index = prev index, log_term = prev term, commit,
 *                 entries[n_entries] (entries[k].index == index + 1 + k)
 *   APPEND_RESP   ok:     index = highest index known to match the leader
 *                 REJECT: index = rejected prev index, hint = an index at
 *                         which the leader should retry, log_term = the
 *                         follower's term at hint
 *   VOTE/PREVOTE  index/log_term = candidate's last index/term;
 *                 PREVOTE's term is the term the candidate would take
 *   *_RESP        REJECT flag when refused
 *   SNAPSHOT      index/log_term = the compaction point of the leader
 *   TIMEOUT_NOW   nothing beyond the header
 */
struct vsmr_msg {
    uint8_t type;          /* enum vsmr_msg_type */
    uint8_t flags;         /* VSMR_MSG_F_* */
    uint32_t from, to;     /* replica ids, 1..n_nodes */
    uint64_t term;
    uint64_t index;
    uint64_t log_term;
    uint64_t commit;
    uint64_t hint;
    const struct vsmr_entry *entries;
    size_t n_entries;
};

struct vsmr_log_config {
    uint32_t id;                 /* this replica, 1..n_nodes */
    uint32_t n_nodes;            /* 1..VSMR_LOG_MAX_NODES; 3 in the product */
    enum vsmr_log_kind kinds[VSMR_LOG_MAX_NODES]; /* kinds[i]: node i+1 */
    uint64_t seed;               /* PRNG seed for election timeouts */
    /* Zero means the default given in brackets. */
    uint32_t election_ticks;     /* base election timeout [10] */
    uint32_t heartbeat_ticks;    /* leader heartbeat interval [1] */
    uint32_t log_capacity;       /* entries held before compaction [65536] */
    uint32_t outbox_capacity;    /* queued messages; more are dropped [256] */
    uint32_t max_append_entries; /* per APPEND [1024] */
    uint32_t max_append_bytes;   /* entry data per APPEND [1 MiB] */
    /* Restarted with no persisted state: store and acknowledge entries but
     * never vote or campaign until vsmr_log_set_voter() (docs/log.md). */
    bool learner;
    /* Thrifty replication: while the VM-running followers that keep up
     * make a majority with the leader, witnesses get APPENDs in batches
     * (every tick, or once VSMR_LOG_LAZY_ENTRIES / _BYTES are pending)
     * instead of one per proposal (docs/log.md, "Lazy witness"). */
    bool lazy_witness;
};

/* A lazy witness's batch leaves at the next tick or once this much is
 * pending, whichever comes first. */
#define VSMR_LOG_LAZY_ENTRIES 256u
#define VSMR_LOG_LAZY_BYTES   (256u * 1024)

/* What must be durable before any message of the same batch is sent. */
struct vsmr_log_hard_state {
    uint64_t term;
    uint32_t vote;     /* 0: none */
    uint64_t commit;
};

/* Persisted state handed back after a restart. */
struct vsmr_log_persisted {
    struct vsmr_log_hard_state hs;
    uint64_t snap_index, snap_term;    /* compaction point (0, 0: none) */
    const struct vsmr_entry *entries;  /* snap_index + 1 ... in order */
    size_t n_entries;
    uint64_t applied;  /* highest index the application has applied */
};

struct vsmr_log_ready {
    bool hard_state_changed;
    struct vsmr_log_hard_state hard_state;
    /* The log was reset to start after snap_index (a SNAPSHOT from the
     * leader): persist it, drop the stored entries up to it, and restore
     * the application to the checkpoint at snap_index (the sync protocol
     * transfers the guest state; this core carries no snapshot data). */
    bool snapshot_changed;
    uint64_t snap_index, snap_term;
    /* New entries: store them, replacing every stored entry whose index
     * is >= entries[0].index. */
    const struct vsmr_entry *entries;
    size_t n_entries;
    /* Send after the above is durable. The first n_early_msgs of them
     * (a leader's APPENDs) may also be sent before it: the leader counts
     * its own entries only at advance(). A driver that sends everything
     * after persisting is correct too, just slower. */
    const struct vsmr_msg *msgs;
    size_t n_msgs;
    size_t n_early_msgs;
    /* Committed entries to apply, in index order. */
    const struct vsmr_entry *committed;
    size_t n_committed;
    /* Soft state, for the driver's information. */
    enum vsmr_log_role role;
    uint32_t leader;
    bool leader_is_witness;   /* refuse guest inputs: no VM runs there */
};

struct vsmr_log_stats {
    uint64_t msgs_dropped;     /* outbox full: dropped like network loss */
    uint64_t msgs_rejected;    /* step() refused a hostile message */
    uint64_t elections;        /* campaigns started (pre-vote included) */
    uint64_t appends_merged;   /* APPENDs folded into a queued one */
    uint64_t appends_deferred; /* proposals a lazy witness got later */
};

struct vsmr_log;

/* Creates a core; *out is NULL on failure. */
int vsmr_log_new(const struct vsmr_log_config *cfg, struct vsmr_log **out);
void vsmr_log_free(struct vsmr_log *log);
/* Loads persisted state; only right after vsmr_log_new(). Copies it. */
int vsmr_log_restore(struct vsmr_log *log, const struct vsmr_log_persisted *p);

/* Advances the logical clock by one tick (elections, heartbeats). */
void vsmr_log_tick(struct vsmr_log *log);
/* Handles one message from a peer. Returns VSMR_EPROTO for a malformed or
 * hostile message (which is then ignored; the core stays consistent). */
int vsmr_log_step(struct vsmr_log *log, const struct vsmr_msg *msg);
/* Appends entries (index and term are assigned; *first_index, if not NULL,
 * gets the first one). Only on a leader that runs a VM: VSMR_ESTATE when
 * not leader or when the leader is a witness, VSMR_EAGAIN while a
 * leadership transfer runs, while half the store awaits commit (flow
 * control) or when the store is nearly full (compact). All or nothing. */
int vsmr_log_propose(struct vsmr_log *log, const struct vsmr_entry *ents,
                     size_t n, uint64_t *first_index);

bool vsmr_log_has_ready(const struct vsmr_log *log);
/* Fills *rd; valid until vsmr_log_advance(). */
void vsmr_log_ready(struct vsmr_log *log, struct vsmr_log_ready *rd);
/* Tells the core the last ready batch was persisted, sent and applied. */
void vsmr_log_advance(struct vsmr_log *log);

/* Discards entries up to index (must be applied). Followers that need
 * them get a SNAPSHOT message. */
int vsmr_log_compact(struct vsmr_log *log, uint64_t index);
/* Leader only: hand leadership to `to` once it is up to date. */
int vsmr_log_transfer_leadership(struct vsmr_log *log, uint32_t to);
/* Makes a learner (config.learner) a voter again; see docs/log.md. */
void vsmr_log_set_voter(struct vsmr_log *log);
/* Whether this node may campaign (default yes). A node that may not still
 * votes and stores entries; it only never starts an election, nor takes
 * over on a leadership transfer. Fewer candidates cannot break safety;
 * vsmrd uses it for a backup whose guest does not hold the protected
 * state (it could not serve if it won). */
void vsmr_log_set_candidate(struct vsmr_log *log, bool candidate);

/* Status. */
uint32_t vsmr_log_id(const struct vsmr_log *log);
uint64_t vsmr_log_term(const struct vsmr_log *log);
enum vsmr_log_role vsmr_log_role(const struct vsmr_log *log);
uint32_t vsmr_log_leader(const struct vsmr_log *log);   /* 0: unknown */
bool vsmr_log_leader_is_witness(const struct vsmr_log *log);
uint64_t vsmr_log_commit_index(const struct vsmr_log *log);
uint64_t vsmr_log_applied_index(const struct vsmr_log *log);
uint64_t vsmr_log_first_index(const struct vsmr_log *log); /* snap + 1 */
uint64_t vsmr_log_last_index(const struct vsmr_log *log);
bool vsmr_log_is_voter(const struct vsmr_log *log);
/* Entry at index if still held (not compacted), else NULL. The pointer is
 * valid until the next call that changes the core. */
const struct vsmr_entry *vsmr_log_entry(const struct vsmr_log *log,
                                        uint64_t index);
void vsmr_log_stats(const struct vsmr_log *log, struct vsmr_log_stats *st);

const char *vsmr_log_role_name(enum vsmr_log_role role);
const char *vsmr_log_kind_name(enum vsmr_log_kind kind);

#endif
