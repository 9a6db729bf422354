/*
 * xen_open.c - opening a Xen domain by id or name: the checks that give a
 * clear error (no Xen here, no such domain, PV, dying or shut down), the
 * page count (max gpfn + 1), and closing (log-dirty off, handles closed).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "guest/xen/xen_guest.h"

#define PRIVCMD "/dev/xen/privcmd"

static const char *shutdown_reason_name(unsigned int r)
{
    switch (r) {
    case SHUTDOWN_poweroff: return "poweroff";
    case SHUTDOWN_reboot: return "reboot";
    case SHUTDOWN_suspend: return "suspend";
    case SHUTDOWN_crash: return "crash";
    case SHUTDOWN_watchdog: return "watchdog";
    case SHUTDOWN_soft_reset: return "soft_reset";
    default: return "unknown";
    }
}

int xen_xs(struct xen_guest *x, struct xs_handle **xs)
{
    if (!x->xs) {
        x->xs = xs_open(0);
        if (!x->xs)
            return vsmr_fail_errno(VSMR_ESYS, "cannot connect to xenstored "
                                   "(is xenstored running in dom0?)");
    }
    *xs = x->xs;
    return VSMR_OK;
}

int xen_domain_info(struct xen_guest *x, xc_dominfo_t *info)
{
    int n = xc_domain_getinfo(x->xch, x->domid, 1, info);
    if (n < 0 && errno == ESRCH)     /* no domain at or above this id */
        n = 0;
    if (n < 0)
        return vsmr_fail_errno(VSMR_ESYS, "domain %u: getinfo failed",
                               x->domid);
    if (n == 0 || info->domid != x->domid)
        return vsmr_fail(VSMR_ENOENT, "domain %u does not exist", x->domid);
    return VSMR_OK;
}

int xen_xs_find(struct xs_handle *xs, const char *dir, const char *node,
                const char *value, unsigned long *id)
{
    unsigned int n = 0;
    char **ids = xs_directory(xs, XBT_NULL, dir, &n);
    if (!ids && errno != ENOENT)
        return vsmr_fail_errno(VSMR_ESYS, "xenstore: cannot list %s", dir);
    if (!ids)
        return VSMR_ENOENT;
    int rc = VSMR_ENOENT;
    for (unsigned int i = 0; i < n && rc == VSMR_ENOENT; i++) {
        char path[192], *end;
        unsigned int len;
        snprintf(path, sizeof path, "%s/%.32s/%s", dir, ids[i], node);
        char *v = xs_read(xs, XBT_NULL, path, &len);
        unsigned long num = strtoul(ids[i], &end, 10);
        if (v && !strcmp(v, value) && end != ids[i] && *end == '\0') {
            *id = num;
            rc = VSMR_OK;
        }
        free(v);
    }
    free(ids);
    return rc;
}

/* Domain id of the domain called name, via /local/domain/N/name. */
static int lookup_name(struct xen_guest *x, const char *name, uint32_t *domid)
{
    struct xs_handle *xs;
    int rc = xen_xs(x, &xs);
    if (rc < 0)
        return rc;
    unsigned long id = 0;
    rc = xen_xs_find(xs, "/local/domain", "name", name, &id);
    if (rc == VSMR_ENOENT)
        return vsmr_fail(VSMR_ENOENT, "no domain is named '%s'", name);
    *domid = (uint32_t)id;
    return rc;
}

static int parse_spec(const char *spec, bool *numeric, uint32_t *domid)
{
    size_t len = strlen(spec);
    if (len == 0 || len > 64)
        return vsmr_fail(VSMR_EINVAL, "xen guest: '%s' is not a domain id "
                         "or name", spec);
    *numeric = true;
    for (size_t i = 0; i < len; i++)
        if (!isdigit((unsigned char)spec[i]))
            *numeric = false;
    if (*numeric) {
        unsigned long v = strtoul(spec, NULL, 10);
        if (v >= DOMID_FIRST_RESERVED)
            return vsmr_fail(VSMR_EINVAL, "xen guest: %s is not a valid "
                             "domain id", spec);
        *domid = (uint32_t)v;
    }
    return VSMR_OK;
}

