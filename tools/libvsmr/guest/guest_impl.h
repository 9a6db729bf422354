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
};

struct vsmr_guest {
    const struct vsmr_guest_ops *ops;
    uint64_t pages;       /* page count, fixed at open */
    bool paused;          /* paused through this handle */
    bool logdirty;        /* log-dirty enabled through this handle */
};

extern const struct vsmr_guest_ops vsmr_guest_sim_ops;
extern const struct vsmr_guest_ops vsmr_guest_xen_ops;

#endif
