/*
 * xen_logdirty.c - log-dirty mode through HAP (PVH/HVM): enable, disable,
 * and fetch-and-clear of the dirty bitmap with one CLEAN operation, which
 * copies Xen's bitmap out and clears it atomically with respect to the guest.
 */
#include <errno.h>
#include <string.h>

#include "common/err.h"
#include "guest/xen/xen_guest.h"

int xen_logdirty(vsmr_guest *g, bool enable)
{
    struct xen_guest *x = xen_of(g);
    if (!enable) {
        if (xc_shadow_control(x->xch, x->domid, XEN_DOMCTL_SHADOW_OP_OFF,
                              NULL, 0) < 0)
            return vsmr_fail_errno(VSMR_ESYS, "domain %u: cannot turn "
                                   "log-dirty mode off", x->domid);
        return VSMR_OK;
    }
    if (g->logdirty)
        return VSMR_OK;
    if (xc_shadow_control(x->xch, x->domid,
                          XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY, NULL, 0) < 0) {
        if (errno == EOPNOTSUPP)
            return vsmr_fail(VSMR_ENOTSUP, "domain %u: this hypervisor "
                             "cannot track dirty pages for it (PV without "
                             "shadow paging?)", x->domid);
        if (errno == EINVAL || errno == EBUSY)
            return vsmr_fail(VSMR_ESTATE, "domain %u: log-dirty mode is "
                             "already on (is xl migrate, xl save or xl remus "
                             "running on it?)", x->domid);
        return vsmr_fail_errno(VSMR_ESYS, "domain %u: cannot enable "
                               "log-dirty mode", x->domid);
    }
    /* The contract: enabling starts from an empty bitmap. */
    if (xc_logdirty_control(x->xch, x->domid, XEN_DOMCTL_SHADOW_OP_CLEAN,
                            NULL, g->pages, 0, NULL) < 0) {
        int rc = vsmr_fail_errno(VSMR_ESYS, "domain %u: cannot clear the "
                                 "dirty bitmap", x->domid);
        xc_shadow_control(x->xch, x->domid, XEN_DOMCTL_SHADOW_OP_OFF, NULL, 0);
        return rc;
    }
    return VSMR_OK;
}

void xen_logdirty_release(struct xen_guest *x)
{
    xc_shadow_control(x->xch, x->domid, XEN_DOMCTL_SHADOW_OP_OFF, NULL, 0);
}

int xen_dirty_fetch_clear(vsmr_guest *g, uint64_t *bitmap, size_t nwords)
{
    struct xen_guest *x = xen_of(g);
    size_t words = (g->pages + 63) / 64;
    size_t bytes = words * sizeof(uint64_t);
    int need = (int)((bytes + XC_PAGE_SIZE - 1) / XC_PAGE_SIZE);
    if (x->bitmap_pages < need) {
        if (x->bitmap_pages)
            xc__hypercall_buffer_free_pages(x->xch, &x->bitmap,
                                            x->bitmap_pages);
        x->bitmap_pages = 0;
        if (!xc__hypercall_buffer_alloc_pages(x->xch, &x->bitmap, need))
            return vsmr_fail_errno(VSMR_ENOMEM, "domain %u: cannot allocate "
                                   "a %d-page dirty bitmap", x->domid, need);
        x->bitmap_pages = need;
    }
    memset(x->bitmap.hbuf, 0, bytes);
    xc_shadow_op_stats_t st;
    if (xc_logdirty_control(x->xch, x->domid, XEN_DOMCTL_SHADOW_OP_CLEAN,
                            &x->bitmap, g->pages, 0, &st) < 0) {
        if (errno == EINVAL)
            return vsmr_fail(VSMR_ESTATE, "domain %u: log-dirty mode is off "
                             "(turned off by another tool?)", x->domid);
        return vsmr_fail_errno(VSMR_ESYS, "domain %u: cannot fetch the "
                               "dirty bitmap", x->domid);
    }
    /* Xen's bitmap is little-endian unsigned longs: on x86-64 that is bit
     * p of 64-bit word p/64 already. Bits past the last page stay 0. */
    memcpy(bitmap, x->bitmap.hbuf, bytes);
    if (nwords > words)
        memset(bitmap + words, 0, (nwords - words) * sizeof(uint64_t));
    if (g->pages % 64)
        bitmap[words - 1] &= (UINT64_C(1) << (g->pages % 64)) - 1;
    return VSMR_OK;
}
