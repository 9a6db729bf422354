/*
 * engine.c - a replica's guest side: inputs in, outputs held, and the
 * action loop that carries out the sync core's decisions (engine.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "common/err.h"
#include "sync/engine_internal.h"
#include "wire/wire_sync.h"

double vsmr_engine_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void vsmr_engine_mark(struct vsmr_engine *e, double *bucket)
{
    double now = vsmr_engine_now_ms();
    *bucket += now - e->t_last;
    e->t_last = now;
}

void vsmr_engine_report(struct vsmr_engine *e, const char *fmt, ...)
{
    if (!e->cfg.report)
        return;
    char line[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    e->cfg.report(e->cfg.ctx, line);
}

/* The backup's staging area is sized for every page of the guest but
 * only touched as pages arrive: address space, not memory. A Xen guest's
 * page count is its gfn span (1 M pages for 128 MiB of RAM below a 4 GiB
 * hole), which a plain malloc would refuse under overcommit rules. */
static uint8_t *stage_alloc(uint64_t pages)
{
    void *p = mmap(NULL, pages * VSMR_PAGE_SIZE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static int alloc_buffers(struct vsmr_engine *e)
{
    e->words = (e->pages + 63) / 64;
    e->dirty_local = calloc(e->words, 8);
    e->dirty_peer = calloc(e->words, 8);
    e->fetched = calloc(e->words, 8);
    e->union_pfns = malloc(e->pages * 8);
    e->hash_local = malloc(e->pages * sizeof *e->hash_local);
    e->hash_peer = malloc(e->pages * sizeof *e->hash_peer);
    e->frame = malloc(VSMR_WIRE_MAX_FRAME);
    e->scratch = malloc(256 * (8 + VSMR_PAGE_SIZE));
    /* Decompressed content: this guest's bitmap, or the largest batch. */
    size_t inflated = (size_t)VSMR_WIRE_MAX_PAGES * VSMR_WIRE_PAGE_RECORD;
    if (e->words * 8 > inflated)
        inflated = e->words * 8;
    int rc = vsmr_wire_z_new(ENGINE_ZSTD_LEVEL, inflated, &e->z);
    if (rc < 0)
        return rc;
    if (e->cfg.role == VSMR_SYNC_BACKUP) {
        e->stage_pfns = malloc(e->pages * 8);
        e->stage_data = stage_alloc(e->pages);
    }
    if (!e->dirty_local || !e->dirty_peer || !e->fetched || !e->union_pfns ||
        !e->hash_local || !e->hash_peer || !e->frame || !e->scratch ||
        (e->cfg.role == VSMR_SYNC_BACKUP && (!e->stage_pfns || !e->stage_data)))
        return vsmr_fail(VSMR_ENOMEM, "engine: out of memory for a guest "
                         "of %llu pages", (unsigned long long)e->pages);
    return VSMR_OK;
}

int vsmr_engine_new(const struct vsmr_engine_config *cfg, vsmr_guest *g,
                    struct vsmr_engine **out)
{
    if (!cfg || !g || !out || !cfg->send || !cfg->io.inject ||
        !cfg->io.collect || !cfg->io.served)
        return vsmr_fail(VSMR_EINVAL, "engine: guest, send and guest I/O "
                                      "callbacks are required");
    if (cfg->compress != VSMR_SYNC_COMPRESS_ZSTD &&
        cfg->compress != VSMR_SYNC_COMPRESS_OFF)
        return vsmr_fail(VSMR_EINVAL, "engine: compress must be zstd or "
                                      "off");
    struct vsmr_engine *e = calloc(1, sizeof *e);
    if (!e)
        return vsmr_fail(VSMR_ENOMEM, "engine: out of memory");
    e->cfg = *cfg;
    e->guest = g;
    e->pages = vsmr_guest_page_count(g);
    struct vsmr_sync_config sc = {.role = cfg->role, .mode = cfg->mode,
                                  .verify = cfg->verify};
    int rc = vsmr_sync_new(&sc, &e->sync);
    if (rc == VSMR_OK)
        rc = vsmr_pool_new(cfg->hash_threads, &e->pool);
    if (rc == VSMR_OK)
        rc = vsmr_outbuf_new(cfg->max_held_bytes, &e->held);
    if (rc == VSMR_OK)
        rc = alloc_buffers(e);
    if (rc == VSMR_OK)
        rc = vsmr_guest_logdirty(g, true);
    if (rc == VSMR_OK && engine_remus_backup(e))
        rc = vsmr_guest_pause(g);      /* a Remus backup never runs */
    /* A backup's first sync compares every page that maps; finding them
     * takes a Xen backend seconds (up to 30 on one emulated host), which
     * inside that sync stopped this replica's loop long enough for the
     * primary to time it out. The backend keeps the set: find it now. */
    if (rc == VSMR_OK && cfg->role == VSMR_SYNC_BACKUP) {
        (void)vsmr_guest_mappable(g, e->fetched, e->words);
        memset(e->fetched, 0, e->words * 8);
    }
    if (rc < 0) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", vsmr_errmsg());
        vsmr_engine_free(e);
        return vsmr_fail(rc, "%s", msg);
    }
    *out = e;
    return VSMR_OK;
}

void vsmr_engine_free(struct vsmr_engine *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n_pending; i++)
        free(e->pending[i].data);
    free(e->pending);
    vsmr_sync_free(e->sync);
    vsmr_pool_free(e->pool);
    vsmr_outbuf_free(e->held);
    free(e->dirty_local); free(e->dirty_peer); free(e->fetched); free(e->union_pfns);
    free(e->hash_local); free(e->hash_peer); free(e->frame); free(e->scratch);
    vsmr_wire_z_free(e->z);
    free(e->stage_pfns);
    if (e->stage_data)
        munmap(e->stage_data, e->pages * VSMR_PAGE_SIZE);
    free(e->peer_context);
    free(e);
}

