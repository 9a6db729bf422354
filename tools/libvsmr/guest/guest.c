/*
 * guest.c - the guest interface: backend lookup, argument and state checks,
 * then a call into the backend's operation table.
 */
#include <string.h>

#include "common/err.h"
#include "guest/guest_impl.h"

static const struct vsmr_guest_ops *const backends[] = {
    &vsmr_guest_sim_ops,
    &vsmr_guest_xen_ops,
};

int vsmr_guest_open(const char *backend, const char *spec, vsmr_guest **out)
{
    if (!backend || !spec || !out)
        return vsmr_fail(VSMR_EINVAL, "guest open: backend, spec and out "
                                      "are required");
    *out = NULL;
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++) {
        if (strcmp(backends[i]->name, backend) != 0)
            continue;
        vsmr_guest *g = NULL;
        int rc = backends[i]->open(spec, &g);
        if (rc < 0)
            return rc;
        g->ops = backends[i];
        if (g->pages == 0) {
            backends[i]->close(g);
            return vsmr_fail(VSMR_EINVAL, "%s guest '%s' has no memory",
                             backend, spec);
        }
        *out = g;
        return VSMR_OK;
    }
    return vsmr_fail(VSMR_ENOENT, "no guest backend named '%s' "
                                  "(known: sim, xen)", backend);
}

void vsmr_guest_close(vsmr_guest *g)
{
    if (!g)
        return;
    /* A backup in the middle of a copy runs again only if the backend can
     * bring it back from its own state; otherwise it stays stopped. */
    if (g->sync_state >= VSMR_GUEST_PREPARED)
        g->ops->backup_cancel(g, g->sync_state != VSMR_GUEST_PREPARED);
    else if (g->sync_state == VSMR_GUEST_STOPPED)
        g->ops->continue_after_sync(g);
    else if (g->paused)
        g->ops->unpause(g);
    g->ops->close(g);
}

const char *vsmr_guest_backend(const vsmr_guest *g)
{
    return g ? g->ops->name : "none";
}

uint64_t vsmr_guest_page_count(const vsmr_guest *g)
{
    return g ? g->pages : 0;
}

int vsmr_guest_pause(vsmr_guest *g)
{
    if (!g)
        return vsmr_fail(VSMR_EINVAL, "pause: no guest");
    if (g->paused)
        return VSMR_OK;
    int rc = g->ops->pause(g);
    if (rc == VSMR_OK)
        g->paused = true;
    return rc;
}

int vsmr_guest_unpause(vsmr_guest *g)
{
    if (!g)
        return vsmr_fail(VSMR_EINVAL, "unpause: no guest");
    if (!g->paused)
        return VSMR_OK;
    int rc = g->ops->unpause(g);
    if (rc == VSMR_OK)
        g->paused = false;
    return rc;
}

int vsmr_guest_is_paused(vsmr_guest *g, bool *paused)
{
    if (!g || !paused)
        return vsmr_fail(VSMR_EINVAL, "is_paused: no guest or result");
    *paused = g->paused;
    return VSMR_OK;
}

int vsmr_guest_is_idle(vsmr_guest *g, bool *idle)
{
    if (!g || !idle)
        return vsmr_fail(VSMR_EINVAL, "is_idle: no guest or result");
    return g->ops->is_idle(g, idle);
}

int vsmr_guest_logdirty(vsmr_guest *g, bool enable)
{
    if (!g)
        return vsmr_fail(VSMR_EINVAL, "logdirty: no guest");
    int rc = g->ops->logdirty(g, enable);
    if (rc == VSMR_OK)
        g->logdirty = enable;
    return rc;
}

int vsmr_guest_dirty_fetch_clear(vsmr_guest *g, uint64_t *bitmap,
                                 size_t nwords)
{
    if (!g || !bitmap)
        return vsmr_fail(VSMR_EINVAL, "dirty bitmap: no guest or bitmap");
    if (!g->logdirty)
        return vsmr_fail(VSMR_ESTATE, "dirty bitmap: log-dirty mode is "
                                      "not enabled on this %s guest",
                         g->ops->name);
    if (nwords < (g->pages + 63) / 64)
        return vsmr_fail(VSMR_ERANGE, "dirty bitmap of %zu words is too "
                         "small for %llu pages", nwords,
                         (unsigned long long)g->pages);
    return g->ops->dirty_fetch_clear(g, bitmap, nwords);
}

int vsmr_guest_map(vsmr_guest *g, const uint64_t *pfns, size_t n, int prot,
                   void **pages, void **cookie)
{
    if (!g || !pages || !cookie || (n && !pfns))
        return vsmr_fail(VSMR_EINVAL, "map: missing argument");
    if (!(prot & (VSMR_MAP_READ | VSMR_MAP_WRITE)) ||
        (prot & ~(VSMR_MAP_READ | VSMR_MAP_WRITE)))
        return vsmr_fail(VSMR_EINVAL, "map: bad protection %d", prot);
    for (size_t i = 0; i < n; i++)
        if (pfns[i] >= g->pages)
            return vsmr_fail(VSMR_ERANGE, "map: page %llu is past the end "
                             "of the guest (%llu pages)",
                             (unsigned long long)pfns[i],
                             (unsigned long long)g->pages);
    *cookie = NULL;
    if (n == 0)
        return VSMR_OK;
    return g->ops->map(g, pfns, n, prot, pages, cookie);
}

int vsmr_guest_unmap(vsmr_guest *g, void *cookie, void **pages, size_t n)
{
    if (!g)
        return vsmr_fail(VSMR_EINVAL, "unmap: no guest");
    if (n == 0)
        return VSMR_OK;
    return g->ops->unmap(g, cookie, pages, n);
}

int vsmr_guest_context_get(vsmr_guest *g, void *buf, size_t cap, size_t *len)
{
    if (!g || !len)
        return vsmr_fail(VSMR_EINVAL, "context get: missing argument");
    if (buf && !g->paused)
        return vsmr_fail(VSMR_ESTATE, "context get: the guest must be "
                                      "paused");
    return g->ops->context_get(g, buf, cap, len);
}

int vsmr_guest_context_set(vsmr_guest *g, const void *buf, size_t len)
{
    if (!g || (!buf && len))
        return vsmr_fail(VSMR_EINVAL, "context set: missing argument");
    if (!g->paused)
        return vsmr_fail(VSMR_ESTATE, "context set: the guest must be "
                                      "paused");
    return g->ops->context_set(g, buf, len);
}

int vsmr_guest_suspend(vsmr_guest *g)
{
    if (!g)
        return vsmr_fail(VSMR_EINVAL, "suspend: no guest");
    int rc = g->ops->suspend(g);
    if (rc == VSMR_OK)
        g->paused = true;
    return rc;
}

int vsmr_guest_resume(vsmr_guest *g, bool fast)
{
    if (!g)
        return vsmr_fail(VSMR_EINVAL, "resume: no guest");
    int rc = g->ops->resume(g, fast);
    if (rc == VSMR_OK)
        g->paused = false;
    return rc;
}

int vsmr_guest_vif_mac(vsmr_guest *g, const char *vif, uint8_t mac[6])
{
    if (!g || !vif || !*vif || !mac)
        return vsmr_fail(VSMR_EINVAL, "vif mac: no guest, vif or result");
    if (!g->ops->vif_mac)
        return vsmr_fail(VSMR_ENOTSUP, "a %s guest has no network devices "
                         "(no vif %s)", g->ops->name, vif);
    return g->ops->vif_mac(g, vif, mac);
}
