/*
 * log_core.c - creation, restore, status, the clock (tick) and the role
 * transitions of the consensus core. No I/O: see log.h for the loop.
 */
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "log/log_internal.h"

static uint64_t prng_next(uint64_t *state)
{
    /* splitmix64: tiny, deterministic, good enough for timeouts */
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* The primary times out first, the backup next, the witness last, so a
 * healthy primary wins elections and the witness leads only when needed. */
static uint32_t kind_rank(enum vsmr_log_kind k)
{
    return k == VSMR_LOG_PRIMARY ? 0 : k == VSMR_LOG_BACKUP ? 1 : 2;
}

void reset_election_timer(struct vsmr_log *l)
{
    uint32_t e = l->cfg.election_ticks;
    l->election_elapsed = 0;
    l->election_timeout = e * (1 + kind_rank(kind_of(l, l->id))) +
                          (uint32_t)(prng_next(&l->prng) % e);
}

void set_term(struct vsmr_log *l, uint64_t term)
{
    if (term == l->term)
        return;
    l->term = term;
    l->vote = 0;
    l->hard_dirty = true;
}

void become_follower(struct vsmr_log *l, uint64_t term, uint32_t leader)
{
    set_term(l, term);
    l->role = VSMR_LOG_FOLLOWER;
    l->leader = leader;
    l->transfer_to = 0;
    reset_election_timer(l);
}

void become_leader(struct vsmr_log *l)
{
    l->role = VSMR_LOG_LEADER;
    l->leader = l->id;
    l->transfer_to = 0;
    l->heartbeat_elapsed = 0;
    l->election_elapsed = 0;
    FOR_EACH_PEER(l, p) {
        struct peer *pr = peer_of(l, p);
        memset(pr, 0, sizeof *pr);
        pr->next = l->store.last + 1;
        pr->probing = true;
    }
    /* Raft commits old-term entries only under one of the current term:
     * the NOOP lets the new leader commit without waiting for input. */
    struct vsmr_entry noop = {.type = VSMR_ENTRY_NOOP};
    if (store_append(&l->store, &noop, l->term) != VSMR_OK) {
        become_follower(l, l->term, 0);  /* full store: cannot lead */
        return;
    }
    broadcast_append(l);
    maybe_transfer_from_witness(l);
}

static void apply_defaults(struct vsmr_log_config *c)
{
    if (!c->election_ticks)
        c->election_ticks = 10;
    if (!c->heartbeat_ticks)
        c->heartbeat_ticks = 1;
    if (!c->log_capacity)
        c->log_capacity = 65536;
    if (!c->outbox_capacity)
        c->outbox_capacity = 256;
    if (!c->max_append_entries)
        c->max_append_entries = 1024;
    if (c->max_append_entries > VSMR_LOG_MAX_MSG_ENTRIES)
        c->max_append_entries = VSMR_LOG_MAX_MSG_ENTRIES;
    if (!c->max_append_bytes || c->max_append_bytes > VSMR_LOG_MAX_MSG_BYTES)
        c->max_append_bytes = 1024 * 1024;
}

static int check_config(const struct vsmr_log_config *c)
{
    if (c->n_nodes < 1 || c->n_nodes > VSMR_LOG_MAX_NODES)
        return vsmr_fail(VSMR_EINVAL, "%u replicas; 1..%u are supported",
                         c->n_nodes, VSMR_LOG_MAX_NODES);
    if (c->id < 1 || c->id > c->n_nodes)
        return vsmr_fail(VSMR_EINVAL, "replica id %u is not in 1..%u",
                         c->id, c->n_nodes);
    for (uint32_t i = 0; i < c->n_nodes; i++)
        if (c->kinds[i] < VSMR_LOG_PRIMARY || c->kinds[i] > VSMR_LOG_WITNESS)
            return vsmr_fail(VSMR_EINVAL, "replica %u has no kind", i + 1);
    return VSMR_OK;
}

int vsmr_log_new(const struct vsmr_log_config *cfg, struct vsmr_log **out)
{
    *out = NULL;
    int rc = check_config(cfg);
    if (rc)
        return rc;
    struct vsmr_log *l = calloc(1, sizeof *l);
    if (!l)
        return vsmr_fail(VSMR_ENOMEM, "log core");
    l->cfg = *cfg;
    apply_defaults(&l->cfg);
    l->id = cfg->id;
    l->voter = !cfg->learner;
    l->candidate = true;
    l->prng = cfg->seed ^ ((uint64_t)cfg->id << 32);
    l->cap_out = l->cfg.outbox_capacity;
    l->out = calloc(l->cap_out, sizeof *l->out);
    l->rd_msgs = calloc(l->cap_out, sizeof *l->rd_msgs);
    if (!l->out || !l->rd_msgs ||
        store_init(&l->store, l->cfg.log_capacity) != VSMR_OK) {
        vsmr_log_free(l);
        return vsmr_fail(VSMR_ENOMEM, "log core buffers");
    }
    become_follower(l, 0, 0);
    *out = l;
    return VSMR_OK;
}

void vsmr_log_free(struct vsmr_log *l)
{
    if (!l)
        return;
    if (l->store.ring)
        store_destroy(&l->store);
    free(l->out);
    free(l->rd_msgs);
    free(l);
}

static int restore_entries(struct vsmr_log *l, const struct vsmr_log_persisted *p)
{
    for (size_t i = 0; i < p->n_entries; i++) {
        const struct vsmr_entry *e = &p->entries[i];
        if (e->index != l->store.last + 1 || e->term < store_last_term(&l->store))
            return vsmr_fail(VSMR_EINVAL, "persisted entry %zu (index %llu) "
                             "is out of order", i,
                             (unsigned long long)e->index);
        int rc = store_append(&l->store, e, e->term);
        if (rc)
            return rc;
    }
    return VSMR_OK;
}

int vsmr_log_restore(struct vsmr_log *l, const struct vsmr_log_persisted *p)
{
    if (l->term || l->store.last)
        return vsmr_fail(VSMR_ESTATE, "restore only right after creation");
    if (p->hs.vote > l->cfg.n_nodes)
        return vsmr_fail(VSMR_EINVAL, "persisted vote for replica %u",
                         p->hs.vote);
    store_reset(&l->store, p->snap_index, p->snap_term);
    int rc = restore_entries(l, p);
    if (rc) {
        store_reset(&l->store, 0, 0);
        return rc;
    }
    l->term = l->durable_term = p->hs.term;
    l->vote = l->durable_vote = p->hs.vote;
    uint64_t last = l->store.last;
    l->commit = p->hs.commit < p->snap_index ? p->snap_index : p->hs.commit;
    l->commit = l->commit > last ? last : l->commit;
    l->applied = p->applied < p->snap_index ? p->snap_index : p->applied;
    l->applied = l->applied > l->commit ? l->commit : l->applied;
    l->stable = last;
    return VSMR_OK;
}

/* --- the clock ------------------------------------------------------ */

static bool quorum_active(struct vsmr_log *l)
{
    size_t n = 1;  /* self */
    FOR_EACH_PEER(l, p) {
        n += peer_of(l, p)->active;
        peer_of(l, p)->active = false;
    }
    return n >= quorum(l);
}

static void tick_leader(struct vsmr_log *l)
{
    l->heartbeat_elapsed++;
    l->election_elapsed++;
    if (l->transfer_to && ++l->transfer_elapsed >= l->cfg.election_ticks) {
        l->transfer_failed = l->transfer_to;  /* it never took over */
        l->transfer_to = 0;
    }
    if (l->election_elapsed >= l->cfg.election_ticks) {
        l->election_elapsed = 0;
        if (!quorum_active(l)) {   /* check-quorum: we may be cut off */
            become_follower(l, l->term, 0);
            return;
        }
    }
    lazy_tick(l);
    if (l->heartbeat_elapsed >= l->cfg.heartbeat_ticks) {
        l->heartbeat_elapsed = 0;
        send_heartbeats(l);
    }
    maybe_transfer_from_witness(l);
}

void vsmr_log_tick(struct vsmr_log *l)
{
    if (l->rd_open)
        return;   /* misuse: a tick is lost, which is harmless */
    if (l->role == VSMR_LOG_LEADER) {
        tick_leader(l);
        return;
    }
    l->election_elapsed++;
    if (l->voter && l->candidate &&
        l->election_elapsed >= l->election_timeout)
        campaign(l, true, false);
}

/* --- application calls ---------------------------------------------- */

static int check_proposal(const struct vsmr_entry *e, size_t i)
{
    if (e->type > VSMR_ENTRY_TYPE_MAX)
        return vsmr_fail(VSMR_EINVAL, "entry %zu has unknown type %u", i,
                         e->type);
    if (e->len > VSMR_LOG_MAX_ENTRY_DATA || (e->len && !e->data))
        return vsmr_fail(VSMR_EINVAL, "entry %zu: bad data (%u bytes)", i,
                         e->len);
    if ((e->type != VSMR_ENTRY_NORMAL && e->len) ||
        (!vsmr_entry_has_aux(e->type) && e->aux))
        return vsmr_fail(VSMR_EINVAL, "entry %zu: data or aux do not fit "
                         "type %u", i, e->type);
    return VSMR_OK;
}

int vsmr_log_propose(struct vsmr_log *l, const struct vsmr_entry *ents,
                     size_t n, uint64_t *first_index)
{
    if (l->rd_open)
        return vsmr_fail(VSMR_ESTATE, "log: propose between ready and "
                         "advance");
    if (l->role != VSMR_LOG_LEADER)
        return vsmr_fail(VSMR_ESTATE, "replica %u is not the leader "
                         "(leader: %u)", l->id, l->leader);
    if (kind_of(l, l->id) == VSMR_LOG_WITNESS)
        return vsmr_fail(VSMR_ESTATE, "the leader is the witness, which "
                         "runs no VM; inputs wait for a new leader");
    if (l->transfer_to)
        return vsmr_fail(VSMR_EAGAIN, "leadership is moving to %u",
                         l->transfer_to);
    /* Keep headroom so that whichever replica leads next can still
     * append its NOOP (a full store could not elect a working leader). */
    size_t used = store_used(&l->store);
    if (used + n + store_headroom(&l->store) > l->store.cap)
        return vsmr_fail(VSMR_EAGAIN, "log store is full (%zu of %zu "
                         "entries); compact it", used, l->store.cap);
    /* Flow control: at most half the store uncommitted, so that followers
     * that compacted less than we did still have room for all of it. */
    if (l->store.last - l->commit + n > l->store.cap / 2)
        return vsmr_fail(VSMR_EAGAIN, "%llu entries await commit",
                         (unsigned long long)(l->store.last - l->commit));
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        int rc = check_proposal(&ents[i], i);
        if (rc)
            return rc;
        bytes += ents[i].len;
    }
    if (first_index)
        *first_index = l->store.last + 1;
    for (size_t i = 0; i < n; i++) {
        int rc = store_append(&l->store, &ents[i], l->term);
        if (rc)
            return rc;
    }
    lazy_note_proposed(l, bytes);
    broadcast_append(l);
    return VSMR_OK;
}

