/*
 * xen_reconnect.c - a backup domain's toolstack connections, made anew
 * after its soft reset: event channels for xenstore and the console
 * (whatever numbers Xen gives, published in its HVM params, which the
 * kernel reads again on resume) and a fresh xenstore connection: its
 * previous kernel's watches must go, or the copied kernel, registering
 * the same ones, fails on them. C xenstored drops them when the domain is
 * introduced again; with oxenstored it takes release + introduce, and the
 * nodes and permissions the release deletes are put back (xen_xsacl.c).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "guest/xen/xen_guest.h"

#include <sys/mman.h>
#include <xen/hvm/params.h>
#include <xen/io/xs_wire.h>

#define FULL_WALK_EVERY 100

static int new_channels(struct xen_guest *x, int *store, int *console)
{
    *store = xc_evtchn_alloc_unbound(x->xch, x->domid, 0);
    *console = xc_evtchn_alloc_unbound(x->xch, x->domid, 0);
    if (*store < 0 || *console < 0)
        return vsmr_fail_errno(VSMR_ESYS, "domain %u: cannot allocate its "
                               "toolstack event channels", x->domid);
    if (xc_hvm_param_set(x->xch, x->domid, HVM_PARAM_STORE_EVTCHN,
                         (uint64_t)*store) < 0 ||
        xc_hvm_param_set(x->xch, x->domid, HVM_PARAM_CONSOLE_EVTCHN,
                         (uint64_t)*console) < 0)
        return vsmr_fail_errno(VSMR_ESYS, "domain %u: cannot set its event "
                               "channel params", x->domid);
    return VSMR_OK;
}

static int write_port(struct xen_guest *x, struct xs_handle *xs,
                      const char *node, int port)
{
    char p[96], v[16];
    snprintf(p, sizeof p, "/local/domain/%u/%s", x->domid, node);
    snprintf(v, sizeof v, "%d", port);
    if (!xs_write(xs, XBT_NULL, p, v, strlen(v)))
        return vsmr_fail_errno(VSMR_ESYS, "domain %u: cannot write %s",
                               x->domid, p);
    return VSMR_OK;
}

/* Milliseconds since *t, and *t moved to now. */
static double lap(double *t)
{
    double now = xen_now_ms(), d = now - *t;
    *t = now;
    return d;
}

/* The store ring's four indices, read through a foreign mapping. */
static bool ring_indices(struct xen_guest *x, uint32_t idx[4])
{
    xen_pfn_t pfn = (xen_pfn_t)x->store_pfn;
    int err = 0;
    void *p = xenforeignmemory_map(x->fmem, x->domid, PROT_READ, 1, &pfn,
                                   &err);
    if (!p)
        return false;
    const volatile struct xenstore_domain_interface *in = p;
    idx[0] = in->req_cons;
    idx[1] = in->req_prod;
    idx[2] = in->rsp_cons;
    idx[3] = in->rsp_prod;
    xenforeignmemory_unmap(x->fmem, p, 1);
    return err == 0;
}

static bool all_zero(const uint32_t idx[4])
{
    return !(idx[0] | idx[1] | idx[2] | idx[3]);
}

static int introduce(struct xen_guest *x, struct xs_handle *xs, int port)
{
    if (xs_introduce_domain(xs, x->domid, x->store_pfn, (unsigned int)port))
        return VSMR_OK;
    return vsmr_fail_errno(VSMR_ESYS, "domain %u: xenstore introduce failed "
                           "(store frame 0x%llx, port %d)", x->domid,
                           (unsigned long long)x->store_pfn, port);
}

/*
 * Whether this dom0 runs oxenstored. Tried in place, its introduce
 * rebinds and the release + introduce that must follow is then refused
 * (EINVAL, seen in the lab), so with it the release path is taken from
 * the start. A xenstored not found here (a stub domain) is C xenstored.
 */