/* --- inputs ---------------------------------------------------------------- */

static int queue_input(struct vsmr_engine *e, uint64_t index,
                       const void *data, size_t len)
{
    if (e->n_pending == e->cap_pending) {
        size_t cap = e->cap_pending ? e->cap_pending * 2 : 256;
        void *p = realloc(e->pending, cap * sizeof *e->pending);
        if (!p)
            return vsmr_fail(VSMR_ENOMEM, "engine: out of memory for inputs");
        e->pending = p;
        e->cap_pending = cap;
    }
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return vsmr_fail(VSMR_ENOMEM, "engine: out of memory for inputs");
    memcpy(copy, data, len);
    e->pending[e->n_pending++] =
        (struct pending_input){.index = index, .len = (uint32_t)len,
                               .data = copy};
    return VSMR_OK;
}

/* Forgets the first n pending inputs (their data already freed). */
static void drop_front(struct vsmr_engine *e, size_t n)
{
    if (n && n < e->n_pending)
        memmove(e->pending, e->pending + n,
                (e->n_pending - n) * sizeof *e->pending);
    e->n_pending -= n;
}

int engine_feed_pending(struct vsmr_engine *e)
{
    size_t i = 0;
    int rc = VSMR_OK;
    for (; i < e->n_pending && rc == VSMR_OK; i++) {
        rc = e->cfg.io.inject(e->cfg.io.ctx, e->pending[i].data,
                              e->pending[i].len);
        free(e->pending[i].data);
    }
    drop_front(e, i);
    return rc;
}

/* Remus backup: inputs the last checkpoint already contains. */
static void forget_pending_upto(struct vsmr_engine *e, uint64_t index)
{
    size_t i = 0;
    while (i < e->n_pending && e->pending[i].index <= index)
        free(e->pending[i++].data);
    drop_front(e, i);
}

int vsmr_engine_input(struct vsmr_engine *e, uint64_t index,
                      const void *data, size_t len)
{
    if (!e || (len && !data))
        return vsmr_fail(VSMR_EINVAL, "engine input: missing argument");
    e->cur.inputs++;
    if (vsmr_engine_syncing(e) || engine_guest_held(e) || e->n_pending ||
        e->awaiting_devices)
        return queue_input(e, index, data, len);
    return e->cfg.io.inject(e->cfg.io.ctx, data, len);
}

/* --- outputs --------------------------------------------------------------- */

static void release_one(void *ctx, const struct vsmr_output *o)
{
    struct vsmr_engine *e = ctx;
    e->cur.outputs_released++;
    if (e->cfg.release)
        e->cfg.release(e->cfg.ctx, o);
}

static bool releases_at_once(const struct vsmr_engine *e)
{
    return e->promoted ||
           (e->unprotected && e->cfg.role == VSMR_SYNC_PRIMARY);
}

