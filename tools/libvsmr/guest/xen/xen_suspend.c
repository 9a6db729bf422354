/*
 * xen_suspend.c - cooperative suspend (the guest's own handshake through
 * xenstore control/shutdown = "suspend") and resume: fast = suspend-cancel,
 * the guest carries on with its devices connected; slow = the guest believes
 * it woke up in a new domain and reconnects its frontends.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "guest/xen/xen_guest.h"

#include <xenguest.h>   /* after xenctrl.h: xc_domain_resume */

/* Generous: an emulated guest on a loaded host took 7.4 s to take the
 * request in the lab. */
#define ACK_TIMEOUT_MS     30000   /* guest reads and clears the request */
#define SUSPEND_TIMEOUT_MS 30000   /* guest reaches "shut down: suspend" */

/* True once the guest has taken the request (node empty or gone). */
static bool request_taken(struct xs_handle *xs, const char *path)
{
    unsigned int len = 0;
    char *v = xs_read(xs, XBT_NULL, path, &len);
    bool taken = !v || len == 0;
    free(v);
    return taken;
}

/*
 * Resume a suspended domain — in place (fast: suspend-cancel) or as a new
 * domain — and tell xenstored. C xenstored marks a domain shut down once
 * and fires @releaseDomain only on that change; until XS_RESUME clears the
 * mark, the domain's later shutdowns go unannounced and libxl (xl save,
 * xl shutdown -w) waits for them in vain.
 */
static int resume_domain(struct xen_guest *x, bool fast)
{
    if (xc_domain_resume(x->xch, x->domid, fast ? 1 : 0) < 0)
        return -1;
    struct xs_handle *xs;
    if (xen_xs(x, &xs) == VSMR_OK)
        xs_resume_domain(xs, x->domid);
    return 0;
}

/* The guest may have read the request just before it was withdrawn: if it
 * suspends anyway within a grace period, resume it in place. */
static void cancel_late_suspend(struct xen_guest *x)
{
    for (double t0 = xen_now_ms(); xen_now_ms() - t0 < 2000; xen_sleep_ms(10)) {
        xc_dominfo_t info;
        if (xen_domain_info(x, &info) < 0)
            return;
        if (info.shutdown && info.shutdown_reason == SHUTDOWN_suspend) {
            resume_domain(x, true);
            return;
        }
    }
}

int xen_suspend(vsmr_guest *g)
{
    struct xen_guest *x = xen_of(g);
    if (g->paused)
        return vsmr_fail(VSMR_ESTATE, "domain %u is paused; a cooperative "
                         "suspend needs it running", x->domid);
    struct xs_handle *xs;
    int rc = xen_xs(x, &xs);
    if (rc < 0)
        return rc;
    char path[64];
    snprintf(path, sizeof path, "/local/domain/%u/control/shutdown",
             x->domid);
    if (!xs_write(xs, XBT_NULL, path, "suspend", strlen("suspend")))
        return vsmr_fail_errno(VSMR_ESYS, "domain %u: cannot write %s",
                               x->domid, path);
    double t0 = xen_now_ms();
    int pause = 1;    /* the guest's own xenstore work is what we wait for */
    for (unsigned n = 0; !request_taken(xs, path); n++) {
        /* A guest that crashed never takes it: say so now, not in 30 s. */
        xc_dominfo_t info;
        if (n % 16 == 0 && (rc = xen_domain_info(x, &info)) == VSMR_OK &&
            (info.crashed || info.dying ||
             (info.shutdown && info.shutdown_reason != SHUTDOWN_suspend))) {
            xs_write(xs, XBT_NULL, path, "", 0);
            return vsmr_fail(VSMR_ESTATE, "domain %u %s (reason %u) before "
                             "taking the suspend request", x->domid,
                             info.crashed ? "crashed" : "shut down",
                             info.shutdown_reason);
        }
        if (xen_now_ms() - t0 > ACK_TIMEOUT_MS) {
            xs_write(xs, XBT_NULL, path, "", 0);
            cancel_late_suspend(x);
            return vsmr_fail(VSMR_ETIMEDOUT, "domain %u did not take the "
                             "suspend request within %d ms (no PV control "
                             "driver?); it was left running", x->domid,
                             ACK_TIMEOUT_MS);
        }
        xen_poll_wait(&pause, t0 + ACK_TIMEOUT_MS + 1);
    }
    for (;;) {
        xc_dominfo_t info;
        if ((rc = xen_domain_info(x, &info)) < 0)
            return rc;
        if (info.shutdown && info.shutdown_reason == SHUTDOWN_suspend)
            break;
        if (info.shutdown || info.dying || info.crashed)
            return vsmr_fail(VSMR_ESTATE, "domain %u shut down (reason %u) "
                             "instead of suspending", x->domid,
                             info.shutdown_reason);
        if (xen_now_ms() - t0 > SUSPEND_TIMEOUT_MS)
            return vsmr_fail(VSMR_ETIMEDOUT, "domain %u took the suspend "
                             "request but did not suspend within %d ms",
                             x->domid, SUSPEND_TIMEOUT_MS);
        xen_sleep_ms(1);     /* a hypercall, not xenstore */
    }
    /* Hold a pause reference so that a resume cannot let it run before the
     * caller says so; xen_resume drops it. */
    if (xc_domain_pause(x->xch, x->domid) < 0) {
        rc = vsmr_fail_errno(VSMR_ESYS, "domain %u: pause after suspend "
                             "failed; resuming it", x->domid);
        resume_domain(x, true);
        return rc;
    }
    x->suspended = true;
    return VSMR_OK;
}

int xen_resume(vsmr_guest *g, bool fast)
{
    struct xen_guest *x = xen_of(g);
    xc_dominfo_t info;
    int rc = xen_domain_info(x, &info);
    if (rc < 0)
        return rc;
    if (!(info.shutdown && info.shutdown_reason == SHUTDOWN_suspend))
        return vsmr_fail(VSMR_ESTATE, "domain %u is not suspended", x->domid);
    if (resume_domain(x, fast) < 0)
        return vsmr_fail_errno(VSMR_ESYS, "domain %u: %s resume failed",
                               x->domid, fast ? "fast" : "slow");
    if (x->suspended || g->paused) {
        x->suspended = false;
        if (xc_domain_unpause(x->xch, x->domid) < 0)
            return vsmr_fail_errno(VSMR_ESYS, "domain %u: resumed but the "
                                   "unpause failed", x->domid);
    }
    return VSMR_OK;
}

/* The primary's stop for a sync: a cooperative suspend quiesces its
 * frontends (in-flight requests done) so its memory holds everything; the
 * fast resume lets it carry on with its devices connected. */
int xen_stop_for_sync(vsmr_guest *g)
{
    return xen_suspend(g);
}

int xen_continue_after_sync(vsmr_guest *g)
{
    return xen_resume(g, true);
}
