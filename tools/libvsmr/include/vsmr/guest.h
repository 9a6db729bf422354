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

/*
 * A sync's stops, named for what they mean to the sync engine. The backend
 * decides how (docs/xen-backend.md, docs/xen-device-state.md).
 *
 * The primary (and any guest that must keep its devices): stop for a sync
 * and continue after it. Xen: cooperative suspend (frontends quiesced,
 * in-flight requests done) and fast resume; sim: pause and unpause. A
 * stop that fails leaves the guest running; continue on a running guest
 * is a no-op.
 */
int vsmr_guest_stop_for_sync(vsmr_guest *g);
int vsmr_guest_continue_after_sync(vsmr_guest *g);

/*
 * A running backup, around the copy that makes it the primary's copy:
 *   prepare  stop it (Xen: pause), reversibly: until begin, cancel lets
 *            it run on from its own state. Before its dirty bitmap is
 *            fetched.
 *   begin    once the whole copy is at hand, before the first page is
 *            written: detach its devices, so nothing writes into its
 *            memory any more, and reset what is not memory (Xen: each
 *            backend back to InitWait, shutdown(suspend), soft reset,
 *            vCPU reset). From here on it can run again only with a
 *            complete copy of the primary (pages and context).
 *   end      after the context was set: reconnect and start it (Xen: new
 *            toolstack event channels in its HVM params, a fresh xenstore
 *            connection with its nodes and permissions kept, slow resume
 *            as a new domain, unpause). run == false reconnects but keeps
 *            it stopped (a failover moves it first); end(g, true) later
 *            starts it.
 *   cancel   the epoch was abandoned after prepare: VSMR_OK if the guest
 *            runs again from its own state (sim; Xen before begin), else
 *            VSMR_ESTATE and it stays stopped until a complete copy and
 *            an end (Xen after begin: devices detached, vCPUs reset).
 * Sim: prepare = pause, begin = nothing, end = unpause, cancel = unpause.
 * prepare and begin are no-ops when already done; out of order is
 * VSMR_ESTATE. A failing prepare or begin leaves the guest stopped (call
 * cancel); a failing end leaves it stopped, needing the next copy.
 */
int vsmr_guest_backup_prepare(vsmr_guest *g);
int vsmr_guest_backup_begin(vsmr_guest *g);
int vsmr_guest_backup_end(vsmr_guest *g, bool run);
int vsmr_guest_backup_cancel(vsmr_guest *g);
/* Whether every device of the guest is connected (Xen: each backend in
 * state Connected), waiting up to timeout_ms for it (0: just look). A
 * guest without devices (sim) is connected. */
int vsmr_guest_devices_connected(vsmr_guest *g, int timeout_ms,
                                 bool *connected);

/* Figures of the last backup end, for logs (Xen; sim reports -1 and 0). */
struct vsmr_guest_backup_figures {
    int store_port, console_port;  /* the new toolstack event channels */
    size_t nodes_changed;          /* xenstore nodes whose permissions the
                                      new connection changed (put back) */
    size_t nodes_recreated;        /* ... that it deleted (recreated) */
    size_t nodes_lost;             /* ... that could not be put back */
    size_t nodes_walked;           /* xenstore nodes read to find them */
    bool store_in_place;           /* xenstored reset the connection when
                                      introduced again: nothing released,
                                      walked or put back */
    /* Where the end's time went, in ms (Xen; sim: 0): the event channels,
     * the walk that remembers the nodes, release + introduce, putting the
     * nodes back, and the slow resume with the unpause. */
    double ms_channels, ms_walk, ms_reintroduce, ms_restore, ms_resume;
};
int vsmr_guest_backup_figures(vsmr_guest *g,
                              struct vsmr_guest_backup_figures *f);

/*
 * Pages shared with device backends, which they write without a dirty mark
 * (Xen: the xenstore and console rings, each vif's tx/rx rings): a sync
 * must compare them every time. Writes at most cap frame numbers; *n is how
 * many there are (more than cap: VSMR_ERANGE, the first cap written).
 * Sim: none.
 */
int vsmr_guest_shared_pages(vsmr_guest *g, uint64_t *pfns, size_t cap,
                            size_t *n);
/* The frames that have memory behind them (that map at all), as a bitmap
 * like the dirty one: what a full-memory comparison covers. Xen: found by
 * mapping the whole range once (seconds under emulation), then cached;
 * sim: every page. */
int vsmr_guest_mappable(vsmr_guest *g, uint64_t *bitmap, size_t nwords);

/*
 * The MAC address the guest has on a network device, named as dom0 names
 * it (Xen: vif is vifDOMID.DEVID, or the vifname the domain's
 * configuration gave; the MAC is the vif backend's "mac" node in
 * xenstore, which the guest cannot write). VSMR_ENOENT if the guest has
 * no such device, VSMR_EINVAL for another domain's vif or a malformed
 * MAC. Sim: VSMR_ENOTSUP (no network devices).
 */
int vsmr_guest_vif_mac(vsmr_guest *g, const char *vif, uint8_t mac[6]);

#ifdef __cplusplus
}
#endif
#endif