static int collect_outputs(struct vsmr_engine *e)
{
    uint8_t buf[65536];
    for (;;) {
        size_t len;
        int rc = e->cfg.io.collect(e->cfg.io.ctx, buf, sizeof buf, &len);
        if (rc == VSMR_EAGAIN)
            return VSMR_OK;
        if (rc < 0)
            return rc;
        struct vsmr_sync_status st;
        vsmr_sync_get_status(e->sync, &st);
        if (releases_at_once(e)) {
            struct vsmr_output o = {.epoch = st.committed_epoch + 1,
                                    .len = (uint32_t)len, .data = buf};
            release_one(e, &o);
            continue;
        }
        /* Held until the epoch after the last committed one commits. */
        rc = vsmr_outbuf_hold(e->held, st.committed_epoch + 1, buf, len);
        if (rc < 0)
            return rc == VSMR_EAGAIN
                       ? vsmr_fail(VSMR_EAGAIN, "held outputs are full")
                       : rc;
        e->cur.outputs_held++;
    }
}

/* --- the action loop ------------------------------------------------------- */

static void close_epoch(struct vsmr_engine *e, bool committed)
{
    struct vsmr_sync_status st;
    vsmr_sync_get_status(e->sync, &st);
    e->cur.epoch = st.epoch;
    e->cur.index = st.index;
    e->cur.committed = committed;
    e->cur.ms_paused = vsmr_engine_now_ms() - e->t_paused;
    e->total_epochs += committed;
    if (committed)
        e->t_committed = vsmr_engine_now_ms();
    e->total_bytes += e->cur.bytes_sent;
    e->total_raw += e->cur.bytes_raw;
    e->total_paused_ms += e->cur.ms_paused;
    e->last = e->cur;
    vsmr_engine_report(e,
        "event=%s epoch=%llu index=%llu dirty_local=%llu dirty_peer=%llu "
        "union=%llu divergent=%llu bytes_sent=%llu bytes_raw=%llu "
        "inputs=%llu outputs_held=%llu outputs_released=%llu ms_paused=%.2f "
        "ms_await_peer=%.2f ms_drain=%.2f ms_dirty=%.2f ms_hash=%.2f ms_transfer=%.2f "
        "ms_apply=%.2f ms_verify=%.2f ms_ack=%.2f%s%s",
        committed ? "epoch_committed" : "epoch_aborted",
        (unsigned long long)e->cur.epoch, (unsigned long long)e->cur.index,
        (unsigned long long)e->cur.dirty_local,
        (unsigned long long)e->cur.dirty_peer,
        (unsigned long long)e->cur.union_pages,
        (unsigned long long)e->cur.divergent,
        (unsigned long long)e->cur.bytes_sent,
        (unsigned long long)e->cur.bytes_raw,
        (unsigned long long)e->cur.inputs,
        (unsigned long long)e->cur.outputs_held,
        (unsigned long long)e->cur.outputs_released, e->cur.ms_paused,
        e->cur.ms_await_peer, e->cur.ms_drain, e->cur.ms_dirty, e->cur.ms_hash, e->cur.ms_transfer,
        e->cur.ms_apply, e->cur.ms_verify, e->cur.ms_ack,
        committed ? "" : " reason=", committed ? "" : st.reason);
    memset(&e->cur, 0, sizeof e->cur);
    engine_clear_epoch(e);
}

static int act_resume(struct vsmr_engine *e)
{
    int rc = engine_restart_guest(e);
    if (rc == VSMR_OK && !engine_guest_held(e) && !e->awaiting_devices)
        rc = engine_feed_pending(e);
    return rc;
}

static int act_verify(struct vsmr_engine *e)
{
    uint64_t lo = 0, hi = 0;
    int rc = engine_verify(e, &lo, &hi);
    vsmr_engine_mark(e, &e->cur.ms_verify);
    if (rc < 0)
        return rc;
    e->verify_lo = lo;
    e->verify_hi = hi;
    return vsmr_sync_verified(e->sync, lo, hi);
}

static int act_release(struct vsmr_engine *e)
{
    struct vsmr_sync_status st;
    vsmr_sync_get_status(e->sync, &st);
    vsmr_engine_mark(e, &e->cur.ms_ack);
    vsmr_outbuf_flush(e->held, st.epoch, release_one, e);
    return VSMR_OK;
}

