/*
 * conf.c - writes the vsmrd configuration of the primary (this host) and
 * of the backup: the three peers (1 primary, 2 backup, 3 witness), the
 * guest (xen:DOMID), the backup's guest_bridge, the sync options, and
 * per-domain paths named by side so both fit on one host (tests). Pure:
 * text into a buffer; the unit tests parse it back with vsmrd's own
 * parser.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "common/err.h"
#include "xlvsmr.h"

void xlv_side_path(const struct xlv_plan *p, enum xlv_side side,
                   const char *what, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s.%s", p->dir,
             side == XLV_PRIMARY ? "primary" : "backup", what);
}

/* libxl's bridge for a nic whose configuration names none. */
#define XLV_DEFAULT_BRIDGE "xenbr0"

int xlv_plan_guest_bridge(struct xlv_plan *p, const char *bridge)
{
    if (!bridge || !*bridge)
        bridge = XLV_DEFAULT_BRIDGE;
    size_t n = strlen(bridge);
    bool plain = n < sizeof p->guest_bridge;
    for (size_t i = 0; plain && i < n; i++)
        plain = isalnum((unsigned char)bridge[i]) ||
                strchr("._-", bridge[i]);
    if (!plain)
        return vsmr_fail(VSMR_EINVAL, "the domain's first vif is on bridge "
                         "'%.40s', a name vsmrd does not take as guest_bridge "
                         "(1..%zu letters, digits, '.', '_' or '-'); at a "
                         "failover the copy would stay off the network",
                         bridge, sizeof p->guest_bridge - 1);
    memcpy(p->guest_bridge, bridge, n + 1);
    return VSMR_OK;
}

struct out {
    char *buf;
    size_t len, used;
    bool full;
};

static void put(struct out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
    if (o->full)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->buf + o->used, o->len - o->used, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->len - o->used)
        o->full = true;
    else
        o->used += (size_t)n;
}

int xlv_protection_id_draw(struct xlv_plan *p)
{
    do {
        if (getrandom(&p->protection_id, sizeof p->protection_id, 0) !=
            (ssize_t)sizeof p->protection_id)
            return vsmr_fail_errno(VSMR_ESYS, "cannot draw a protection id");
    } while (!p->protection_id);
    return VSMR_OK;
}

int xlv_conf_write(const struct xlv_opts *o, const struct xlv_domain *d,
                   const struct xlv_plan *p, enum xlv_side side,
                   uint32_t domid, char *buf, size_t len)
{
    if (!len)
        return vsmr_fail(VSMR_ERANGE, "no room for the configuration");
    struct out w = {buf, len, 0, false};
    buf[0] = '\0';
    const char *role = side == XLV_PRIMARY ? "primary" : "backup";
    char path[256];
    put(&w, "# vsmrd configuration of the %s of domain %s (%s),\n"
            "# written by xl vsmr; it is rewritten at each start.\n",
        role, d->name, d->uuid);
    put(&w, "id = %u\nrole = %s\n", (unsigned)side, role);
    put(&w, "peer.1 = %s primary\npeer.2 = %s backup\npeer.3 = %s witness\n",
        p->primary, p->backup, p->witness);
    put(&w, "key_file = %s\ntransport = %s\n", o->key_file, o->transport);
    xlv_side_path(p, side, "sock", path, sizeof path);
    put(&w, "control = %s\n", path);
    put(&w, "data_dir = %s/%s\n", p->data, role);
    xlv_side_path(p, side, "log", path, sizeof path);
    put(&w, "log_file = %s\n", path);
    /* The guest's network is its first vif, named by Xen's convention. */
    put(&w, "guest = xen:%u\nguest_vif = vif%u.0\n", domid, domid);
    /* The copy runs on the isolated bridge; promoted, its vif joins the
     * bridge the domain's was on, where the clients are. */
    if (side == XLV_BACKUP && p->guest_bridge[0])
        put(&w, "guest_bridge = %s\n", p->guest_bridge);
    /* A sync runs on vsmrd's event loop; the first one compares all of
     * the guest's memory and takes seconds on a slow host. The election
     * and connection timeouts must outlast it, or leadership moves and
     * the connection drops in the middle (vsmrd's tick is 10 ms). */
    uint32_t idle = o->election_ms * 2 > 3000 ? o->election_ms * 2 : 3000;
    put(&w, "election_ticks = %u\nidle_timeout_ms = %u\n",
        o->election_ms / 10, idle);
    put(&w, "verify = %s\n", o->verify ? "on" : "off");
    if (o->threads)
        put(&w, "hash_threads = %u\n", o->threads);
    put(&w, "sync_min_ms = %u\nsync_max_ms = %u\nsync_idle_checks = %u\n",
        o->min_ms, o->max_ms, o->idle_checks);
    if (p->protection_id)
        put(&w, "protection_id = %llu\n",
            (unsigned long long)p->protection_id);
    if (w.full)
        return vsmr_fail(VSMR_ERANGE, "the %s configuration does not fit in "
                         "%zu bytes", role, len);
    return VSMR_OK;
}
