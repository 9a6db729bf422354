/*
 * sync.c - the sync protocol's state machine (see sync.h for the flow).
 *
 * The core only sequences: it knows which pieces of an epoch have arrived
 * and which action comes next. The data (bitmaps, hashes, pages) stays
 * with the driver. Messages for the next epoch may arrive before this
 * replica reached its own SYNC entry; they are remembered, not refused.
 */
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "sync/sync.h"

#define MAX_ACTIONS 8

struct vsmr_sync {
    struct vsmr_sync_config cfg;
    enum vsmr_sync_phase phase;
    uint64_t epoch, index, committed_epoch, aborted;
    char reason[160];

    bool local_dirty, peer_dirty, local_hashes, peer_hashes;
    bool pages_sent, peer_done, applied, verified, peer_acked;
    bool pause_deferred;                /* primary: until the peer stopped */
    uint64_t digest[2], peer_digest[2];
    uint64_t early_dirty, early_done;   /* epoch of an early message */

    enum vsmr_sync_action queue[MAX_ACTIONS];
    unsigned head, count;
};

static void push(struct vsmr_sync *s, enum vsmr_sync_action a)
{
    /* The flow never queues more than a handful; the bound is a guard. */
    if (s->count < MAX_ACTIONS)
        s->queue[(s->head + s->count++) % MAX_ACTIONS] = a;
}

enum vsmr_sync_action vsmr_sync_next_action(struct vsmr_sync *s)
{
    if (!s->count)
        return VSMR_SYNC_ACT_NONE;
    enum vsmr_sync_action a = s->queue[s->head];
    s->head = (s->head + 1) % MAX_ACTIONS;
    s->count--;
    return a;
}

int vsmr_sync_new(const struct vsmr_sync_config *cfg, struct vsmr_sync **out)
{
    if (!cfg || !out ||
        (cfg->role != VSMR_SYNC_PRIMARY && cfg->role != VSMR_SYNC_BACKUP) ||
        (cfg->mode != VSMR_SYNC_MODE_VSMR && cfg->mode != VSMR_SYNC_MODE_REMUS))
        return vsmr_fail(VSMR_EINVAL, "sync: role must be primary or backup "
                                      "and mode vsmr or remus");
    struct vsmr_sync *s = calloc(1, sizeof *s);
    if (!s)
        return vsmr_fail(VSMR_ENOMEM, "sync: out of memory");
    s->cfg = *cfg;
    *out = s;
    return VSMR_OK;
}

void vsmr_sync_free(struct vsmr_sync *s)
{
    free(s);
}

void vsmr_sync_get_status(const struct vsmr_sync *s,
                          struct vsmr_sync_status *st)
{
    st->phase = s->phase;
    st->epoch = s->epoch;
    st->index = s->index;
    st->committed_epoch = s->committed_epoch;
    st->aborted = s->aborted;
    st->reason = s->reason;
}

static bool remus(const struct vsmr_sync *s)
{
    return s->cfg.mode == VSMR_SYNC_MODE_REMUS;
}

static bool primary(const struct vsmr_sync *s)
{
    return s->cfg.role == VSMR_SYNC_PRIMARY;
}

static int out_of_turn(const struct vsmr_sync *s, const char *event)
{
    return vsmr_fail(VSMR_ESTATE, "sync epoch %llu: '%s' in phase %s",
                     (unsigned long long)s->epoch, event,
                     vsmr_sync_phase_name(s->phase));
}

static void clear_epoch(struct vsmr_sync *s)
{
    s->local_dirty = s->peer_dirty = s->local_hashes = s->peer_hashes = false;
    s->pages_sent = s->peer_done = s->applied = s->verified = false;
    s->peer_acked = s->pause_deferred = false;
}

int vsmr_sync_begin(struct vsmr_sync *s, uint64_t epoch, uint64_t index)
{
    if (s->phase != VSMR_SYNC_RUNNING)
        return out_of_turn(s, "begin");
    if (epoch <= s->epoch)
        return vsmr_fail(VSMR_EINVAL, "sync: epoch %llu after epoch %llu",
                         (unsigned long long)epoch,
                         (unsigned long long)s->epoch);
    /* The peer already began a later epoch (a replica replaying the log
     * after a restart meets old SYNC entries): this one never completes,
     * and the later one's early message must stay. */
    uint64_t later = s->early_dirty > s->early_done ? s->early_dirty
                                                    : s->early_done;
    if (later > epoch)
        return vsmr_fail(VSMR_EINVAL, "sync: epoch %llu skipped, the peer is "
                         "at epoch %llu already", (unsigned long long)epoch,
                         (unsigned long long)later);
    clear_epoch(s);
    s->epoch = epoch;
    s->index = index;
    s->peer_dirty = s->early_dirty == epoch;
    s->peer_done = s->early_done == epoch;
    s->early_dirty = s->early_done = 0;
    if (remus(s) && !primary(s)) {
        /* The Remus backup's guest never runs: wait for the pages. */
        s->phase = VSMR_SYNC_TRANSFER;
        if (s->peer_done) {
            s->phase = VSMR_SYNC_APPLYING;
            push(s, VSMR_SYNC_ACT_APPLY);
        }
        return VSMR_OK;
    }
    s->phase = VSMR_SYNC_PAUSING;
    /* A VSMR primary's guest runs on (with no input after index) until
     * the backup has stopped at the same index and sent its bitmap: the
     * primary's stall then holds none of the backup's way there. */
    if (primary(s) && !remus(s) && !s->peer_dirty) {
        s->pause_deferred = true;
        return VSMR_OK;
    }
    push(s, VSMR_SYNC_ACT_PAUSE);
    return VSMR_OK;
}

