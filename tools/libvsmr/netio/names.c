/*
 * names.c - the names of the devices netio puts next to a vif: derived
 * from the vif's name alone, so teardown finds them after the vif is gone.
 * Pure string work; no system calls.
 */
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "netio/netio_internal.h"

/* Linux accepts any bytes but '/', ':', whitespace and NUL, up to 15. */
int netio_valid_ifname(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n >= VSMR_NETIO_IFNAMSIZ || !strcmp(name, ".") ||
        !strcmp(name, ".."))
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c <= ' ' || c == '/' || c == ':' || c >= 0x7f)
            return 0;
    }
    return 1;
}

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static void derive(const char *prefix, const char *vif, char *out)
{
    /* "vsi-" + vif fits when vif has at most 11 characters ("vif123.4"
     * always does); longer names are hashed. */
    size_t p = strlen(prefix), v = strlen(vif);
    memcpy(out, prefix, p);
    if (p + v < VSMR_NETIO_IFNAMSIZ)
        memcpy(out + p, vif, v + 1);
    else
        snprintf(out + p, VSMR_NETIO_IFNAMSIZ - p, "%08x", fnv1a(vif));
}

int vsmr_netio_names(const char *vif, struct vsmr_netio_names *out)
{
    if (!out)
        return vsmr_fail(VSMR_EINVAL, "no place for the names");
    if (!netio_valid_ifname(vif))
        return vsmr_fail(VSMR_EINVAL, "\"%s\" is not a network interface "
                         "name (1-15 characters, no '/', ':' or spaces)",
                         vif ? vif : "(null)");
    memset(out, 0, sizeof *out);
    snprintf(out->vif, sizeof out->vif, "%s", vif);
    derive("vsi-", vif, out->in_dev);
    derive("vso-", vif, out->out_dev);
    return VSMR_OK;
}

void netio_alias(char *buf, size_t len, const char *role, const char *vif)
{
    snprintf(buf, len, "vsmr-netio %s %s", role, vif);
}
