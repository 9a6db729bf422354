/*
 * log_ready.c - the outbox and the ready/advance handshake: what to
 * persist, what to send once that is durable, what to apply. A full
 * outbox drops messages, which Raft tolerates like network loss.
 */
#include <string.h>

#include "log/log_internal.h"

/* Entry bytes in [first, first + n) of the store. */
static size_t run_bytes(const struct vsmr_log *l, uint64_t first, size_t n)
{
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += store_get(&l->store, first + i)->len;
    return bytes;
}

/* Proposals one by one would queue one APPEND each; if the last message
 * queued for that peer is an APPEND that ends where this one starts,
 * extend it instead (fewer, larger messages; no outbox overflow). */
static bool merge_append(struct vsmr_log *l, const struct vsmr_msg *m,
                         uint64_t first_entry)
{
    if (m->type != VSMR_MSG_APPEND || m->n_entries == 0)
        return false;
    struct out_msg *o = NULL;
    for (size_t i = l->n_out; i-- > 0;)
        if (l->out[i].m.to == m->to) {
            o = &l->out[i];
            break;
        }
    if (!o || o->m.type != VSMR_MSG_APPEND || o->m.n_entries == 0 ||
        o->m.term != m->term ||
        o->first_entry + o->m.n_entries != first_entry)
        return false;
    size_t total = o->m.n_entries + m->n_entries;
    if (total > l->cfg.max_append_entries ||
        store_run(&l->store, o->first_entry, total) != total ||
        run_bytes(l, o->first_entry, total) > l->cfg.max_append_bytes)
        return false;
    o->m.n_entries = total;
    o->m.commit = m->commit;
    l->stats.appends_merged++;
    return true;
}

void send_msg(struct vsmr_log *l, const struct vsmr_msg *m,
              uint64_t first_entry)
{
    if (merge_append(l, m, first_entry))
        return;
    if (l->n_out == l->cap_out) {
        l->stats.msgs_dropped++;
        return;
    }
    struct out_msg *o = &l->out[l->n_out++];
    o->m = *m;
    o->m.entries = NULL;
    o->first_entry = first_entry;
}

bool vsmr_log_has_ready(const struct vsmr_log *l)
{
    return l->hard_dirty || l->snap_dirty || l->stable < l->store.last ||
           l->n_out > 0 || l->applied < l->commit;
}

/* Attaches store entries to a queued APPEND; false if they are gone
 * (compacted, or we are no longer leader of that term): drop it. */
static bool materialize(struct vsmr_log *l, struct out_msg *o,
                        struct vsmr_msg *dst)
{
    *dst = o->m;
    if (o->m.type != VSMR_MSG_APPEND || o->m.n_entries == 0)
        return true;
    if (l->role != VSMR_LOG_LEADER || o->m.term != l->term ||
        store_run(&l->store, o->first_entry, o->m.n_entries) !=
            o->m.n_entries)
        return false;
    dst->entries = store_get(&l->store, o->first_entry);
    return true;
}

/* A leader's APPEND promises nothing about the leader's own disk (its own
 * entries count towards commit only at advance(), once persisted), so it
 * may leave before this batch is persisted: the followers' writes then
 * overlap the leader's (Raft thesis 10.2.1). This needs the term and vote
 * it carries to be durable already, so a leader whose term or vote is
 * still in this batch waits like everyone else. Responses never go early:
 * they promise durability. */
static bool may_send_early(const struct vsmr_log *l, const struct vsmr_msg *m)
{
    return m->type == VSMR_MSG_APPEND && l->role == VSMR_LOG_LEADER &&
           m->from == l->id && m->term == l->term &&
           l->term == l->durable_term && l->vote == l->durable_vote;
}

/* Early messages first (in queue order), then the rest (in queue order):
 * per peer, only messages of different kinds change places, which Raft
 * tolerates like any reordering on the network. */
static size_t take_messages(struct vsmr_log *l)
{
    size_t n = 0;
    for (int early = 1; early >= 0; early--) {
        for (size_t i = 0; i < l->n_out; i++) {
            if (may_send_early(l, &l->out[i].m) != (bool)early)
                continue;
            if (materialize(l, &l->out[i], &l->rd_msgs[n]))
                n++;
        }
        if (early)
            l->rd_n_early = n;
    }
    return n;
}

void vsmr_log_ready(struct vsmr_log *l, struct vsmr_log_ready *rd)
{
    memset(rd, 0, sizeof *rd);
    rd->hard_state_changed = l->hard_dirty;
    rd->hard_state = (struct vsmr_log_hard_state){l->term, l->vote, l->commit};
    rd->snapshot_changed = l->snap_dirty;
    rd->snap_index = l->store.snap_index;
    rd->snap_term = l->store.snap_term;

    size_t n_new = store_run(&l->store, l->stable + 1, SIZE_MAX);
    rd->entries = n_new ? store_get(&l->store, l->stable + 1) : NULL;
    rd->n_entries = n_new;
    uint64_t stable_to = l->stable + n_new;

    /* Responses promise durability: send only when all is persisted. */
    l->rd_n_early = 0;
    l->rd_n_msgs = stable_to == l->store.last ? take_messages(l) : 0;
    l->rd_took_msgs = stable_to == l->store.last;
    rd->msgs = l->rd_n_msgs ? l->rd_msgs : NULL;
    rd->n_msgs = l->rd_n_msgs;
    rd->n_early_msgs = l->rd_n_early;

    uint64_t apply_to = l->commit < stable_to ? l->commit : stable_to;
    size_t n_apply = apply_to > l->applied
        ? store_run(&l->store, l->applied + 1, apply_to - l->applied) : 0;
    rd->committed = n_apply ? store_get(&l->store, l->applied + 1) : NULL;
    rd->n_committed = n_apply;

    rd->role = l->role;
    rd->leader = l->leader;
    rd->leader_is_witness = vsmr_log_leader_is_witness(l);

    l->rd_hard = rd->hard_state_changed;
    l->rd_term = l->term;
    l->rd_vote = l->vote;
    l->rd_snap = rd->snapshot_changed;
    l->rd_stable_to = stable_to;
    l->rd_applied_to = l->applied + n_apply;
    l->rd_open = true;
}

void vsmr_log_advance(struct vsmr_log *l)
{
    if (!l->rd_open)
        return;
    l->rd_open = false;
    if (l->rd_hard) {
        l->hard_dirty = false;
        l->durable_term = l->rd_term;
        l->durable_vote = l->rd_vote;
    }
    if (l->rd_snap)
        l->snap_dirty = false;
    l->stable = l->rd_stable_to;
    l->applied = l->rd_applied_to;
    if (l->rd_took_msgs)
        l->n_out = 0;
    /* Our own entries count towards commit once they are durable. */
    if (l->role == VSMR_LOG_LEADER && maybe_commit(l))
        broadcast_commit(l);
}