/* The states a protected domain may not be in, each with its cause. */
static int check_state(const xc_dominfo_t *info)
{
    uint32_t d = info->domid;
    if (d == 0)
        return vsmr_fail(VSMR_EINVAL, "domain 0 is dom0; only domUs can "
                                      "be protected");
    if (info->dying)
        return vsmr_fail(VSMR_ESTATE, "domain %u is dying", d);
    if (info->crashed)
        return vsmr_fail(VSMR_ESTATE, "domain %u has crashed", d);
    if (info->shutdown)
        return vsmr_fail(VSMR_ESTATE, "domain %u has shut down (reason: "
                         "%s); it must be running", d,
                         shutdown_reason_name(info->shutdown_reason));
    if (!info->hvm)
        return vsmr_fail(VSMR_ENOTSUP, "domain %u is PV: PV log-dirty needs "
                         "a hypervisor built with shadow paging, and PV page "
                         "tables hold machine frames; only PVH and HVM "
                         "domains are supported so far (see "
                         "xen-patches/shadow-paging/README.md)", d);
    return VSMR_OK;
}

static void close_handles(struct xen_guest *x)
{
    if (x->bitmap_pages)
        xc__hypercall_buffer_free_pages(x->xch, &x->bitmap, x->bitmap_pages);
    if (x->xs)
        xs_close(x->xs);
    free(x->mappable);
    if (x->fmem)
        xenforeignmemory_close(x->fmem);
    if (x->xch)
        xc_interface_close(x->xch);
    if (x->logger)
        xtl_logger_destroy(x->logger);
    free(x);
}

int xen_open(const char *spec, vsmr_guest **out)
{
    bool numeric;
    uint32_t domid = 0;
    int rc = parse_spec(spec, &numeric, &domid);
    if (rc < 0)
        return rc;
    if (access(PRIVCMD, F_OK) != 0)
        return vsmr_fail(VSMR_ENOTSUP, "xen guest '%s': this host is not "
                         "running Xen (no %s)", spec, PRIVCMD);

    struct xen_guest *x = calloc(1, sizeof *x);
    if (!x)
        return vsmr_fail(VSMR_ENOMEM, "xen guest: out of memory");
    x->bitmap.ubuf = (void *)-1;
    /* libxc logs to stderr; keep it to real errors unless asked. */
    xentoollog_level lvl = getenv("VSMR_XEN_DEBUG") ? XTL_DEBUG : XTL_CRITICAL;
    x->logger = (xentoollog_logger *)xtl_createlogger_stdiostream(stderr,
                                                                  lvl, 0);
    x->xch = xc_interface_open(x->logger, x->logger, 0);
    if (!x->xch) {
        rc = vsmr_fail_errno(errno == EACCES || errno == EPERM ? VSMR_ESYS
                             : VSMR_ENOTSUP, "xen guest '%s': cannot open "
                             "the hypervisor interface (is this dom0 and are "
                             "you root? is Xen running?)", spec);
        close_handles(x);
        return rc;
    }
    if (!numeric) {
        rc = lookup_name(x, spec, &domid);
        if (rc < 0) {
            close_handles(x);
            return rc;
        }
    }
    x->domid = domid;

    xc_dominfo_t info;
    if ((rc = xen_domain_info(x, &info)) < 0 || (rc = check_state(&info)) < 0) {
        close_handles(x);
        return rc;
    }
    xen_pfn_t max_gpfn = 0;
    if (xc_domain_maximum_gpfn(x->xch, domid, &max_gpfn) < 0) {
        rc = vsmr_fail_errno(VSMR_ESYS, "domain %u: cannot read its highest "
                             "guest frame", domid);
        close_handles(x);
        return rc;
    }
    x->fmem = xenforeignmemory_open(x->logger, 0);
    if (!x->fmem) {
        rc = vsmr_fail_errno(VSMR_ESYS, "domain %u: cannot open foreign "
                             "memory mapping", domid);
        close_handles(x);
        return rc;
    }
    x->base.pages = (uint64_t)max_gpfn + 1;
    *out = &x->base;
    return VSMR_OK;
}

void xen_close(vsmr_guest *g)
{
    struct xen_guest *x = xen_of(g);
    if (g->logdirty)
        xen_logdirty_release(x);
    close_handles(x);
}
