/*
 * statecopy.h - state shared by the files of vsmr-xen-statecopy: the two
 * domains (primary A, running backup B), the gfns both can map, per-sync
 * figures. B's Xen-specific steps are the xen guest backend's
 * (tools/libvsmr/guest/xen/xen_backup.c and its neighbours); this tool only
 * orders them, and keeps its test aids. See docs/xen-device-state.md for the sequence and its reasons.
 */
#ifndef VSMR_SC_H
#define VSMR_SC_H

#include <stdbool.h>
#include <stdint.h>
#include <xenctrl.h>

#include "vsmr/guest.h"
#include "vsmr/hash.h"

struct sc {
    vsmr_guest *a, *b;             /* through the guest interface */
    uint32_t da, db;               /* domain ids */
    xc_interface *xch;             /* --spare-port only (a test aid) */
    uint64_t *gfns;                /* frames mappable in both */
    size_t ngfns;
    uint64_t *mappable;            /* the same, as a bitmap */
    vsmr_pool *pool;               /* hashing and copying threads */
    uint64_t *bma, *bmb;           /* dirty bitmaps */
    size_t nwords;
    uint64_t pages;
    bool verify, spare_port, first;
    const char *probe;             /* shell command run after B's resume */
    const char *hold, *release;    /* hold / release A's inputs */
#define MAX_MISS 256
    uint64_t miss[MAX_MISS];       /* verify: pages that differed */
    size_t nmiss;
    uint64_t sticky[MAX_MISS];     /* learned: compared at every sync */
    size_t nsticky;
};

struct sync_stats {
    size_t dirty_a, dirty_b, uni, diverged, mismatched_after, map_fail;
    size_t acl_changed_by_release, xs_recreated, learned;
    bool store_in_place;              /* xenstored reset B's connection */
    size_t xs_walked;                 /* nodes read to snapshot B's */
    double t_b_walk, t_b_restore, t_b_resume;   /* parts of t_b_fixup */
    size_t shared;
    bool b_net;
    uint64_t bytes;
    int store_port, console_port, a_store_port;
    double t_suspend, t_fetch, t_hash_copy, t_ctx, t_verify, t_a_stopped,
           t_b_fixup, t_b_net, t_b_detach;
};

double now_ms(void);

/* mappable.c: the gfns that map in both domains (done once, while running) */
int discover_mappable(struct sc *s);

/* memory.c: compare U on both sides by hash, copy the divergent pages;
 * verify: hash every mappable page of both, count mismatches. */
int copy_divergent(struct sc *s, const uint64_t *u, size_t n,
                   struct sync_stats *st);
int verify_all(struct sc *s, struct sync_stats *st);
int repair_and_learn(struct sc *s, struct sync_stats *st);

/* sync.c: one sync A -> B through the guest interface's sync stops
 * (vsmr_guest_stop_for_sync, vsmr_guest_backup_*); final: A stays
 * stopped, B is reconnected but not started (backup_resume starts it). */
int sync_once(struct sc *s, struct sync_stats *st, bool final);
int backup_resume(struct sc *s);

#endif
