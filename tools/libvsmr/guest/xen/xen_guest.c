/*
 * xen_guest.c - the Xen guest backend (libxenctrl, libxenforeignmemory).
 *
 * Placeholder until the Xen backend lands (issue 7): opening a Xen guest
 * fails with a clear VSMR_ENOTSUP rather than pretending to work.
 */
#include "common/err.h"
#include "guest/guest_impl.h"

static int xen_open(const char *spec, vsmr_guest **out)
{
    (void)out;
    return vsmr_fail(VSMR_ENOTSUP, "xen guest '%s': the Xen backend is "
                                   "not implemented yet", spec);
}

const struct vsmr_guest_ops vsmr_guest_xen_ops = {
    .name = "xen",
    .open = xen_open,
};