static bool oxenstored_running(void)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    bool found = false;
    while (d && !found && (e = readdir(d))) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        char path[300], comm[32] = "";
        snprintf(path, sizeof path, "/proc/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (f && fgets(comm, sizeof comm, f))
            found = strncmp(comm, "oxenstored", 10) == 0;
        if (f)
            fclose(f);
    }
    if (d)
        closedir(d);
    return found;
}

/*
 * Introducing a domain that xenstored already knows rebinds its channel.
 * C xenstored (also as a stub domain) then resets the connection too:
 * watches, transactions and the ring's indices, its nodes untouched;
 * oxenstored only rebinds (and is recognised beforehand, above).
 * Which one answers is seen on the ring: indices that a booted kernel has
 * moved read zero afterwards only after a reset. Learned at the first end
 * that can tell, then trusted.
 */
static int reintroduce_in_place(struct xen_guest *x, struct xs_handle *xs,
                                int port, bool *reset)
{
    uint32_t before[4], after[4];
    bool tell = x->store_reset == XEN_STORE_RESET_UNKNOWN &&
                ring_indices(x, before) && !all_zero(before);
    int rc = introduce(x, xs, port);
    if (rc < 0)
        return rc;
    if (tell)
        x->store_reset = ring_indices(x, after) && all_zero(after)
                             ? XEN_STORE_RESET_ON_INTRODUCE
                             : XEN_STORE_RESET_BY_RELEASE;
    *reset = x->store_reset == XEN_STORE_RESET_ON_INTRODUCE;
    return VSMR_OK;
}

/* Release + introduce (oxenstored): releasing deletes the nodes the
 * domain owns and strips it from every other node's permissions, so they
 * are remembered first and put back after. */
static int release_and_introduce(struct xen_guest *x, struct xs_handle *xs,
                                 struct vsmr_guest_backup_figures *f,
                                 double *t)
{
    struct xen_acl_snapshot *snap;
    /* Now and then the whole tree again: nodes may have been added
     * where the pruned walk does not look. */
    if (x->acl_walks++ % FULL_WALK_EVERY == 0)
        x->acl_prune = false;
    int rc = xen_acl_snapshot(xs, x->domid, &x->acl_prune, &snap,
                              &f->nodes_walked);
    if (rc < 0)
        return rc;
    f->ms_walk = lap(t);
    /* A failed release leaves the old connection; introduce then fails
     * and says so. */
    xs_release_domain(xs, x->domid);
    if ((rc = introduce(x, xs, f->store_port)) == VSMR_OK) {
        f->ms_reintroduce = lap(t);
        xen_acl_restore(xs, snap, f);
    }
    xen_acl_free(snap);
    return rc;
}

int xen_reconnect(struct xen_guest *x)
{
    struct vsmr_guest_backup_figures f = {.store_port = -1,
                                          .console_port = -1};
    double t = xen_now_ms();
    struct xs_handle *xs;
    int rc = xen_xs(x, &xs);
    if (rc < 0 || (rc = new_channels(x, &f.store_port, &f.console_port)) < 0)
        return rc;
    f.ms_channels = lap(&t);
    bool reset = false;
    if (x->store_reset == XEN_STORE_RESET_UNKNOWN && oxenstored_running())
        x->store_reset = XEN_STORE_RESET_BY_RELEASE;
    if (x->store_reset != XEN_STORE_RESET_BY_RELEASE &&
        (rc = reintroduce_in_place(x, xs, f.store_port, &reset)) < 0)
        return rc;
    f.store_in_place = reset;
    if (reset)
        f.ms_reintroduce = lap(&t);
    else if ((rc = release_and_introduce(x, xs, &f, &t)) < 0)
        return rc;
    if ((rc = write_port(x, xs, "store/port", f.store_port)) == VSMR_OK)
        rc = write_port(x, xs, "console/port", f.console_port); /* xenconsoled rebinds */
    f.ms_restore = lap(&t);
    x->figures = f;
    return rc;
}
