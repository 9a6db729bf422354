/*
 * xen_backup.c - a running backup domain around the copy that makes it
 * the primary's copy (docs/xen-device-state.md has each step's reason):
 * prepare = pause (undone by cancel); begin = devices detached,
 * shutdown(suspend), soft reset, vCPU reset; end = new event channels and xenstore connection
 * (xen_reconnect.c), then slow resume as a new domain and unpause.
 */
#include <errno.h>

#include "common/err.h"
#include "guest/xen/xen_guest.h"

#include <xen/hvm/params.h>
#include <xenguest.h>   /* after xenctrl.h: xc_domain_resume */

#define SHUTDOWN_TIMEOUT_MS 2000

int xen_backup_prepare(vsmr_guest *g)
{
    struct xen_guest *x = xen_of(g);
    if (!x->store_pfn) {
        uint64_t v = 0;
        if (xc_hvm_param_get(x->xch, x->domid, HVM_PARAM_STORE_PFN, &v) < 0
            || !v)
            return vsmr_fail_errno(VSMR_ESYS, "domain %u: cannot read its "
                                   "xenstore ring's frame", x->domid);
        x->store_pfn = v;     /* kept: resets do not move it */
    }
    if (!x->bk_paused) {
        int rc = xen_pause(g);
        if (rc < 0)
            return rc;
        x->bk_paused = true;
    }
    return VSMR_OK;
}

/* Soft reset needs every vCPU paused for shutdown. */
static int shut_down(struct xen_guest *x)
{
    if (xc_domain_shutdown(x->xch, x->domid, SHUTDOWN_suspend) < 0)
        return vsmr_fail_errno(VSMR_ESYS, "domain %u: shutdown(suspend) "
                               "failed", x->domid);
    for (double t0 = xen_now_ms(); xen_now_ms() - t0 < SHUTDOWN_TIMEOUT_MS;
         xen_sleep_ms(1)) {
        xc_dominfo_t info;
        int rc = xen_domain_info(x, &info);
        if (rc < 0)
            return rc;
        if (info.shutdown)
            return VSMR_OK;
    }
    return vsmr_fail(VSMR_ETIMEDOUT, "domain %u did not reach the shut-down "
                     "state within %d ms", x->domid, SHUTDOWN_TIMEOUT_MS);
}

/* Devices are detached here, not at prepare: until the copy is at hand
 * the backup must stay able to run on from its own state (cancel), and
 * nothing but the copy is written into it after this. */
int xen_backup_begin(vsmr_guest *g)
{
    struct xen_guest *x = xen_of(g);
    int rc = xen_devices_detach(x);
    if (rc == VSMR_OK)
        rc = shut_down(x);
    if (rc < 0)
        return rc;
    /* Closes its event channels, unmaps vcpu_info, resets grant state. */
    if (xc_domain_soft_reset(x->xch, x->domid) < 0)
        return vsmr_fail_errno(VSMR_ESYS, "domain %u: soft reset failed",
                               x->domid);
    xc_dominfo_t info;
    if ((rc = xen_domain_info(x, &info)) < 0)
        return rc;
    /* A NULL context resets the vCPU: it drops Xen's "blocked" state left
     * from the domain's own idle loop, which loading the HVM context would
     * not clear. */
    for (uint32_t v = 0; v <= info.max_vcpu_id; v++)
        if (xc_vcpu_setcontext(x->xch, x->domid, v, NULL) < 0)
            return vsmr_fail_errno(VSMR_ESYS, "domain %u: reset of vCPU %u "
                                   "failed", x->domid, v);
    return VSMR_OK;
}

int xen_backup_end(vsmr_guest *g, bool reconnect, bool run)
{
    struct xen_guest *x = xen_of(g);
    int rc;
    if (reconnect && (rc = xen_reconnect(x)) < 0)
        return rc;
    if (!run)
        return VSMR_OK;
    double t = xen_now_ms();
    /* Slow resume: the kernel sees "resumed in a new domain", re-registers
     * vcpu_info, re-reads its event channels and reconnects its devices. */
    if (xc_domain_resume(x->xch, x->domid, 0) < 0)
        return vsmr_fail_errno(VSMR_ESYS, "domain %u: slow resume failed",
                               x->domid);
    struct xs_handle *xs;
    if ((rc = xen_xs(x, &xs)) < 0)
        return rc;
    xs_resume_domain(xs, x->domid);
    if (x->bk_paused && (rc = xen_unpause(g)) < 0)
        return rc;
    x->bk_paused = false;
    x->detached = false;
    x->figures.ms_resume = xen_now_ms() - t;
    return VSMR_OK;
}

int xen_backup_cancel(vsmr_guest *g, bool begun)
{
    struct xen_guest *x = xen_of(g);
    if (begun || x->detached)
        return vsmr_fail(VSMR_ESTATE, "domain %u stays paused: its devices "
                         "are detached%s, so it can run again only after a "
                         "complete copy of the primary", x->domid,
                         begun ? " and its vCPUs reset" : "");
    if (x->bk_paused) {
        int rc = xen_unpause(g);
        if (rc < 0)
            return rc;
        x->bk_paused = false;
    }
    return VSMR_OK;
}

int xen_backup_figures(vsmr_guest *g, struct vsmr_guest_backup_figures *f)
{
    *f = xen_of(g)->figures;
    return VSMR_OK;
}