static int act_drop(struct vsmr_engine *e)
{
    struct vsmr_sync_status st;
    vsmr_sync_get_status(e->sync, &st);
    vsmr_outbuf_flush(e->held, st.epoch, NULL, NULL);
    return VSMR_OK;
}

static int act_compact(struct vsmr_engine *e)
{
    struct vsmr_sync_status st;
    vsmr_sync_get_status(e->sync, &st);
    /* The copy holds them already (a backup that waited for its devices
     * may still hold inputs the primary served before this sync). */
    if (engine_guest_held(e) || e->awaiting_devices)
        forget_pending_upto(e, st.index);
    if (e->cfg.compact)
        e->cfg.compact(e->cfg.ctx, st.index);
    memset(e->dirty_local, 0, e->words * 8);   /* now in sync: forget */
    close_epoch(e, true);
    return VSMR_OK;
}

/* The bits fetched accumulate in dirty_local until an epoch commits: an
 * aborted epoch must not lose pages it had fetched (and cleared). */
static int act_fetch_dirty(struct vsmr_engine *e)
{
    int rc = vsmr_guest_dirty_fetch_clear(e->guest, e->fetched,
                                          e->words);
    if (rc < 0)
        return rc;
    for (size_t w = 0; w < e->words; w++)
        e->dirty_local[w] |= e->fetched[w];
    if ((rc = engine_after_fetch(e)) < 0)
        return rc;
    e->cur.dirty_local = vsmr_bitmap_count(e->dirty_local, e->pages);
    return vsmr_sync_dirty_fetched(e->sync);
}

static int act_hash(struct vsmr_engine *e)
{
    vsmr_engine_mark(e, &e->cur.ms_dirty);
    int rc = engine_hash_union(e);
    vsmr_engine_mark(e, &e->cur.ms_hash);
    return rc < 0 ? rc : vsmr_sync_hashed(e->sync);
}

static int act_send_pages(struct vsmr_engine *e)
{
    if (e->cfg.mode == VSMR_SYNC_MODE_REMUS)
        vsmr_engine_mark(e, &e->cur.ms_dirty);
    else
        vsmr_engine_mark(e, &e->cur.ms_transfer);   /* waiting for hashes */
    int rc = engine_send_pages(e);
    vsmr_engine_mark(e, &e->cur.ms_transfer);
    return rc < 0 ? rc : vsmr_sync_pages_sent(e->sync);
}

static int act_apply(struct vsmr_engine *e)
{
    int rc = engine_begin_copy(e);
    if (rc == VSMR_OK)
        rc = engine_apply(e);
    vsmr_engine_mark(e, &e->cur.ms_apply);
    return rc < 0 ? rc : vsmr_sync_applied(e->sync);
}

static int act_pause(struct vsmr_engine *e)
{
    vsmr_engine_mark(e, &e->cur.ms_await_peer);
    e->waiting_served = true;
    e->t_last = e->t_paused = vsmr_engine_now_ms();
    return VSMR_OK;
}

static int act_aborted(struct vsmr_engine *e)
{
    struct vsmr_sync_status st;
    vsmr_sync_get_status(e->sync, &st);
    e->waiting_served = false;
    if (e->local_abort)
        engine_send_abort(e, st.reason);   /* the peer may be gone: best effort */
    e->local_abort = false;
    close_epoch(e, false);
    return VSMR_OK;
}

static int run_action(struct vsmr_engine *e, enum vsmr_sync_action a)
{
    switch (a) {
    case VSMR_SYNC_ACT_PAUSE:           return act_pause(e);
    case VSMR_SYNC_ACT_FETCH_DIRTY:     return act_fetch_dirty(e);
    case VSMR_SYNC_ACT_SEND_DIRTY:      return engine_send_dirty(e);
    case VSMR_SYNC_ACT_HASH:            return act_hash(e);
    case VSMR_SYNC_ACT_SEND_HASHES:     return engine_send_hashes(e);
    case VSMR_SYNC_ACT_SEND_PAGES:      return act_send_pages(e);
    case VSMR_SYNC_ACT_APPLY:           return act_apply(e);
    case VSMR_SYNC_ACT_VERIFY:          return act_verify(e);
    case VSMR_SYNC_ACT_SEND_ACK:
        return engine_send_ack(e, e->verify_lo, e->verify_hi);
    case VSMR_SYNC_ACT_RELEASE_OUTPUTS: return act_release(e);
    case VSMR_SYNC_ACT_DROP_OUTPUTS:    return act_drop(e);
    case VSMR_SYNC_ACT_COMPACT:         return act_compact(e);
    case VSMR_SYNC_ACT_RESUME:          return act_resume(e);
    case VSMR_SYNC_ACT_ABORTED:         return act_aborted(e);
    case VSMR_SYNC_ACT_NONE:            return VSMR_OK;
    }
    return VSMR_OK;
}

