/*
 * guest_impl.h - what a guest backend implements (internal).
 *
 * A backend fills a vsmr_guest_ops table and embeds struct vsmr_guest at
 * the start of its own handle. guest.c checks arguments and state before
 * calling an operation, so backends may trust them.
 */
#ifndef VSMR_GUEST_IMPL_H
#define VSMR_GUEST_IMPL_H

#include "vsmr/guest.h"

struct vsmr_guest_ops {
    const char *name;
    int (*open)(const char *spec, vsmr_guest **out);
    void (*close)(vsmr_guest *g);
    int (*pause)(vsmr_guest *g);
    int (*unpause)(vsmr_guest *g);
    int (*is_idle)(vsmr_guest *g, bool *idle);
    int (*logdirty)(vsmr_guest *g, bool enable);
    int (*dirty_fetch_clear)(vsmr_guest *g, uint64_t *bitmap, size_t nwords);
    int (*map)(vsmr_guest *g, const uint64_t *pfns, size_t n, int prot,
               void **pages, void **cookie);
    int (*unmap)(vsmr_guest *g, void *cookie, void **pages, size_t n);
    int (*context_get)(vsmr_guest *g, void *buf, size_t cap, size_t *len);
    int (*context_set)(vsmr_guest *g, const void *buf, size_t len);
    int (*suspend)(vsmr_guest *g);
    int (*resume)(vsmr_guest *g, bool fast);
    /* A sync's stops (guest.h); guest.c keeps the order (sync_state). */
    int (*stop_for_sync)(vsmr_guest *g);
    int (*continue_after_sync)(vsmr_guest *g);
    int (*backup_prepare)(vsmr_guest *g);
    int (*backup_begin)(vsmr_guest *g);
    /* reconnect: first call after begin; run: start it */
    int (*backup_end)(vsmr_guest *g, bool reconnect, bool run);
    int (*backup_cancel)(vsmr_guest *g, bool begun);
    int (*devices_connected)(vsmr_guest *g, int timeout_ms, bool *up);
    int (*backup_figures)(vsmr_guest *g,
                          struct vsmr_guest_backup_figures *f);
    int (*shared_pages)(vsmr_guest *g, uint64_t *pfns, size_t cap,
                        size_t *n);
    int (*mappable)(vsmr_guest *g, uint64_t *bitmap, size_t nwords);
    /* optional (NULL: the backend has no network devices) */
    int (*vif_mac)(vsmr_guest *g, const char *vif, uint8_t mac[6]);
};

/* Where a guest is in a sync's stops (guest.c checks the order). */
enum vsmr_guest_sync_state {
    VSMR_GUEST_RUNNING = 0,   /* no sync stop in progress */
    VSMR_GUEST_STOPPED,       /* stop_for_sync done */
    VSMR_GUEST_PREPARED,      /* backup: devices detached, paused */
    VSMR_GUEST_BEGUN,         /* backup: domain-side state reset */
    VSMR_GUEST_RECONNECTED,   /* backup: end(run = false) done */
};

struct vsmr_guest {
    const struct vsmr_guest_ops *ops;
    uint64_t pages;       /* page count, fixed at open */
    bool paused;          /* paused through this handle */
    bool logdirty;        /* log-dirty enabled through this handle */
    enum vsmr_guest_sync_state sync_state;
};

extern const struct vsmr_guest_ops vsmr_guest_sim_ops;
extern const struct vsmr_guest_ops vsmr_guest_xen_ops;

#endif
