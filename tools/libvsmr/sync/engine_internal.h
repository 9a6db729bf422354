/*
 * engine_internal.h - the engine's handle, shared by engine.c (inputs,
 * outputs, the action loop) and engine_xfer.c (bitmaps, hashes, pages).
 */
#ifndef VSMR_SYNC_ENGINE_INTERNAL_H
#define VSMR_SYNC_ENGINE_INTERNAL_H

#include "sync/engine.h"
#include "vsmr/hash.h"
#include "wire/wire_sync.h"

/* zstd level of sync frames: compression runs while the primary is
 * paused, so speed first (docs/benchmarks.md, "Compressed sync frames"). */
#define ENGINE_ZSTD_LEVEL 1

struct pending_input {
    uint64_t index;
    uint32_t len;
    uint8_t *data;
};

struct vsmr_engine {
    struct vsmr_engine_config cfg;
    vsmr_guest *guest;
    vsmr_pool *pool;
    struct vsmr_sync *sync;
    struct vsmr_outbuf *held;

    uint64_t pages;
    size_t words;
    uint64_t *dirty_local;           /* dirty since the last commit */
    uint64_t *dirty_peer;            /* the peer's, then the union */
    uint64_t *fetched;        /* a fetch lands here first */
    bool have_union;
    uint64_t *union_pfns;            /* sorted, pages long */
    size_t n_union;
    vsmr_page_hash *hash_local, *hash_peer;
    size_t peer_hashes_received;

    uint64_t *stage_pfns;            /* backup: pages received this epoch */
    uint8_t *stage_data;
    size_t staged;
    uint8_t *peer_context;
    size_t peer_context_len;

    struct pending_input *pending;   /* inputs held back during a sync */
    size_t n_pending, cap_pending;

    bool waiting_served;             /* PAUSE: draining inputs <= index */
    bool promoted, unprotected;
    bool needs_copy;                 /* backup held until a sync commits */
    bool continue_pending;           /* primary: continue failed, retry */
    bool awaiting_devices;           /* backup: ended, devices not back */
    double t_restarted, t_devices_checked;
    double t_committed;              /* the last commit here */
    uint64_t peer_ready_epoch;       /* primary: the backup's last READY */
#define ENGINE_MAX_SHARED 256
    uint64_t shared[ENGINE_MAX_SHARED];   /* pages shared with backends */
    bool local_abort;                /* tell the peer when we abort */
    uint64_t verify_lo, verify_hi;   /* this side's digest, verify mode */
    uint8_t *frame;                  /* encode buffer */
    struct vsmr_wire_z *z;           /* zstd both ways (sent: if enabled) */
    uint8_t *scratch;                /* page records being sent */

    struct vsmr_epoch_metrics cur, last;
    double t_last, t_paused;
    uint64_t total_epochs, total_bytes, total_raw;
    double total_paused_ms;
};

double vsmr_engine_now_ms(void);
void vsmr_engine_mark(struct vsmr_engine *e, double *bucket);
void vsmr_engine_report(struct vsmr_engine *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* engine_stops.c: the guest's stops around a sync */
/* A Remus backup: paused from the start, never runs until promoted. */
bool engine_remus_backup(const struct vsmr_engine *e);
/* Its guest stays stopped between syncs (Remus, or a backup that needs a
 * copy): inputs wait in the engine. */
bool engine_guest_held(const struct vsmr_engine *e);
int engine_stop_guest(struct vsmr_engine *e);
int engine_after_fetch(struct vsmr_engine *e);
int engine_begin_copy(struct vsmr_engine *e);
int engine_restart_guest(struct vsmr_engine *e);

/* engine.c: held inputs into the guest */
int engine_feed_pending(struct vsmr_engine *e);

/* engine_ready.c: a backup running again, and the primary told so */
/* ran_end: its copy ended (wait for its devices); else it is held. */
int engine_backup_restarted(struct vsmr_engine *e, bool ran_end);
int engine_poll_devices(struct vsmr_engine *e);
void engine_on_ready(struct vsmr_engine *e, uint64_t epoch);

/* engine_xfer.c */
int engine_send_dirty(struct vsmr_engine *e);
int engine_hash_union(struct vsmr_engine *e);
int engine_send_hashes(struct vsmr_engine *e);
int engine_send_pages(struct vsmr_engine *e);
int engine_apply(struct vsmr_engine *e);
int engine_verify(struct vsmr_engine *e, uint64_t *lo, uint64_t *hi);
int engine_send_ack(struct vsmr_engine *e, uint64_t lo, uint64_t hi);
int engine_send_abort(struct vsmr_engine *e, const char *reason);
int engine_send_abort_epoch(struct vsmr_engine *e, uint64_t epoch,
                            const char *reason);
int engine_on_frame(struct vsmr_engine *e, const uint8_t *frame, size_t len);
void engine_clear_epoch(struct vsmr_engine *e);

#endif
