/*
 * log_replicate.c - the leader's side of replication: APPENDs with
 * optimistic pipelining, backtracking on rejection, retransmission on
 * heartbeats that saw no progress, commit by majority, and leadership
 * transfer away from the witness. Which APPENDs may wait for a lazy
 * witness's batch is decided in log_lazy.c.
 */
#include <string.h>

#include "log/log_internal.h"

/* Heartbeats without progress before in-flight entries are resent. */
#define STALL_HEARTBEATS 3

static void send_snapshot(struct vsmr_log *l, uint32_t to)
{
    struct vsmr_msg m = {
        .type = VSMR_MSG_SNAPSHOT, .from = l->id, .to = to, .term = l->term,
        .index = l->store.snap_index, .log_term = l->store.snap_term,
    };
    peer_of(l, to)->probing = true;
    send_msg(l, &m, 0);
}

/* How many entries from `first` fit one APPEND (count and byte limits). */
static size_t batch_size(struct vsmr_log *l, uint64_t first)
{
    size_t n = store_run(&l->store, first, l->cfg.max_append_entries);
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        bytes += store_get(&l->store, first + i)->len;
        if (bytes > l->cfg.max_append_bytes)
            return i ? i : 1;
    }
    return n;
}

static void send_append_at(struct vsmr_log *l, uint32_t to, uint64_t prev,
                           size_t n)
{
    uint64_t prev_term = 0;
    store_term(&l->store, prev, &prev_term);
    struct vsmr_msg m = {
        .type = VSMR_MSG_APPEND, .from = l->id, .to = to, .term = l->term,
        .index = prev, .log_term = prev_term, .commit = l->commit,
        .n_entries = n,
    };
    send_msg(l, &m, prev + 1);
}

void send_append(struct vsmr_log *l, uint32_t to)
{
    struct peer *p = peer_of(l, to);
    if (p->next <= l->store.snap_index) {
        send_snapshot(l, to);
        return;
    }
    size_t n = batch_size(l, p->next);
    send_append_at(l, to, p->next - 1, n);
    if (!p->probing)
        p->next += n;   /* pipeline: assume it arrives */
    lazy_note_sent(l, to);
}

/* An empty APPEND at the follower's match point: always accepted by a
 * healthy follower, carries the commit index, asserts leadership. */
static void send_empty_append(struct vsmr_log *l, uint32_t to)
{
    struct peer *p = peer_of(l, to);
    uint64_t t;
    if (p->probing || !store_term(&l->store, p->match, &t)) {
        send_append(l, to);
        return;
    }
    send_append_at(l, to, p->match, 0);
}

void send_heartbeats(struct vsmr_log *l)
{
    FOR_EACH_PEER(l, to) {
        struct peer *p = peer_of(l, to);
        bool stalled = p->match < l->store.last &&
                       p->match == p->match_at_heartbeat;
        p->stall = stalled ? p->stall + 1 : 0;
        p->match_at_heartbeat = p->match;
        if (p->probing) {
            send_append(l, to);
        } else if (p->stall >= STALL_HEARTBEATS) {
            p->stall = 0;
            p->next = p->match + 1;   /* lost in flight: resend */
            send_append(l, to);
        } else {
            send_empty_append(l, to);
        }
    }
}

void broadcast_append(struct vsmr_log *l)
{
    FOR_EACH_PEER(l, to) {
        struct peer *p = peer_of(l, to);
        if (p->probing || p->next > l->store.last)
            continue;
        if (lazy_batch_due(l, to))
            send_append(l, to);
        else
            l->stats.appends_deferred++;
    }
}

/* A lazy witness learns the commit index with its next batch. */
void broadcast_commit(struct vsmr_log *l)
{
    FOR_EACH_PEER(l, to)
        if (!peer_of(l, to)->probing && !append_may_wait(l, to))
            send_empty_append(l, to);
}

bool maybe_commit(struct vsmr_log *l)
{
    uint64_t m[VSMR_LOG_MAX_NODES];
    size_t n = 0;
    for (uint32_t p = 1; p <= l->cfg.n_nodes; p++)
        m[n++] = p == l->id ? l->stable : peer_of(l, p)->match;
    for (size_t i = 1; i < n; i++)          /* insertion sort, descending */
        for (size_t j = i; j > 0 && m[j] > m[j - 1]; j--) {
            uint64_t t = m[j]; m[j] = m[j - 1]; m[j - 1] = t;
        }
    uint64_t candidate = m[quorum(l) - 1], t = 0;
    /* Raft's rule: only an entry of the current term is committed by
     * counting replicas; earlier ones follow it. */
    if (candidate <= l->commit || !store_term(&l->store, candidate, &t) ||
        t != l->term)
        return false;
    l->commit = candidate;
    l->hard_dirty = true;
    return true;
}

void send_timeout_now_if_ready(struct vsmr_log *l)
{
    uint32_t to = l->transfer_to;
    if (!to || peer_of(l, to)->match != l->store.last)
        return;
    struct vsmr_msg m = {
        .type = VSMR_MSG_TIMEOUT_NOW, .from = l->id, .to = to, .term = l->term,
    };
    send_msg(l, &m, 0);
}

/* A witness leads only to keep the log available: hand over to an
 * up-to-date VM-running replica (the primary first) as soon as there is
 * one. */
void maybe_transfer_from_witness(struct vsmr_log *l)
{
    if (l->role != VSMR_LOG_LEADER || l->transfer_to ||
        kind_of(l, l->id) != VSMR_LOG_WITNESS)
        return;
    uint32_t best = 0;
    FOR_EACH_PEER(l, p) {
        if (kind_of(l, p) == VSMR_LOG_WITNESS ||
            peer_of(l, p)->match != l->store.last)
            continue;
        /* the last target did not take over (a learner, or cut off):
         * try another one first */
        bool prefer = best == l->transfer_failed ||
                      (kind_of(l, p) == VSMR_LOG_PRIMARY &&
                       p != l->transfer_failed);
        if (!best || prefer)
            best = p;
    }
    if (best)
        vsmr_log_transfer_leadership(l, best);
}

static void handle_reject(struct vsmr_log *l, struct peer *p, uint32_t from,
                          const struct vsmr_msg *m)
{
    if (m->index < p->match)
        return;   /* stale: we already know it holds more */
    if (m->hint < p->match)
        p->match = m->hint;   /* it lost entries (restarted empty) */
    uint64_t next = m->hint + 1 < m->index ? m->hint + 1 : m->index;
    p->next = next > p->match ? next : p->match + 1;
    p->probing = true;
    send_append(l, from);
}

void handle_append_response(struct vsmr_log *l, const struct vsmr_msg *m)
{
    struct peer *p = peer_of(l, m->from);
    if (m->flags & VSMR_MSG_F_REJECT) {
        handle_reject(l, p, m->from, m);
        return;
    }
    bool progress = m->index > p->match, was_probing = p->probing;
    if (progress)
        p->match = m->index;
    if (p->next <= m->index)
        p->next = m->index + 1;
    p->probing = false;
    if (maybe_commit(l))
        broadcast_commit(l);
    /* Send more only on progress: a follower whose store is full answers
     * without taking anything, and resending at once would spin; the
     * heartbeat's stall rule retries it at heartbeat pace. */
    if ((progress || was_probing) && p->next <= l->store.last &&
        lazy_batch_due(l, m->from))
        send_append(l, m->from);
    if (m->from == l->transfer_to)
        send_timeout_now_if_ready(l);
    maybe_transfer_from_witness(l);
}
