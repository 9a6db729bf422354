/*
 * sim_placeholder.c - stands in for the sim backend on the `xen` branch so
 * the library links; the real one comes from main. DELETE this file when
 * merging the sim backend (a duplicate-symbol link error says so loudly).
 */
#include "common/err.h"
#include "guest/guest_impl.h"

static int sim_open(const char *spec, vsmr_guest **out)
{
    (void)out;
    return vsmr_fail(VSMR_ENOTSUP, "sim guest '%s': the sim backend is not "
                                   "on this branch", spec);
}

const struct vsmr_guest_ops vsmr_guest_sim_ops = {
    .name = "sim",
    .open = sim_open,
};
