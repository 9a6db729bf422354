/*
 * xen_vcpu.c - pause and unpause (the toolstack's pause count), vCPU idle
 * (every online vCPU blocked) and the HVM context blob (vCPU registers,
 * LAPIC, platform timers: Xen's HVM save records, opaque to the engine).
 */
#include <errno.h>
#include <stdlib.h>

#include "common/err.h"
#include "guest/xen/xen_guest.h"

int xen_pause(vsmr_guest *g)
{
    struct xen_guest *x = xen_of(g);
    if (xc_domain_pause(x->xch, x->domid) < 0) {
        xc_dominfo_t info;
        int rc = xen_domain_info(x, &info);
        if (rc < 0)
            return rc;
        return vsmr_fail_errno(VSMR_ESYS, "domain %u: pause failed",
                               x->domid);
    }
    return VSMR_OK;
}

int xen_unpause(vsmr_guest *g)
{
    struct xen_guest *x = xen_of(g);
    if (x->suspended)        /* closing a suspended guest: cancel it */
        return xen_resume(g, true);
    if (xc_domain_unpause(x->xch, x->domid) < 0) {
        xc_dominfo_t info;
        int rc = xen_domain_info(x, &info);
        if (rc < 0)
            return rc;
        return vsmr_fail_errno(VSMR_ESYS, "domain %u: unpause failed",
                               x->domid);
    }
    return VSMR_OK;
}

int xen_is_idle(vsmr_guest *g, bool *idle)
{
    struct xen_guest *x = xen_of(g);
    xc_dominfo_t info;
    int rc = xen_domain_info(x, &info);
    if (rc < 0)
        return rc;
    *idle = true;
    for (uint32_t v = 0; v <= info.max_vcpu_id; v++) {
        xc_vcpuinfo_t vi;
        if (xc_vcpu_getinfo(x->xch, x->domid, v, &vi) < 0) {
            if (errno == ESRCH)      /* no such vCPU: a hole in the ids */
                continue;
            return vsmr_fail_errno(VSMR_ESYS, "domain %u: cannot read "
                                   "vCPU %u", x->domid, v);
        }
        if (vi.online && (vi.running || !vi.blocked)) {
            *idle = false;
            break;
        }
    }
    return VSMR_OK;
}

int xen_context_get(vsmr_guest *g, void *buf, size_t cap, size_t *len)
{
    struct xen_guest *x = xen_of(g);
    int size = xc_domain_hvm_getcontext(x->xch, x->domid, NULL, 0);
    if (size <= 0)
        return vsmr_fail_errno(VSMR_ESYS, "domain %u: cannot size its HVM "
                               "context", x->domid);
    if (!buf) {
        *len = (size_t)size;
        return VSMR_OK;
    }
    if (cap < (size_t)size)
        return vsmr_fail(VSMR_ERANGE, "domain %u: HVM context needs %d "
                         "bytes, buffer has %zu", x->domid, size, cap);
    int got = xc_domain_hvm_getcontext(x->xch, x->domid, buf, (uint32_t)cap);
    if (got <= 0)
        return vsmr_fail_errno(VSMR_ESYS, "domain %u: cannot read its HVM "
                               "context", x->domid);
    *len = (size_t)got;
    return VSMR_OK;
}

int xen_context_set(vsmr_guest *g, const void *buf, size_t len)
{
    struct xen_guest *x = xen_of(g);
    if (len == 0 || len > UINT32_MAX)
        return vsmr_fail(VSMR_EINVAL, "domain %u: HVM context of %zu bytes",
                         x->domid, len);
    /* libxc takes a non-const buffer but only reads it. */
    if (xc_domain_hvm_setcontext(x->xch, x->domid, (uint8_t *)(uintptr_t)buf,
                                 (uint32_t)len) < 0)
        return vsmr_fail_errno(VSMR_EINVAL, "domain %u: Xen refused the HVM "
                               "context (%zu bytes; from another Xen "
                               "version or a different vCPU count?)",
                               x->domid, len);
    return VSMR_OK;
}
