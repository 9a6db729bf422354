/*
 * log_lazy.c - thrifty replication to the witness (config.lazy_witness):
 * the leader sends APPENDs at once to the followers that run a VM and,
 * while those that keep up make a majority with it, to witnesses only in
 * batches: at every tick, or once a batch's worth is pending. Commit
 * rules do not change; only who gets which message when (docs/log.md).
 */
#include "log/log_internal.h"

/* A follower that answers promptly: in step (not probing), heard within
 * a heartbeat period and a tick, and it had acknowledged by this tick
 * everything sent to it by the previous one. */
static bool prompt(struct vsmr_log *l, uint32_t id)
{
    const struct peer *p = peer_of(l, id);
    return !p->probing && !p->lagging &&
           p->silent <= l->cfg.heartbeat_ticks + 1;
}

/* Witnesses may wait while the leader and the prompt VM-running
 * followers make a majority: a commit then needs no witness. */
static bool witnesses_may_wait(struct vsmr_log *l)
{
    size_t n = 1;   /* the leader */
    FOR_EACH_PEER(l, p)
        n += kind_of(l, p) != VSMR_LOG_WITNESS && prompt(l, p);
    return n >= quorum(l);
}

bool append_may_wait(struct vsmr_log *l, uint32_t to)
{
    return l->cfg.lazy_witness && kind_of(l, to) == VSMR_LOG_WITNESS &&
           to != l->transfer_to && witnesses_may_wait(l);
}

/* Entries pending for `to` should leave now: it is not lazy, or a batch
 * (bounded by what one APPEND carries) has built up. */
bool lazy_batch_due(struct vsmr_log *l, uint32_t to)
{
    if (!append_may_wait(l, to))
        return true;
    const struct peer *p = peer_of(l, to);
    uint64_t batch = l->cfg.max_append_entries < VSMR_LOG_LAZY_ENTRIES
                     ? l->cfg.max_append_entries : VSMR_LOG_LAZY_ENTRIES;
    return l->store.last + 1 - p->next >= batch ||
           p->lazy_bytes >= VSMR_LOG_LAZY_BYTES;
}

void lazy_note_proposed(struct vsmr_log *l, size_t bytes)
{
    if (l->cfg.lazy_witness)
        FOR_EACH_PEER(l, p)
            peer_of(l, p)->lazy_bytes += bytes;
}

void lazy_note_sent(struct vsmr_log *l, uint32_t to)
{
    struct peer *p = peer_of(l, to);
    if (p->next > l->store.last)
        p->lazy_bytes = 0;
}

/* Once a tick: judge who keeps up, then send every witness what it
 * lacks (its batch; or, if it has just become needed, all at once). */
void lazy_tick(struct vsmr_log *l)
{
    FOR_EACH_PEER(l, id) {
        struct peer *p = peer_of(l, id);
        p->silent += p->silent < UINT32_MAX;
        p->lagging = p->match < p->tick_mark;
        p->tick_mark = p->next - 1;
    }
    if (!l->cfg.lazy_witness)
        return;
    FOR_EACH_PEER(l, id) {
        struct peer *p = peer_of(l, id);
        if (kind_of(l, id) == VSMR_LOG_WITNESS && !p->probing &&
            p->next <= l->store.last)
            send_append(l, id);
    }
}