int vsmr_log_compact(struct vsmr_log *l, uint64_t index)
{
    if (l->rd_open)
        return vsmr_fail(VSMR_ESTATE, "log: compact between ready and "
                         "advance");
    if (index > l->applied)
        return vsmr_fail(VSMR_ERANGE, "cannot compact to %llu: only %llu "
                         "applied", (unsigned long long)index,
                         (unsigned long long)l->applied);
    store_compact(&l->store, index);
    return VSMR_OK;
}

int vsmr_log_transfer_leadership(struct vsmr_log *l, uint32_t to)
{
    if (l->role != VSMR_LOG_LEADER)
        return vsmr_fail(VSMR_ESTATE, "only the leader transfers");
    if (to < 1 || to > l->cfg.n_nodes || to == l->id)
        return vsmr_fail(VSMR_EINVAL, "no replica %u to transfer to", to);
    l->transfer_to = to;
    l->transfer_elapsed = 0;
    send_timeout_now_if_ready(l);
    if (l->transfer_to)
        send_append(l, to);
    return VSMR_OK;
}

void vsmr_log_set_voter(struct vsmr_log *l)
{
    l->voter = true;
}

void vsmr_log_set_candidate(struct vsmr_log *l, bool candidate)
{
    l->candidate = candidate;
}