int vsmr_sync_paused(struct vsmr_sync *s)
{
    if (s->phase != VSMR_SYNC_PAUSING || s->pause_deferred)
        return out_of_turn(s, "paused");
    s->phase = VSMR_SYNC_DIRTY;
    push(s, VSMR_SYNC_ACT_FETCH_DIRTY);
    return VSMR_OK;
}

static void maybe_hash(struct vsmr_sync *s)
{
    if (s->phase == VSMR_SYNC_DIRTY && s->local_dirty && s->peer_dirty) {
        s->phase = VSMR_SYNC_HASHING;
        push(s, VSMR_SYNC_ACT_HASH);
    }
}

static void start_transfer(struct vsmr_sync *s)
{
    s->phase = VSMR_SYNC_TRANSFER;
    push(s, VSMR_SYNC_ACT_SEND_PAGES);
}

int vsmr_sync_dirty_fetched(struct vsmr_sync *s)
{
    if (s->phase != VSMR_SYNC_DIRTY || s->local_dirty)
        return out_of_turn(s, "dirty fetched");
    s->local_dirty = true;
    if (remus(s)) {              /* the primary sends every dirty page */
        start_transfer(s);
        return VSMR_OK;
    }
    push(s, VSMR_SYNC_ACT_SEND_DIRTY);
    maybe_hash(s);
    return VSMR_OK;
}

int vsmr_sync_hashed(struct vsmr_sync *s)
{
    if (s->phase != VSMR_SYNC_HASHING)
        return out_of_turn(s, "hashed");
    s->local_hashes = true;
    if (!primary(s)) {
        push(s, VSMR_SYNC_ACT_SEND_HASHES);
        s->phase = VSMR_SYNC_TRANSFER;
        return VSMR_OK;
    }
    s->phase = VSMR_SYNC_COMPARING;
    if (s->peer_hashes)
        start_transfer(s);
    return VSMR_OK;
}

static void finish(struct vsmr_sync *s)
{
    if (primary(s)) {
        push(s, VSMR_SYNC_ACT_RELEASE_OUTPUTS);
    } else {
        push(s, VSMR_SYNC_ACT_SEND_ACK);
        if (!remus(s))
            push(s, VSMR_SYNC_ACT_DROP_OUTPUTS);
    }
    push(s, VSMR_SYNC_ACT_COMPACT);
    if (primary(s) || !remus(s))
        push(s, VSMR_SYNC_ACT_RESUME);
    s->committed_epoch = s->epoch;
    s->phase = VSMR_SYNC_RUNNING;
}

static void primary_maybe_finish(struct vsmr_sync *s)
{
    if (s->phase != VSMR_SYNC_ACKING || !s->peer_acked)
        return;
    if (s->cfg.verify && (s->digest[0] != s->peer_digest[0] ||
                          s->digest[1] != s->peer_digest[1])) {
        vsmr_sync_abort(s, "verify: the backup's memory differs from the "
                           "primary's after the sync");
        return;
    }
    finish(s);
}

int vsmr_sync_pages_sent(struct vsmr_sync *s)
{
    if (!primary(s) || s->phase != VSMR_SYNC_TRANSFER)
        return out_of_turn(s, "pages sent");
    s->pages_sent = true;
    if (s->cfg.verify) {
        s->phase = VSMR_SYNC_VERIFYING;
        push(s, VSMR_SYNC_ACT_VERIFY);
        return VSMR_OK;
    }
    s->phase = VSMR_SYNC_ACKING;
    primary_maybe_finish(s);
    return VSMR_OK;
}

int vsmr_sync_applied(struct vsmr_sync *s)
{
    if (primary(s) || s->phase != VSMR_SYNC_APPLYING)
        return out_of_turn(s, "applied");
    s->applied = true;
    if (s->cfg.verify) {
        s->phase = VSMR_SYNC_VERIFYING;
        push(s, VSMR_SYNC_ACT_VERIFY);
        return VSMR_OK;
    }
    finish(s);
    return VSMR_OK;
}

