/*
 * xen_devices.c - a domain's PV devices as xenstore lists them (each
 * /local/domain/D/device/<class>/<n> with a backend path): detaching them
 * (frontend to Initialising, backend back to InitWait) and waiting for
 * them to be Connected again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "guest/xen/xen_guest.h"

#define XS_INITIALISING "1"
#define XS_INITWAIT     "2"
#define XS_CONNECTED    "4"
#define DETACH_TIMEOUT_MS 15000

typedef int (*device_fn)(struct xen_guest *x, struct xs_handle *xs,
                         const char *fe, const char *be, void *ctx);

/* Calls fn for each device that has a backend; stops at an error. */
static int each_device(struct xen_guest *x, device_fn fn, void *ctx)
{
    struct xs_handle *xs;
    int rc = xen_xs(x, &xs);
    if (rc < 0)
        return rc;
    char dp[64];
    unsigned int nc = 0;
    snprintf(dp, sizeof dp, "/local/domain/%u/device", x->domid);
    char **cls = xs_directory(xs, XBT_NULL, dp, &nc);
    for (unsigned int i = 0; cls && i < nc && rc == VSMR_OK; i++) {
        char cp[128];
        unsigned int nd = 0;
        snprintf(cp, sizeof cp, "%s/%s", dp, cls[i]);
        char **devs = xs_directory(xs, XBT_NULL, cp, &nd);
        for (unsigned int j = 0; devs && j < nd && rc == VSMR_OK; j++) {
            char fe[256], bp[300];
            unsigned int len;
            snprintf(fe, sizeof fe, "%s/%s", cp, devs[j]);
            snprintf(bp, sizeof bp, "%s/backend", fe);
            char *be = xs_read(xs, XBT_NULL, bp, &len);
            if (be)
                rc = fn(x, xs, fe, be, ctx);
            free(be);
        }
        free(devs);
    }
    free(cls);
    return rc;
}

/* Waits until the backend's state is want, for timeout_ms of real time
 * (a read of xenstore takes milliseconds in a loaded dom0, so counting
 * reads is no clock: a single-vCPU dom0 took 84 s to give up on a
 * 15,000-read wait); VSMR_ETIMEDOUT naming it. */
static int wait_state(struct xen_guest *x, struct xs_handle *xs,
                      const char *be, const char *want, int timeout_ms)
{
    char sp[300];
    snprintf(sp, sizeof sp, "%s/state", be);
    char *st = NULL;
    double deadline = xen_now_ms() + timeout_ms;
    for (int pause = 1;; xen_poll_wait(&pause, deadline)) {
        unsigned int len;
        free(st);
        st = xs_read(xs, XBT_NULL, sp, &len);
        if (st && strcmp(st, want) == 0) {
            free(st);
            return VSMR_OK;
        }
        if (xen_now_ms() >= deadline)
            break;
    }
    int rc = vsmr_fail(VSMR_ETIMEDOUT, "domain %u: backend %s stays in "
                       "state %s (waited %d ms for %s)", x->domid, be,
                       st ? st : "?", timeout_ms, want);
    free(st);
    return rc;
}

/* The backend then unmaps the frontend's rings and buffers, so it can no
 * longer write into pages a copy is about to replace (and the unmap marks
 * them dirty); the kernel connects fresh rings when it resumes. */
static int detach_one(struct xen_guest *x, struct xs_handle *xs,
                      const char *fe, const char *be, void *ctx)
{
    char fp[300];
    snprintf(fp, sizeof fp, "%s/state", fe);
    if (!xs_write(xs, XBT_NULL, fp, XS_INITIALISING, 1))
        return vsmr_fail_errno(VSMR_ESYS, "domain %u: cannot write %s",
                               x->domid, fp);
    x->detached = true;
    return wait_state(x, xs, be, XS_INITWAIT, DETACH_TIMEOUT_MS);
}

int xen_devices_detach(struct xen_guest *x)
{
    return each_device(x, detach_one, NULL);
}

static int connected_one(struct xen_guest *x, struct xs_handle *xs,
                         const char *fe, const char *be, void *ctx)
{
    int *timeout_ms = ctx;
    return wait_state(x, xs, be, XS_CONNECTED, *timeout_ms);
}

int xen_devices_connected(vsmr_guest *g, int timeout_ms, bool *up)
{
    int rc = each_device(xen_of(g), connected_one, &timeout_ms);
    *up = rc == VSMR_OK;
    return rc == VSMR_ETIMEDOUT ? VSMR_OK : rc;
}
