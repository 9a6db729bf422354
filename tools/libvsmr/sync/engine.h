/*
 * engine.h - one replica's guest side of VSMR: feeds committed inputs to
 * its guest, holds the guest's outputs, and carries out the sync protocol
 * (sync.h) on the guest with the hash engine. Messages to the peer leave
 * through a callback; the engine opens no socket and reads no clock
 * beyond timing its own phases for the metrics.
 *
 * The driver (vsmrd, or a test) calls:
 *   vsmr_engine_input()      for each committed input, in log order
 *   vsmr_engine_sync()       for each committed SYNC(epoch) entry
 *   vsmr_engine_message()    for each sync/pages frame from the peer
 *   vsmr_engine_poll()       often: collects outputs, advances the sync
 *   vsmr_engine_abort()      when the peer is lost or an epoch timed out
 *   vsmr_engine_promote()    when this backup becomes the primary
 */
#ifndef VSMR_SYNC_ENGINE_H
#define VSMR_SYNC_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sync/outbuf.h"
#include "sync/sync.h"
#include "vsmr/guest.h"

/* How the engine reaches the guest's inputs and outputs: the sim guest's
 * request socket, or the netback hooks of a Xen domain. */
struct vsmr_guest_io {
    int (*inject)(void *ctx, const void *input, size_t len);
    /* One output into buf; VSMR_EAGAIN when none is waiting. */
    int (*collect)(void *ctx, void *buf, size_t cap, size_t *len);
    /* Whether every injected input has been fully served. */
    int (*served)(void *ctx, bool *all);
    void *ctx;
};

/* How this side sends dirty bitmaps and page batches: in zstd when that
 * saves bytes (the default), or always plain. It receives both. */
enum vsmr_sync_compress {
    VSMR_SYNC_COMPRESS_ZSTD = 0,
    VSMR_SYNC_COMPRESS_OFF = 1,
};

struct vsmr_engine_config {
    enum vsmr_sync_role role;
    enum vsmr_sync_mode mode;
    bool verify;                 /* hash all memory after every sync */
    enum vsmr_sync_compress compress;
    unsigned hash_threads;       /* 0: online CPUs */
    size_t max_held_bytes;       /* output bound; 0: unbounded */
    struct vsmr_guest_io io;
    /* A frame for the peer replica. */
    int (*send)(void *ctx, const uint8_t *frame, size_t len);
    /* An output leaves for the world (primary; promoted backup). */
    void (*release)(void *ctx, const struct vsmr_output *o);
    /* The log may be compacted up to index. */
    void (*compact)(void *ctx, uint64_t index);
    /* One line per epoch for the log (metrics), and failures. */
    void (*report)(void *ctx, const char *line);
    /* Called before each action of the sync core (tests inject faults
     * here: a crash at a chosen step). May be NULL. */
    void (*before_action)(void *ctx, const char *action);
    /* Frames sent so far leave now: called before a guest step that can
     * take long (Xen's backup end takes a second under emulation), so
     * the peer is not kept waiting for them. May be NULL. */
    void (*flush)(void *ctx);
    void *ctx;
};

/* Figures of one epoch, as the metrics and the control socket show them. */
struct vsmr_epoch_metrics {
    uint64_t epoch, index;
    uint64_t dirty_local, dirty_peer, union_pages, divergent;
    uint64_t bytes_sent;         /* sync frames this side sent */
    uint64_t bytes_raw;          /* the same frames, uncompressed */
    uint64_t inputs, outputs_held, outputs_released;
    /* milliseconds: the primary running on until the backup stopped (not
     * a stall); then waiting for inputs to be served, dirty exchange,
     * hashing, comparing+transfer, apply, verify, ack; and paused total */
    double ms_await_peer, ms_drain, ms_dirty, ms_hash, ms_transfer,
           ms_apply, ms_verify, ms_ack, ms_paused;
    bool committed;
};

struct vsmr_engine;

int vsmr_engine_new(const struct vsmr_engine_config *cfg, vsmr_guest *g,
                    struct vsmr_engine **out);
void vsmr_engine_free(struct vsmr_engine *e);

int vsmr_engine_input(struct vsmr_engine *e, uint64_t index,
                      const void *data, size_t len);
int vsmr_engine_sync(struct vsmr_engine *e, uint64_t epoch, uint64_t index);
int vsmr_engine_message(struct vsmr_engine *e, const uint8_t *frame,
                        size_t len);
/* Collects outputs and advances the sync; returns VSMR_OK, or an error
 * from the guest (the epoch is then aborted and the guest resumed). */
int vsmr_engine_poll(struct vsmr_engine *e);
void vsmr_engine_abort(struct vsmr_engine *e, const char *reason);
/* This backup is now the primary: its held outputs go out, later ones
 * go out as soon as produced until a backup joins again. */
int vsmr_engine_promote(struct vsmr_engine *e);
/* No backup any more (it failed): release held outputs and run
 * unprotected until one is back. */
void vsmr_engine_unprotected(struct vsmr_engine *e, bool unprotected);

/* The next epoch compares every page, not only the dirty ones (a backup
 * that starts without the primary's state). */
void vsmr_engine_full_sync(struct vsmr_engine *e);

/* Primary: whether the backup said it runs again after the last
 * committed sync (its devices reconnected: SYNC_READY), or max_wait_ms
 * passed since that commit. A sync proposed before then stops the primary
 * until the backup gets there. Always true elsewhere. */
bool vsmr_engine_backup_ready(const struct vsmr_engine *e,
                              uint32_t max_wait_ms);
bool vsmr_engine_syncing(const struct vsmr_engine *e);
/* Whether the guest is idle (no input being served, no output waiting):
 * the idle trigger's observation. */
bool vsmr_engine_idle(struct vsmr_engine *e);
size_t vsmr_engine_held_bytes(const struct vsmr_engine *e);
void vsmr_engine_status(const struct vsmr_engine *e,
                        struct vsmr_sync_status *st);
/* The last completed (or aborted) epoch's figures. */
const struct vsmr_epoch_metrics *vsmr_engine_last(const struct vsmr_engine *e);
/* Totals since start. */
void vsmr_engine_totals(const struct vsmr_engine *e, uint64_t *epochs,
                        uint64_t *bytes_sent, uint64_t *bytes_raw,
                        double *ms_paused);

#endif