/* A local failure in the middle of an epoch: abandon it, tell the peer. */
static void fail_epoch(struct vsmr_engine *e, int rc)
{
    char why[200];
    snprintf(why, sizeof why, "%s (%s)", vsmr_errmsg(), vsmr_err_name(rc));
    e->local_abort = true;
    vsmr_sync_abort(e->sync, why);
}

static int run_actions(struct vsmr_engine *e)
{
    int first_error = VSMR_OK;
    for (enum vsmr_sync_action a; (a = vsmr_sync_next_action(e->sync));) {
        if (e->cfg.before_action)
            e->cfg.before_action(e->cfg.ctx, vsmr_sync_action_name(a));
        int rc = run_action(e, a);
        if (rc < 0 && a != VSMR_SYNC_ACT_ABORTED) {
            if (first_error == VSMR_OK)
                first_error = rc;
            fail_epoch(e, rc);
        }
    }
    return first_error;
}

static int check_served(struct vsmr_engine *e)
{
    bool all = false;
    int rc = e->cfg.io.served(e->cfg.io.ctx, &all);
    if (rc < 0 || !all)
        return rc;
    e->waiting_served = false;
    if ((rc = engine_stop_guest(e)) < 0)
        return rc;
    if ((rc = collect_outputs(e)) < 0)   /* the epoch's last outputs */
        return rc;
    vsmr_engine_mark(e, &e->cur.ms_drain);
    e->t_paused = vsmr_engine_now_ms();
    return vsmr_sync_paused(e->sync);
}

int vsmr_engine_poll(struct vsmr_engine *e)
{
    if (e->continue_pending && !vsmr_engine_syncing(e) &&
        act_resume(e) < 0)
        vsmr_engine_report(e, "event=continue_failed msg=\"%s\"",
                           vsmr_errmsg());
    int rc = engine_remus_backup(e) ? VSMR_OK : collect_outputs(e);
    if (rc == VSMR_OK && !vsmr_engine_syncing(e))
        rc = engine_poll_devices(e);
    if (rc == VSMR_OK && e->waiting_served) {
        rc = check_served(e);
        if (rc < 0)
            fail_epoch(e, rc);
    }
    int arc = run_actions(e);
    return rc < 0 ? rc : arc;
}

int vsmr_engine_sync(struct vsmr_engine *e, uint64_t epoch, uint64_t index)
{
    int rc = vsmr_sync_begin(e->sync, epoch, index);
    if (rc < 0)
        return rc;
    e->t_last = e->t_paused = vsmr_engine_now_ms();
    return vsmr_engine_poll(e);
}

/* A frame of a later epoch than the one this side is in: the peer has
 * moved on and never comes back to ours (this side replayed a stale SYNC
 * entry while catching up after a restart, or missed the peer's abort),
 * so ours is abandoned at once, not at its timeout, and the frame counts
 * as an early one for the next. (READY and ABORT name other epochs.) */
static void abandon_if_overtaken(struct vsmr_engine *e, const uint8_t *frame,
                                 size_t len)
{
    struct vsmr_wire_header h;
    struct vsmr_sync_status st;
    vsmr_sync_get_status(e->sync, &st);
    if (st.phase == VSMR_SYNC_RUNNING ||
        len < VSMR_WIRE_HEADER_SIZE + 8 ||
        vsmr_wire_header_decode(frame, len, &h) < 0 ||
        h.type == VSMR_WIRE_SYNC_READY || h.type == VSMR_WIRE_SYNC_ABORT)
        return;
    uint64_t epoch = get_le64(frame + VSMR_WIRE_HEADER_SIZE);
    if (epoch <= st.epoch)
        return;
    char why[96];
    snprintf(why, sizeof why, "the peer is at epoch %llu already",
             (unsigned long long)epoch);
    vsmr_sync_abort(e->sync, why);
    run_actions(e);
}

