/*
 * guest.h - the hypervisor interface: what the engine needs from a guest.
 *
 * One contract, several backends behind it (a table of operations, the
 * way SQLite reaches the OS through its VFS):
 *   "sim"  a simulated guest: a separate process whose memory is a memfd
 *          (tools/libvsmr/guest/sim/), for tests and benchmarks;
 *   "xen"  a real Xen domU through libxenctrl/libxenforeignmemory
 *          (tools/libvsmr/guest/xen/).
 * Pages are 4 KiB and addressed by frame number (gfn for Xen), 0..count-1.
 */
#ifndef VSMR_GUEST_H
#define VSMR_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vsmr/vsmr.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VSMR_PAGE_SIZE  4096u
#define VSMR_PAGE_SHIFT 12

typedef struct vsmr_guest vsmr_guest;

enum vsmr_map_prot {
    VSMR_MAP_READ  = 1,
    VSMR_MAP_WRITE = 2,
};

/*
 * Opens a guest. backend is "sim" or "xen"; spec names the guest for
 * that backend:
 *   sim: "pages=N,workers=W[,seed=S]" starts a new simulated guest process
 *        (vsmr-simguest, found next to the running program or on $PATH or
 *        via $VSMR_SIMGUEST);
 *   xen: "DOMID" or "NAME" of an existing domain.
 * An unknown backend is VSMR_ENOENT.
 */
int vsmr_guest_open(const char *backend, const char *spec, vsmr_guest **out);
/* Closes the handle; a sim guest process is stopped, a Xen domain is left
 * running, unpaused if this handle paused it. NULL is accepted. */
void vsmr_guest_close(vsmr_guest *g);

const char *vsmr_guest_backend(const vsmr_guest *g);
uint64_t vsmr_guest_page_count(const vsmr_guest *g);

/* Pause and unpause. For sim, pause returns once every worker is parked at
 * a request boundary. Pausing a paused guest is a no-op. */
int vsmr_guest_pause(vsmr_guest *g);
int vsmr_guest_unpause(vsmr_guest *g);
int vsmr_guest_is_paused(vsmr_guest *g, bool *paused);
/* Idle: every vCPU blocked (sim: no request in progress or queued). */
int vsmr_guest_is_idle(vsmr_guest *g, bool *idle);

/* Log-dirty mode. Enabling it clears the bitmap. */
int vsmr_guest_logdirty(vsmr_guest *g, bool enable);
/* Copies the dirty bitmap into bitmap (bit p of word p/64 = page p) and
 * clears it; nwords must be at least (page_count + 63) / 64. */
int vsmr_guest_dirty_fetch_clear(vsmr_guest *g, uint64_t *bitmap,
                                 size_t nwords);

/*
 * Maps n pages by frame number; pages[i] receives the address of pfns[i].
 * prot is VSMR_MAP_READ and/or VSMR_MAP_WRITE. A frame past the end is
 * VSMR_ERANGE and nothing is mapped. Undo with vsmr_guest_unmap(), giving
 * back the same cookie, pages and n.
 */
int vsmr_guest_map(vsmr_guest *g, const uint64_t *pfns, size_t n, int prot,
                   void **pages, void **cookie);
int vsmr_guest_unmap(vsmr_guest *g, void *cookie, void **pages, size_t n);

/* The vCPU and device context as an opaque blob: get it from one guest,
 * set it into another of the same backend. get with buf == NULL reports
 * the size in *len. The guest must be paused. */
int vsmr_guest_context_get(vsmr_guest *g, void *buf, size_t cap, size_t *len);
int vsmr_guest_context_set(vsmr_guest *g, const void *buf, size_t len);

/* Cooperative suspend and resume (Xen: the guest's suspend handshake;
 * sim: same as pause/unpause). fast: resume in place (suspend-cancel). */
int vsmr_guest_suspend(vsmr_guest *g);
int vsmr_guest_resume(vsmr_guest *g, bool fast);

#ifdef __cplusplus
}
#endif
#endif
