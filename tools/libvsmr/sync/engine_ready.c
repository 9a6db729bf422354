/*
 * engine_ready.c - when a backup can take the next sync.
 *
 * A Xen backup's end resumes it as a new domain, and its frontends
 * reconnect after that (seconds under emulation). An input injected
 * before they are back is lost on the backup, and a sync proposed before
 * then stops the primary until the backup gets there. So the backup holds
 * its inputs until its devices are connected again, feeds them, and tells
 * the primary (SYNC_READY); the primary's trigger waits for that word,
 * within a bound (vsmr_engine_backup_ready). A sim backup is ready at once.
 */
#include "common/err.h"
#include "sync/engine_internal.h"
#include "wire/wire_sync.h"

#define DEVICES_WAIT_MS  15000.0   /* then the inputs go in regardless */
#define DEVICES_CHECK_MS 20.0      /* xenstore reads: not every poll */

static bool acts_as_primary(const struct vsmr_engine *e)
{
    return e->cfg.role == VSMR_SYNC_PRIMARY || e->promoted;
}

static uint64_t committed_epoch(const struct vsmr_engine *e)
{
    struct vsmr_sync_status st;
    vsmr_sync_get_status(e->sync, &st);
    return st.committed_epoch;
}

static void send_ready(struct vsmr_engine *e)
{
    struct vsmr_wire_sync m = {.type = VSMR_WIRE_SYNC_READY,
                               .epoch = committed_epoch(e)};
    size_t len;
    if (vsmr_wire_sync_encode(&m, e->frame, VSMR_WIRE_MAX_FRAME, &len) < 0 ||
        e->cfg.send(e->cfg.ctx, e->frame, len) < 0)
        vsmr_engine_report(e, "event=ready_not_sent msg=\"%s\" "
                           "effect=\"the primary waits sync_backup_wait_ms "
                           "before its next sync\"", vsmr_errmsg());
}

/* Devices up (or waited for long enough): inputs in, primary told. */
static int become_ready(struct vsmr_engine *e, bool connected)
{
    e->awaiting_devices = false;
    double waited = vsmr_engine_now_ms() - e->t_restarted;
    vsmr_engine_report(e, "event=backup_ready epoch=%llu ms_devices=%.1f "
                       "devices=%s inputs_held=%zu",
                       (unsigned long long)committed_epoch(e), waited,
                       connected ? "connected" : "not_connected_in_time",
                       e->n_pending);
    int rc = engine_feed_pending(e);
    send_ready(e);
    return rc;
}

static int check_devices(struct vsmr_engine *e)
{
    double now = vsmr_engine_now_ms();
    bool up = false;
    int rc = vsmr_guest_devices_connected(e->guest, 0, &up);
    e->t_devices_checked = now;
    if (rc < 0) {
        vsmr_engine_report(e, "event=devices_unknown msg=\"%s\"",
                           vsmr_errmsg());
        return become_ready(e, false);
    }
    if (up || now - e->t_restarted >= DEVICES_WAIT_MS)
        return become_ready(e, up);
    return VSMR_OK;
}

int engine_backup_restarted(struct vsmr_engine *e, bool ran_end)
{
    if (!ran_end) {        /* held for the next copy: nothing to wait for */
        send_ready(e);
        return VSMR_OK;
    }
    e->awaiting_devices = true;
    e->t_restarted = vsmr_engine_now_ms();
    return check_devices(e);
}

int engine_poll_devices(struct vsmr_engine *e)
{
    if (!e->awaiting_devices ||
        vsmr_engine_now_ms() - e->t_devices_checked < DEVICES_CHECK_MS)
        return VSMR_OK;
    return check_devices(e);
}

void engine_on_ready(struct vsmr_engine *e, uint64_t epoch)
{
    if (!acts_as_primary(e) || epoch <= e->peer_ready_epoch)
        return;
    e->peer_ready_epoch = epoch;
    if (epoch == committed_epoch(e))
        vsmr_engine_report(e, "event=backup_ready_seen epoch=%llu "
                           "ms_after_commit=%.1f", (unsigned long long)epoch,
                           vsmr_engine_now_ms() - e->t_committed);
}

bool vsmr_engine_backup_ready(const struct vsmr_engine *e,
                              uint32_t max_wait_ms)
{
    if (!acts_as_primary(e) || e->promoted ||
        e->cfg.mode != VSMR_SYNC_MODE_VSMR)
        return true;
    uint64_t committed = committed_epoch(e);
    if (committed == 0 || e->peer_ready_epoch >= committed)
        return true;
    return vsmr_engine_now_ms() - e->t_committed >= (double)max_wait_ms;
}
