/*
 * xenio.h - a Xen guest's network as vsmrd's guest I/O (docs/netio.md):
 * frames on their way to the guest's vif are captured and, on the primary,
 * proposed to the log; committed entries are injected into the vif on both
 * replicas; the guest's own frames wait in the vif's output buffer until
 * the epoch that produced them commits (primary), or are dropped at every
 * commit and kept only since the last one (backup, for its promotion).
 */
#ifndef VSMRD_XENIO_H
#define VSMRD_XENIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loop.h"
#include "node.h"
#include "vsmr/guest.h"

struct xenio;

/* Whether captured frames may be proposed now (the primary serving). */
typedef bool (*xenio_may_propose_fn)(void *ctx);

/* Sets up the hooks on vif (idempotent: the hotplug script may have made
 * them), opens capture, injection and the output buffer, and watches the
 * capture ring on the loop. Output starts held. */
int xenio_open(const char *vif, struct loop *l, struct node *n,
               xenio_may_propose_fn may_propose, void *ctx,
               struct xenio **out);
/* Closes everything and removes the hooks: the guest's network is then
 * the plain vif again (what an unprotected guest has). */
void xenio_close(struct xenio *x);

/* The bridge vif joins if this replica is promoted (guest_bridge), and
 * the guest's MAC on vif, read from g now: a vif without a readable MAC
 * stops the start rather than the failover. Logs both. */
int xenio_set_bridge(struct xenio *x, vsmr_guest *g, const char *bridge);
/* At promotion, before the held outputs are released: vif joins the
 * bridge, the bridge forgets the MAC on its other ports, the MAC is
 * announced (vsmr_netio_bridge_takeover). VSMR_OK without a bridge. */
int xenio_takeover(struct xenio *x);

/* The sync engine's guest I/O (struct vsmr_guest_io) on this vif. */
int xenio_inject(void *x, const void *entry, size_t len);
int xenio_collect(void *x, void *buf, size_t cap, size_t *len);
int xenio_served(void *x, bool *all);

/* Output buffer, driven by the replica. */
int xenio_epoch_end(struct xenio *x, uint64_t epoch);  /* sync began */
int xenio_commit(struct xenio *x, uint64_t epoch);     /* epoch committed */
int xenio_drop_held(struct xenio *x);                  /* backup, at commit */
int xenio_release_all(struct xenio *x);                /* no buffering */
int xenio_hold(struct xenio *x);                       /* buffer again */

struct xenio_stats {
    uint64_t captured, proposed_entries, not_leader_drops, oversize_drops,
             injected, inject_failures;
};
void xenio_stats(const struct xenio *x, struct xenio_stats *st);

#endif
