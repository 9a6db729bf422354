/*
 * xen_vifmac.c - the MAC a domain has on one of its vifs, as dom0's vif
 * backend wrote it in xenstore (/local/domain/0/backend/vif/D/N/mac; the
 * guest cannot write there). The vif is vifD.N (Xen's name; "-emu" for an
 * HVM domain's emulated twin) or the backend's "vifname" (vifname= in the
 * domain's configuration). Reads only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/mac.h"
#include "guest/xen/xen_guest.h"

#define VIF_BACKEND "/local/domain/0/backend/vif"

/* "vif<domid>.<devid>" or with "-emu": 1 and the numbers, else 0. */
static int xen_vif_name(const char *vif, unsigned long *domid,
                        unsigned long *devid)
{
    const char *p = vif + 3;
    char *end;
    if (strncmp(vif, "vif", 3) != 0 || *p < '0' || *p > '9')
        return 0;
    *domid = strtoul(p, &end, 10);
    if (*end != '.' || end[1] < '0' || end[1] > '9')
        return 0;
    *devid = strtoul(end + 1, &end, 10);
    return (*end == '\0' || !strcmp(end, "-emu")) &&
           *domid < DOMID_FIRST_RESERVED && *devid < 65536;
}

int xen_vif_mac(vsmr_guest *g, const char *vif, uint8_t mac[6])
{
    struct xen_guest *x = xen_of(g);
    struct xs_handle *xs;
    int rc = xen_xs(x, &xs);
    if (rc < 0)
        return rc;
    unsigned long domid = 0, devid = 0;
    if (xen_vif_name(vif, &domid, &devid)) {
        if (domid != x->domid)
            return vsmr_fail(VSMR_EINVAL, "vif %s is domain %lu's, not the "
                             "guest's (domain %u)", vif, domid, x->domid);
    } else {
        char dir[64];
        snprintf(dir, sizeof dir, VIF_BACKEND "/%u", x->domid);
        rc = xen_xs_find(xs, dir, "vifname", vif, &devid);
        if (rc == VSMR_ENOENT)
            return vsmr_fail(VSMR_ENOENT, "domain %u has no vif called %s "
                             "(not vif%u.N, and none of its vifs has "
                             "vifname %s in xenstore)", x->domid, vif,
                             x->domid, vif);
        if (rc < 0)
            return rc;
    }
    char path[128];
    unsigned int len = 0;
    snprintf(path, sizeof path, VIF_BACKEND "/%u/%lu/mac", x->domid, devid);
    char *text = xs_read(xs, XBT_NULL, path, &len);
    if (!text)
        return vsmr_fail(VSMR_ENOENT, "domain %u has no vif %s: xenstore "
                         "has no %s", x->domid, vif, path);
    rc = vsmr_mac_parse(text, mac);
    free(text);
    if (rc < 0) {
        char msg[200];
        snprintf(msg, sizeof msg, "%s", vsmr_errmsg());
        return vsmr_fail(rc, "vif %s of domain %u: %s: %s", vif, x->domid,
                         path, msg);
    }
    return VSMR_OK;
}