int vsmr_engine_message(struct vsmr_engine *e, const uint8_t *frame,
                        size_t len)
{
    abandon_if_overtaken(e, frame, len);
    int rc = engine_on_frame(e, frame, len);
    if (rc == VSMR_EPROTO || rc == VSMR_ESTATE) {
        /* A hostile or stale frame: refuse it; the epoch goes on. */
        vsmr_engine_report(e, "event=frame_rejected error=%s msg=\"%s\"",
                           vsmr_err_name(rc), vsmr_errmsg());
        return rc;
    }
    if (rc < 0)
        fail_epoch(e, rc);
    int arc = run_actions(e);
    return rc < 0 ? rc : arc;
}

void vsmr_engine_abort(struct vsmr_engine *e, const char *reason)
{
    vsmr_sync_abort(e->sync, reason);
    run_actions(e);
}

int vsmr_engine_promote(struct vsmr_engine *e)
{
    vsmr_engine_abort(e, "promoted to primary");
    bool was_held = engine_guest_held(e);
    bool awaited = e->awaiting_devices;   /* runs; its inputs wait */
    bool needed_copy = e->needs_copy;
    e->promoted = true;
    e->awaiting_devices = false;
    vsmr_outbuf_flush(e->held, UINT64_MAX, release_one, e);
    int rc = VSMR_OK;
    if (needed_copy) {
        /* Its last sync was abandoned after its reset: only the backend
         * can say whether it runs from its own state. */
        rc = vsmr_guest_backup_cancel(e->guest);
        if (rc < 0)
            rc = vsmr_fail(rc, "promoted backup cannot run: %s",
                           vsmr_errmsg());
        else
            e->needs_copy = false;
    }
    if (was_held && rc == VSMR_OK) {
        rc = vsmr_guest_unpause(e->guest);
        if (rc == VSMR_OK)
            rc = engine_feed_pending(e);
    } else if (awaited && rc == VSMR_OK) {
        rc = engine_feed_pending(e);
    }
    vsmr_engine_report(e, "event=promoted held_released=%llu",
                       (unsigned long long)e->cur.outputs_released);
    return rc;
}

void vsmr_engine_unprotected(struct vsmr_engine *e, bool unprotected)
{
    e->unprotected = unprotected;
    if (unprotected && e->cfg.role == VSMR_SYNC_PRIMARY) {
        vsmr_engine_abort(e, "backup lost");
        vsmr_outbuf_flush(e->held, UINT64_MAX, release_one, e);
    }
}

/* Every page that maps (a Xen guest's gfn range has holes). */
void vsmr_engine_full_sync(struct vsmr_engine *e)
{
    if (vsmr_guest_mappable(e->guest, e->fetched, e->words) < 0)
        memset(e->fetched, 0xff, e->words * 8);
    if (e->pages % 64)
        e->fetched[e->words - 1] &= (UINT64_C(1) << (e->pages % 64)) - 1;
    for (size_t w = 0; w < e->words; w++)
        e->dirty_local[w] |= e->fetched[w];
}

bool vsmr_engine_syncing(const struct vsmr_engine *e)
{
    struct vsmr_sync_status st;
    vsmr_sync_get_status(e->sync, &st);
    return st.phase != VSMR_SYNC_RUNNING;
}

bool vsmr_engine_idle(struct vsmr_engine *e)
{
    bool all = false;
    if (e->cfg.io.served(e->cfg.io.ctx, &all) < 0)
        return false;
    return all && e->n_pending == 0;
}

size_t vsmr_engine_held_bytes(const struct vsmr_engine *e)
{
    return vsmr_outbuf_bytes(e->held);
}

void vsmr_engine_status(const struct vsmr_engine *e,
                        struct vsmr_sync_status *st)
{
    vsmr_sync_get_status(e->sync, st);
}

const struct vsmr_epoch_metrics *vsmr_engine_last(const struct vsmr_engine *e)
{
    return &e->last;
}

void vsmr_engine_totals(const struct vsmr_engine *e, uint64_t *epochs,
                        uint64_t *bytes_sent, uint64_t *bytes_raw,
                        double *ms_paused)
{
    *epochs = e->total_epochs;
    *bytes_sent = e->total_bytes;
    *bytes_raw = e->total_raw;
    *ms_paused = e->total_paused_ms;
}
