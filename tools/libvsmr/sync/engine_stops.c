/*
 * engine_stops.c - how the engine stops its guest for a sync and starts it
 * again, through the guest interface's sync stops (vsmr/guest.h):
 *   primary:      stop_for_sync when its inputs are served, continue at
 *                 RESUME (a failed continue is retried at every poll);
 *   VSMR backup:  prepare when its inputs are served, begin once the
 *                 whole epoch arrived (SYNC_DONE, before any page is
 *                 written), end at RESUME of a committed epoch (after the
 *                 context and the verify), cancel at RESUME of an aborted
 *                 one (before begin, it runs on from its own state);
 *   Remus backup: paused from the start, as before.
 * A backup whose cancel or end fails stays stopped ("needs a copy"): it
 * queues inputs like a Remus backup, and the next committed sync, whose
 * union still holds every page written since the last commit, brings it
 * back with the primary's memory and context.
 */
#include <stdio.h>

#include "common/err.h"
#include "sync/engine_internal.h"

static bool acts_as_primary(const struct vsmr_engine *e)
{
    return e->cfg.role == VSMR_SYNC_PRIMARY || e->promoted;
}

bool engine_remus_backup(const struct vsmr_engine *e)
{
    return e->cfg.mode == VSMR_SYNC_MODE_REMUS && !acts_as_primary(e);
}

bool engine_guest_held(const struct vsmr_engine *e)
{
    return engine_remus_backup(e) || e->needs_copy;
}

/* Every stop below may keep this loop busy for a long time: what was
 * sent before (the backup's SYNC_ACK before its end, its SYNC_DIRTY
 * before its begin) goes out first, so the peer goes on meanwhile. */
static void flush_sent(struct vsmr_engine *e)
{
    if (e->cfg.flush)
        e->cfg.flush(e->cfg.ctx);
}

int engine_stop_guest(struct vsmr_engine *e)
{
    flush_sent(e);
    if (acts_as_primary(e))
        return vsmr_guest_stop_for_sync(e->guest);
    return vsmr_guest_backup_prepare(e->guest);
}

/* Pages shared with device backends change without a dirty mark: compare
 * them at every sync (each side adds its own; the union holds both). */
static int add_shared(struct vsmr_engine *e)
{
    size_t n = 0;
    int rc = vsmr_guest_shared_pages(e->guest, e->shared, ENGINE_MAX_SHARED,
                                     &n);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++)
        if (e->shared[i] < e->pages)
            e->dirty_local[e->shared[i] / 64] |= UINT64_C(1)
                                                 << (e->shared[i] % 64);
    return VSMR_OK;
}

int engine_after_fetch(struct vsmr_engine *e)
{
    return add_shared(e);
}

/* A VSMR backup's guest is reset for the copy only once the whole epoch
 * has arrived (SYNC_DONE), right before the first page is written: if the
 * primary fails earlier, the epoch is cancelled and the backup runs on
 * from its own state (it executed the same inputs) and can take over,
 * instead of being left reset with half a copy. */
int engine_begin_copy(struct vsmr_engine *e)
{
    if (acts_as_primary(e) || e->cfg.mode != VSMR_SYNC_MODE_VSMR)
        return VSMR_OK;
    flush_sent(e);
    return vsmr_guest_backup_begin(e->guest);
}

/* Where a backup's end went (Xen: seconds under emulation, and the
 * primary's next sync waits for it). */
static void report_end(struct vsmr_engine *e, double ms)
{
    struct vsmr_guest_backup_figures f;
    if (vsmr_guest_backup_figures(e->guest, &f) < 0)
        return;
    vsmr_engine_report(e, "event=backup_restarted ms_end=%.1f "
        "ms_channels=%.1f ms_walk=%.1f ms_reintroduce=%.1f ms_restore=%.1f "
        "ms_resume=%.1f nodes_walked=%zu nodes_recreated=%zu "
        "nodes_changed=%zu nodes_lost=%zu store=%s", ms, f.ms_channels,
        f.ms_walk, f.ms_reintroduce, f.ms_restore, f.ms_resume, f.nodes_walked,
        f.nodes_recreated, f.nodes_changed, f.nodes_lost,
        f.store_in_place ? "reset_in_place" : "released");
}

static int restart_backup(struct vsmr_engine *e)
{
    bool committed = e->last.committed;
    double t = vsmr_engine_now_ms();
    int rc = committed ? vsmr_guest_backup_end(e->guest, true)
                       : vsmr_guest_backup_cancel(e->guest);
    if (rc == VSMR_OK) {
        e->needs_copy = false;
        if (!committed)
            return VSMR_OK;
        report_end(e, vsmr_engine_now_ms() - t);
        return engine_backup_restarted(e, true);
    }
    char why[300];
    snprintf(why, sizeof why, "%s (%s)", vsmr_errmsg(), vsmr_err_name(rc));
    e->needs_copy = true;
    vsmr_engine_report(e, "event=backup_held reason=\"%s\"", why);
    if (committed)
        engine_backup_restarted(e, false);
    /* A cancel that cannot restart the guest is the backend's documented
     * answer, not a failure; an end that fails is. */
    return committed ? vsmr_fail(rc, "%s", why) : VSMR_OK;
}

int engine_restart_guest(struct vsmr_engine *e)
{
    if (engine_remus_backup(e))
        return VSMR_OK;
    flush_sent(e);
    int rc;
    if (acts_as_primary(e)) {
        rc = vsmr_guest_continue_after_sync(e->guest);
        e->continue_pending = rc < 0;
        /* A guest stopped outside a sync (a test, a Remus promotion). */
        if (rc == VSMR_OK)
            rc = vsmr_guest_unpause(e->guest);
    } else {
        rc = restart_backup(e);
    }
    return rc;
}