int vsmr_sync_verified(struct vsmr_sync *s, uint64_t lo, uint64_t hi)
{
    if (s->phase != VSMR_SYNC_VERIFYING)
        return out_of_turn(s, "verified");
    s->verified = true;
    s->digest[0] = lo;
    s->digest[1] = hi;
    if (!primary(s)) {
        finish(s);
        return VSMR_OK;
    }
    s->phase = VSMR_SYNC_ACKING;
    primary_maybe_finish(s);
    return VSMR_OK;
}

static int stale(const struct vsmr_sync *s, const char *what, uint64_t epoch)
{
    return vsmr_fail(VSMR_EPROTO, "sync: %s for epoch %llu ignored (this "
                     "replica is at epoch %llu, phase %s)", what,
                     (unsigned long long)epoch, (unsigned long long)s->epoch,
                     vsmr_sync_phase_name(s->phase));
}

static bool is_early(const struct vsmr_sync *s, uint64_t epoch)
{
    return s->phase == VSMR_SYNC_RUNNING && epoch > s->epoch;
}

int vsmr_sync_peer_dirty(struct vsmr_sync *s, uint64_t epoch)
{
    if (remus(s))
        return stale(s, "dirty bitmap (Remus mode exchanges none)", epoch);
    if (is_early(s, epoch)) {
        s->early_dirty = epoch;
        return VSMR_OK;
    }
    if (epoch != s->epoch || s->peer_dirty ||
        (s->phase != VSMR_SYNC_PAUSING && s->phase != VSMR_SYNC_DIRTY))
        return stale(s, "dirty bitmap", epoch);
    s->peer_dirty = true;
    if (s->pause_deferred) {
        s->pause_deferred = false;
        push(s, VSMR_SYNC_ACT_PAUSE);
    }
    maybe_hash(s);
    return VSMR_OK;
}

int vsmr_sync_peer_hashes(struct vsmr_sync *s, uint64_t epoch)
{
    if (!primary(s) || remus(s) || epoch != s->epoch || s->peer_hashes ||
        (s->phase != VSMR_SYNC_DIRTY && s->phase != VSMR_SYNC_HASHING &&
         s->phase != VSMR_SYNC_COMPARING))
        return stale(s, "hashes", epoch);
    s->peer_hashes = true;
    if (s->phase == VSMR_SYNC_COMPARING)
        start_transfer(s);
    return VSMR_OK;
}

int vsmr_sync_peer_done(struct vsmr_sync *s, uint64_t epoch)
{
    if (primary(s))
        return stale(s, "pages", epoch);
    if (is_early(s, epoch) && remus(s)) {
        s->early_done = epoch;
        return VSMR_OK;
    }
    if (epoch != s->epoch || s->phase != VSMR_SYNC_TRANSFER)
        return stale(s, "pages", epoch);
    s->peer_done = true;
    s->phase = VSMR_SYNC_APPLYING;
    push(s, VSMR_SYNC_ACT_APPLY);
    return VSMR_OK;
}

int vsmr_sync_peer_ack(struct vsmr_sync *s, uint64_t epoch, uint64_t lo,
                       uint64_t hi)
{
    if (!primary(s) || epoch != s->epoch || s->peer_acked ||
        (s->phase != VSMR_SYNC_TRANSFER && s->phase != VSMR_SYNC_VERIFYING &&
         s->phase != VSMR_SYNC_ACKING))
        return stale(s, "ack", epoch);
    s->peer_acked = true;
    s->peer_digest[0] = lo;
    s->peer_digest[1] = hi;
    primary_maybe_finish(s);
    return VSMR_OK;
}

void vsmr_sync_abort(struct vsmr_sync *s, const char *reason)
{
    if (s->phase == VSMR_SYNC_RUNNING)
        return;
    strncpy(s->reason, reason ? reason : "aborted", sizeof s->reason - 1);
    s->reason[sizeof s->reason - 1] = '\0';
    s->aborted++;
    s->phase = VSMR_SYNC_RUNNING;
    clear_epoch(s);
    s->count = 0;                 /* pending actions are moot */
    push(s, VSMR_SYNC_ACT_ABORTED);
    /* The guest may be paused: let it run again from its own state (a
     * Remus backup's guest never runs). */
    if (primary(s) || !remus(s))
        push(s, VSMR_SYNC_ACT_RESUME);
}

const char *vsmr_sync_phase_name(enum vsmr_sync_phase p)
{
    static const char *const names[] = {
        "running", "pausing", "dirty", "hashing", "comparing",
        "transfer", "applying", "verifying", "acking",
    };
    return (unsigned)p < sizeof names / sizeof *names ? names[p] : "?";
}

const char *vsmr_sync_action_name(enum vsmr_sync_action a)
{
    static const char *const names[] = {
        "none", "pause", "fetch-dirty", "send-dirty", "hash", "send-hashes",
        "send-pages", "apply", "verify", "send-ack", "release-outputs",
        "drop-outputs", "compact", "resume", "aborted",
    };
    return (unsigned)a < sizeof names / sizeof *names ? names[a] : "?";
}
