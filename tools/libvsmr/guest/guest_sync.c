/*
 * guest_sync.c - the guest interface's sync stops (vsmr/guest.h): the
 * primary's stop/continue and a running backup's prepare, begin, end and
 * cancel. Checks arguments and the order (sync_state), then calls the
 * backend; the pause flag follows, so close() knows what to undo.
 */
#include "common/err.h"
#include "guest/guest_impl.h"

static const char *state_name(enum vsmr_guest_sync_state s)
{
    switch (s) {
    case VSMR_GUEST_RUNNING: return "not in a sync";
    case VSMR_GUEST_STOPPED: return "stopped for a sync";
    case VSMR_GUEST_PREPARED: return "prepared as a backup";
    case VSMR_GUEST_BEGUN: return "reset for a copy";
    case VSMR_GUEST_RECONNECTED: return "reconnected, not started";
    }
    return "?";
}

static int out_of_order(vsmr_guest *g, const char *op)
{
    return vsmr_fail(VSMR_ESTATE, "%s: the %s guest is %s", op,
                     g->ops->name, state_name(g->sync_state));
}

/* The primary's two steps: from -> to through op; done when already at
 * to. */
static int step(vsmr_guest *g, const char *name,
                enum vsmr_guest_sync_state from,
                enum vsmr_guest_sync_state to, int (*op)(vsmr_guest *))
{
    if (!g)
        return vsmr_fail(VSMR_EINVAL, "%s: no guest", name);
    if (g->sync_state == to)
        return VSMR_OK;
    if (g->sync_state != from)
        return out_of_order(g, name);
    int rc = op(g);
    if (rc == VSMR_OK) {
        g->paused = to == VSMR_GUEST_STOPPED;
        g->sync_state = to;
    }
    return rc;
}

int vsmr_guest_stop_for_sync(vsmr_guest *g)
{
    return step(g, "stop for sync", VSMR_GUEST_RUNNING, VSMR_GUEST_STOPPED,
                g ? g->ops->stop_for_sync : NULL);
}

int vsmr_guest_continue_after_sync(vsmr_guest *g)
{
    return step(g, "continue after sync", VSMR_GUEST_STOPPED,
                VSMR_GUEST_RUNNING, g ? g->ops->continue_after_sync : NULL);
}

int vsmr_guest_backup_prepare(vsmr_guest *g)
{
    if (!g)
        return vsmr_fail(VSMR_EINVAL, "backup prepare: no guest");
    if (g->sync_state == VSMR_GUEST_PREPARED ||
        g->sync_state == VSMR_GUEST_BEGUN)
        return VSMR_OK;
    if (g->sync_state != VSMR_GUEST_RUNNING)
        return out_of_order(g, "backup prepare");
    int rc = g->ops->backup_prepare(g);
    /* Even a failed prepare may have detached devices: count it as done,
     * so that cancel (or a complete copy) is what brings the guest back. */
    if (rc == VSMR_OK || g->ops->backup_cancel(g, false) != VSMR_OK) {
        g->paused = true;
        g->sync_state = VSMR_GUEST_PREPARED;
    }
    return rc;
}

int vsmr_guest_backup_begin(vsmr_guest *g)
{
    if (!g)
        return vsmr_fail(VSMR_EINVAL, "backup begin: no guest");
    if (g->sync_state == VSMR_GUEST_BEGUN)
        return VSMR_OK;
    if (g->sync_state != VSMR_GUEST_PREPARED)
        return out_of_order(g, "backup begin");
    int rc = g->ops->backup_begin(g);
    /* A partial reset is a reset: only a complete copy undoes it. */
    g->sync_state = VSMR_GUEST_BEGUN;
    return rc;
}

int vsmr_guest_backup_end(vsmr_guest *g, bool run)
{
    if (!g)
        return vsmr_fail(VSMR_EINVAL, "backup end: no guest");
    bool reconnect = g->sync_state == VSMR_GUEST_BEGUN;
    if (!reconnect && g->sync_state != VSMR_GUEST_RECONNECTED)
        return out_of_order(g, "backup end");
    if (!reconnect && !run)
        return VSMR_OK;
    int rc = g->ops->backup_end(g, reconnect, run);
    if (rc < 0)
        return rc;           /* stays where it was: the next copy retries */
    g->sync_state = run ? VSMR_GUEST_RUNNING : VSMR_GUEST_RECONNECTED;
    if (run)
        g->paused = false;
    return VSMR_OK;
}

int vsmr_guest_backup_cancel(vsmr_guest *g)
{
    if (!g)
        return vsmr_fail(VSMR_EINVAL, "backup cancel: no guest");
    if (g->sync_state == VSMR_GUEST_RUNNING)
        return VSMR_OK;
    if (g->sync_state == VSMR_GUEST_STOPPED)
        return out_of_order(g, "backup cancel");
    int rc = g->ops->backup_cancel(g, g->sync_state != VSMR_GUEST_PREPARED);
    if (rc == VSMR_OK) {
        g->paused = false;
        g->sync_state = VSMR_GUEST_RUNNING;
    }
    return rc;
}

int vsmr_guest_devices_connected(vsmr_guest *g, int timeout_ms,
                                 bool *connected)
{
    if (!g || !connected || timeout_ms < 0)
        return vsmr_fail(VSMR_EINVAL, "devices connected: missing argument "
                                      "or negative timeout");
    return g->ops->devices_connected(g, timeout_ms, connected);
}

int vsmr_guest_backup_figures(vsmr_guest *g,
                              struct vsmr_guest_backup_figures *f)
{
    if (!g || !f)
        return vsmr_fail(VSMR_EINVAL, "backup figures: missing argument");
    return g->ops->backup_figures(g, f);
}

int vsmr_guest_shared_pages(vsmr_guest *g, uint64_t *pfns, size_t cap,
                            size_t *n)
{
    if (!g || !n || (cap && !pfns))
        return vsmr_fail(VSMR_EINVAL, "shared pages: missing argument");
    int rc = g->ops->shared_pages(g, pfns, cap, n);
    if (rc == VSMR_OK && *n > cap)
        return vsmr_fail(VSMR_ERANGE, "shared pages: the %s guest has %zu, "
                         "room for %zu", g->ops->name, *n, cap);
    return rc;
}

int vsmr_guest_mappable(vsmr_guest *g, uint64_t *bitmap, size_t nwords)
{
    if (!g || !bitmap)
        return vsmr_fail(VSMR_EINVAL, "mappable: no guest or bitmap");
    if (nwords < (g->pages + 63) / 64)
        return vsmr_fail(VSMR_ERANGE, "mappable bitmap of %zu words is too "
                         "small for %llu pages", nwords,
                         (unsigned long long)g->pages);
    return g->ops->mappable(g, bitmap, nwords);
}
