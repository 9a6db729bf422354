/*
 * log_follow.c - the follower's side of replication: the log matching
 * check, truncation of a conflicting suffix, commit from the leader, a
 * backtracking hint on rejection, and SNAPSHOT (reset to a compaction
 * point).
 */
#include "common/err.h"
#include "log/log_internal.h"

static void respond(struct vsmr_log *l, uint32_t to, bool reject,
                    uint64_t index, uint64_t hint, uint64_t hint_term)
{
    struct vsmr_msg r = {
        .type = VSMR_MSG_APPEND_RESP, .from = l->id, .to = to,
        .term = l->term, .flags = reject ? VSMR_MSG_F_REJECT : 0,
        .index = index, .hint = hint, .log_term = hint_term,
    };
    send_msg(l, &r, 0);
}

/* Where the leader should retry: the last index at or below the rejected
 * one whose term is not above the leader's term there. Skips a whole run
 * of entries from a deposed leader's term in one round trip. */
static void reject_with_hint(struct vsmr_log *l, const struct vsmr_msg *m)
{
    uint64_t h = m->index < l->store.last ? m->index : l->store.last;
    uint64_t t = 0;
    while (store_term(&l->store, h, &t) && t > m->log_term &&
           h > l->commit && h > l->store.snap_index)
        h--;
    store_term(&l->store, h, &t);
    respond(l, m->from, true, m->index, h, t);
}

/* Stores entries after a verified prev; returns the last index of the
 * message now in the log, or fails for an attempt to rewrite commits. */
/* Room for entry e from a leader of `term`: the headroom is only for
 * that leader's own entries, which are what it needs to commit. */
static bool has_room(const struct log_store *s, const struct vsmr_entry *e,
                     uint64_t term)
{
    if (store_full(s))
        return false;
    return e->term == term ||
           store_used(s) + store_headroom(s) < s->cap;
}

static int store_entries(struct vsmr_log *l, const struct vsmr_entry *e,
                         size_t n, uint64_t prev, uint64_t *last_new)
{
    size_t k = 0;
    uint64_t t;
    for (; k < n && store_term(&l->store, prev + 1 + k, &t); k++) {
        if (t == e[k].term)
            continue;
        if (prev + 1 + k <= l->commit)
            return vsmr_fail(VSMR_EPROTO, "leader %u rewrites committed "
                             "entry %llu", l->leader,
                             (unsigned long long)(prev + 1 + k));
        store_truncate_after(&l->store, prev + k);
        if (l->stable > prev + k)
            l->stable = prev + k;
        break;
    }
    for (; k < n && has_room(&l->store, &e[k], l->term); k++) {
        int rc = store_append(&l->store, &e[k], e[k].term);
        if (rc)
            return rc;
    }
    *last_new = prev + k;
    return VSMR_OK;
}

int handle_append(struct vsmr_log *l, const struct vsmr_msg *m)
{
    uint64_t prev = m->index, prev_term = m->log_term;
    const struct vsmr_entry *e = m->entries;
    size_t n = m->n_entries;
    if (prev < l->commit) {
        /* Up to our commit the logs agree already; skip that part. */
        uint64_t skip = l->commit - prev;
        if (skip >= n) {
            respond(l, m->from, false, l->commit, 0, 0);
            return VSMR_OK;
        }
        e += skip;
        n -= skip;
        prev = l->commit;
        store_term(&l->store, prev, &prev_term);
    }
    uint64_t t;
    if (!store_term(&l->store, prev, &t) || t != prev_term) {
        reject_with_hint(l, m);
        return VSMR_OK;
    }
    uint64_t last_new = prev;
    int rc = store_entries(l, e, n, prev, &last_new);
    if (rc)
        return rc;
    uint64_t commit = m->commit < last_new ? m->commit : last_new;
    if (commit > l->commit) {
        l->commit = commit;
        l->hard_dirty = true;
    }
    respond(l, m->from, false, last_new, 0, 0);
    return VSMR_OK;
}

void handle_snapshot(struct vsmr_log *l, const struct vsmr_msg *m)
{
    uint64_t t;
    if (m->index <= l->commit) {
        respond(l, m->from, false, l->commit, 0, 0);
        return;
    }
    if (store_term(&l->store, m->index, &t) && t == m->log_term) {
        /* We hold the leader's entries up to there: they are committed. */
        l->commit = m->index;
    } else {
        store_reset(&l->store, m->index, m->log_term);
        l->commit = l->applied = l->stable = m->index;
        l->snap_dirty = true;
    }
    l->hard_dirty = true;
    respond(l, m->from, false, m->index, 0, 0);
}
