/*
 * xen_guest.h - the Xen backend's handle and its per-file operations
 * (internal to tools/libvsmr/guest/xen/). One file per job: open/lookup,
 * vCPUs and pause, log-dirty, memory mapping, context, suspend/resume.
 */
#ifndef VSMR_XEN_GUEST_H
#define VSMR_XEN_GUEST_H

#include <xenctrl.h>
#include <xenforeignmemory.h>
#include <xenstore.h>

#include "guest/guest_impl.h"

struct xen_guest {
    struct vsmr_guest base;          /* must be first */
    uint32_t domid;
    xc_interface *xch;
    xentoollog_logger *logger;
    xenforeignmemory_handle *fmem;
    struct xs_handle *xs;            /* opened on first use */
    xc_hypercall_buffer_t bitmap;    /* hypercall buffer for CLEAN */
    int bitmap_pages;                /* 0 until first allocated */
    bool suspended;                  /* suspended by this handle */
    /* As a running backup (xen_backup.c): */
    bool bk_paused;                  /* prepare holds a pause reference */
    bool detached;                   /* a frontend was sent to Initialising */
    uint64_t store_pfn;              /* its xenstore ring, read at prepare */
    struct vsmr_guest_backup_figures figures;   /* of the last end */
    bool acl_prune;                  /* xen_xsacl.c: pruned walks suffice */
    unsigned acl_walks;              /* ends so far (a whole walk each 100) */
    enum {                           /* xen_reconnect.c: how the xenstored */
        XEN_STORE_RESET_UNKNOWN,     /* in use drops a domain's watches */
        XEN_STORE_RESET_ON_INTRODUCE,
        XEN_STORE_RESET_BY_RELEASE,
    } store_reset;
    uint64_t *mappable;              /* xen_mappable.c's cache, or NULL */
};

static inline struct xen_guest *xen_of(vsmr_guest *g)
{
    return (struct xen_guest *)g;
}

/* xen_open.c */
int xen_open(const char *spec, vsmr_guest **out);
void xen_close(vsmr_guest *g);
/* Reads the domain's info; VSMR_ENOENT if it is gone. */
int xen_domain_info(struct xen_guest *x, xc_dominfo_t *info);
/* Opens the xenstore connection on first use. */
int xen_xs(struct xen_guest *x, struct xs_handle **xs);
/* The numeric entry of dir whose node reads value (dir/<id>/node):
 * VSMR_OK and *id; VSMR_ENOENT (no message) if none or dir is absent;
 * VSMR_ESYS with a message if xenstore cannot list dir. */
int xen_xs_find(struct xs_handle *xs, const char *dir, const char *node,
                const char *value, unsigned long *id);

/* xen_vcpu.c */
int xen_pause(vsmr_guest *g);
int xen_unpause(vsmr_guest *g);
int xen_is_idle(vsmr_guest *g, bool *idle);
int xen_context_get(vsmr_guest *g, void *buf, size_t cap, size_t *len);
int xen_context_set(vsmr_guest *g, const void *buf, size_t len);

/* xen_logdirty.c */
int xen_logdirty(vsmr_guest *g, bool enable);
int xen_dirty_fetch_clear(vsmr_guest *g, uint64_t *bitmap, size_t nwords);
void xen_logdirty_release(struct xen_guest *x);

/* xen_memory.c */
int xen_map(vsmr_guest *g, const uint64_t *pfns, size_t n, int prot,
            void **pages, void **cookie);
int xen_unmap(vsmr_guest *g, void *cookie, void **pages, size_t n);

/* xen_suspend.c */
int xen_suspend(vsmr_guest *g);
int xen_resume(vsmr_guest *g, bool fast);
int xen_stop_for_sync(vsmr_guest *g);
int xen_continue_after_sync(vsmr_guest *g);

/* xen_backup.c: a running backup around the copy (guest.h) */
int xen_backup_prepare(vsmr_guest *g);
int xen_backup_begin(vsmr_guest *g);
int xen_backup_end(vsmr_guest *g, bool reconnect, bool run);
int xen_backup_cancel(vsmr_guest *g, bool begun);
int xen_backup_figures(vsmr_guest *g, struct vsmr_guest_backup_figures *f);

/* xen_devices.c: the domain's PV devices, as xenstore lists them */
int xen_devices_detach(struct xen_guest *x);
int xen_devices_connected(vsmr_guest *g, int timeout_ms, bool *up);

/* xen_reconnect.c: new toolstack event channels, new xenstore connection */
int xen_reconnect(struct xen_guest *x);
/* xen_clock.c */
#define XEN_POLL_MAX_MS 10
double xen_now_ms(void);   /* CLOCK_MONOTONIC */
void xen_sleep_ms(int ms);
/* Sleeps *pause_ms (not past deadline_ms) and doubles it, up to
 * XEN_POLL_MAX_MS: the pace of a poll that reads xenstore. */
void xen_poll_wait(int *pause_ms, double deadline_ms);

/* xen_xsacl.c: the xenstore nodes naming a domain, kept across a release */
struct xen_acl_snapshot;
/* xen_xspath.c: where libxl keeps domain `dom`'s nodes (vm: the last
 * part of its /vm/<uuid>). may_hold: whether such a node can sit under
 * parent/child; pruned_reaches: whether every step to path may. */
struct xen_xs_owner {
    char dom[16];
    char vm[64];
};
bool xen_xs_may_hold(const struct xen_xs_owner *o, const char *parent,
                     const char *child);
bool xen_xs_pruned_reaches(const struct xen_xs_owner *o, const char *path);

/* *prune: walk only where libxl keeps a domain's nodes; a whole-tree walk
 * (*prune false) sets it when the pruned one would have found the same. */
int xen_acl_snapshot(struct xs_handle *xs, uint32_t domid, bool *prune,
                     struct xen_acl_snapshot **out, size_t *walked);
/* Puts back what changed; counts into figures. */
void xen_acl_restore(struct xs_handle *xs, const struct xen_acl_snapshot *s,
                     struct vsmr_guest_backup_figures *f);
void xen_acl_free(struct xen_acl_snapshot *s);

/* xen_shared.c */
int xen_shared_pages(vsmr_guest *g, uint64_t *pfns, size_t cap, size_t *n);

/* xen_mappable.c */
int xen_mappable(vsmr_guest *g, uint64_t *bitmap, size_t nwords);

/* xen_vifmac.c */
int xen_vif_mac(vsmr_guest *g, const char *vif, uint8_t mac[6]);

#endif
