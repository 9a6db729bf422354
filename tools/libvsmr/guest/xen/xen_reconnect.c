/*
 * xen_reconnect.c - a backup domain's toolstack connections, made anew
 * after its soft reset: event channels for xenstore and the console
 * (whatever numbers Xen gives, published in its HVM params, which the
 * kernel reads again on resume) and a fresh xenstore connection (release +
 * introduce drops its previous kernel's watches, which the copied kernel
 * would register again and fail on), with its nodes and permissions kept.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "guest/xen/xen_guest.h"

#include <xen/hvm/params.h>

#define FULL_WALK_EVERY 100

static int new_channels(struct xen_guest *x, int *store, int *console)
{
    *store = xc_evtchn_alloc_unbound(x->xch, x->domid, 0);
    *console = xc_evtchn_alloc_unbound(x->xch, x->domid, 0);
    if (*store < 0 || *console < 0)
        return vsmr_fail_errno(VSMR_ESYS, "domain %u: cannot allocate its "
                               "toolstack event channels", x->domid);
    if (xc_hvm_param_set(x->xch, x->domid, HVM_PARAM_STORE_EVTCHN,
                         (uint64_t)*store) < 0 ||
        xc_hvm_param_set(x->xch, x->domid, HVM_PARAM_CONSOLE_EVTCHN,
                         (uint64_t)*console) < 0)
        return vsmr_fail_errno(VSMR_ESYS, "domain %u: cannot set its event "
                               "channel params", x->domid);
    return VSMR_OK;
}

static int write_port(struct xen_guest *x, struct xs_handle *xs,
                      const char *node, int port)
{
    char p[96], v[16];
    snprintf(p, sizeof p, "/local/domain/%u/%s", x->domid, node);
    snprintf(v, sizeof v, "%d", port);
    if (!xs_write(xs, XBT_NULL, p, v, strlen(v)))
        return vsmr_fail_errno(VSMR_ESYS, "domain %u: cannot write %s",
                               x->domid, p);
    return VSMR_OK;
}

double xen_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Milliseconds since *t, and *t moved to now. */
static double lap(double *t)
{
    double now = xen_now_ms(), d = now - *t;
    *t = now;
    return d;
}

int xen_reconnect(struct xen_guest *x)
{
    struct vsmr_guest_backup_figures f = {.store_port = -1,
                                          .console_port = -1};
    double t = xen_now_ms();
    struct xs_handle *xs;
    int rc = xen_xs(x, &xs);
    if (rc < 0 || (rc = new_channels(x, &f.store_port, &f.console_port)) < 0)
        return rc;
    f.ms_channels = lap(&t);
    /* Releasing deletes the nodes it owns and strips it from every other
     * node's permissions (oxenstored 4.17): remember them first. */
    struct xen_acl_snapshot *snap;
    /* Now and then the whole tree again: nodes may have been added
     * where the pruned walk does not look. */
    if (x->acl_walks++ % FULL_WALK_EVERY == 0)
        x->acl_prune = false;
    if ((rc = xen_acl_snapshot(xs, x->domid, &x->acl_prune, &snap,
                               &f.nodes_walked)) < 0)
        return rc;
    f.ms_walk = lap(&t);
    /* A failed release leaves the old connection; introduce then fails
     * and says so. */
    xs_release_domain(xs, x->domid);
    if (!xs_introduce_domain(xs, x->domid, x->store_pfn,
                             (unsigned int)f.store_port)) {
        rc = vsmr_fail_errno(VSMR_ESYS, "domain %u: xenstore introduce "
                             "failed (store frame 0x%llx, port %d)", x->domid,
                             (unsigned long long)x->store_pfn, f.store_port);
        xen_acl_free(snap);
        return rc;
    }
    f.ms_reintroduce = lap(&t);
    xen_acl_restore(xs, snap, &f);
    xen_acl_free(snap);
    if ((rc = write_port(x, xs, "store/port", f.store_port)) == VSMR_OK)
        rc = write_port(x, xs, "console/port", f.console_port); /* xenconsoled rebinds */
    f.ms_restore = lap(&t);
    x->figures = f;
    return rc;
}
