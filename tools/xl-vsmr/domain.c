/*
 * domain.c - the domain to protect: the checks of the xen guest backend
 * (no Xen here, no such domain, PV, shut down; vsmr/guest.h), then libxl
 * for its id, name, UUID and memory. And the safety net of every error
 * path: leave the domain running and unpaused. Nothing here pauses it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxl.h>
#include <libxl_utils.h>
#include <xentoollog.h>

#include "common/err.h"
#include "vsmr/guest.h"
#include "xlvsmr.h"

struct xl {
    xentoollog_logger_stdiostream *log;
    libxl_ctx *ctx;
};

static int xl_open(struct xl *x)
{
    x->log = xtl_createlogger_stdiostream(stderr, XTL_ERROR, 0);
    if (!x->log)
        return vsmr_fail(VSMR_ENOMEM, "cannot create libxl's logger");
    if (libxl_ctx_alloc(&x->ctx, LIBXL_VERSION, 0,
                        (xentoollog_logger *)x->log)) {
        xtl_logger_destroy((xentoollog_logger *)x->log);
        return vsmr_fail(VSMR_ESYS, "cannot open libxl (is this dom0 and "
                         "are you root?)");
    }
    return VSMR_OK;
}

static void xl_close(struct xl *x)
{
    libxl_ctx_free(x->ctx);
    xtl_logger_destroy((xentoollog_logger *)x->log);
}

static int find_domid(struct xl *x, const char *spec, uint32_t *domid)
{
    char *end;
    unsigned long v = strtoul(spec, &end, 10);
    if (*spec && !*end) {
        *domid = (uint32_t)v;
        return VSMR_OK;
    }
    if (libxl_name_to_domid(x->ctx, spec, domid))
        return vsmr_fail(VSMR_ENOENT, "no domain is named '%s'", spec);
    return VSMR_OK;
}

int xlv_domain_check(const char *spec, struct xlv_domain *d)
{
    memset(d, 0, sizeof *d);
    /* The backend's open gives the plain errors; it does not pause. */
    vsmr_guest *g = NULL;
    int rc = vsmr_guest_open("xen", spec, &g);
    vsmr_guest_close(g);
    if (rc < 0)
        return rc;
    struct xl x;
    rc = xl_open(&x);
    if (rc < 0)
        return rc;
    rc = find_domid(&x, spec, &d->domid);
    libxl_dominfo info;
    libxl_dominfo_init(&info);
    if (rc == VSMR_OK && libxl_domain_info(x.ctx, &info, d->domid))
        rc = vsmr_fail(VSMR_ENOENT, "domain %s does not exist (it went away "
                       "while being checked?)", spec);
    if (rc == VSMR_OK) {
        char *name = libxl_domid_to_name(x.ctx, d->domid);
        snprintf(d->name, sizeof d->name, "%s", name ? name : spec);
        free(name);
        snprintf(d->uuid, sizeof d->uuid, LIBXL_UUID_FMT,
                 LIBXL_UUID_BYTES(info.uuid));
        d->mem_bytes = info.current_memkb * 1024;
        d->paused_at_start = info.paused;
        if (info.paused)
            rc = vsmr_fail(VSMR_ESTATE, "domain %s (%u) is paused; it must be "
                           "running to be protected (xl unpause %u)", d->name,
                           d->domid, d->domid);
    }
    libxl_dominfo_dispose(&info);
    xl_close(&x);
    return rc;
}

void xlv_domain_ensure_running(const struct xlv_domain *d)
{
    struct xl x;
    if (xl_open(&x) < 0)
        return;
    libxl_dominfo info;
    libxl_dominfo_init(&info);
    if (libxl_domain_info(x.ctx, &info, d->domid) == 0) {
        if (info.shutdown &&
            info.shutdown_reason == LIBXL_SHUTDOWN_REASON_SUSPEND) {
            xlv_say("domain %s was left suspended by the copy; resuming it",
                    d->name);
            if (libxl_domain_resume(x.ctx, d->domid, 1, NULL))
                xlv_say("resuming domain %u failed: run xl unpause %u and "
                        "check its console", d->domid, d->domid);
        }
        if (info.paused && !d->paused_at_start) {
            xlv_say("domain %s was left paused; unpausing it", d->name);
            if (libxl_domain_unpause(x.ctx, d->domid, NULL))
                xlv_say("unpausing domain %u failed: run xl unpause %u",
                        d->domid, d->domid);
        }
    }
    libxl_dominfo_dispose(&info);
    xl_close(&x);
}
