/*
 * sync.h - the sync protocol of one replica as a pure state machine.
 *
 * No I/O, no clock, no threads: the driver reports what happened (the
 * guest paused, a bitmap was fetched, a peer message arrived) and takes
 * the actions the core asks for, in order, from vsmr_sync_next_action().
 * The same core runs on the primary and on the backup; the witness runs
 * none. One epoch, VSMR mode (docs/sync-protocol.md):
 *
 *   backup:  PAUSE after input i -> FETCH_DIRTY -> SEND_DIRTY
 *   primary: (backup's bitmap) -> PAUSE after input i -> FETCH_DIRTY
 *            -> SEND_DIRTY (its guest runs, with no later input, until
 *            the backup has stopped)
 *   both:    (own + peer bitmap) -> HASH the union U
 *   backup:  SEND_HASHES                   primary: (peer hashes) ->
 *                                          SEND_PAGES of the divergent set V
 *   backup:  (DONE from primary) -> APPLY -> [VERIFY] -> SEND_ACK
 *            -> DROP_OUTPUTS, COMPACT, RESUME
 *   primary: [VERIFY] + (ACK) -> RELEASE_OUTPUTS, COMPACT, RESUME
 *
 * Remus mode: the backup guest never runs; the primary sends every dirty
 * page (no exchange, no hashing) and the backup applies and acks.
 */
#ifndef VSMR_SYNC_SYNC_H
#define VSMR_SYNC_SYNC_H

#include <stdbool.h>
#include <stdint.h>

enum vsmr_sync_role { VSMR_SYNC_PRIMARY = 1, VSMR_SYNC_BACKUP = 2 };
enum vsmr_sync_mode { VSMR_SYNC_MODE_VSMR = 1, VSMR_SYNC_MODE_REMUS = 2 };

enum vsmr_sync_phase {
    VSMR_SYNC_RUNNING = 0,   /* between syncs */
    VSMR_SYNC_PAUSING,       /* serving inputs up to the SYNC index */
    VSMR_SYNC_DIRTY,         /* fetching / exchanging dirty bitmaps */
    VSMR_SYNC_HASHING,       /* hashing the union */
    VSMR_SYNC_COMPARING,     /* primary: waiting for the backup's hashes */
    VSMR_SYNC_TRANSFER,      /* pages travelling primary -> backup */
    VSMR_SYNC_APPLYING,      /* backup: applying staged pages + context */
    VSMR_SYNC_VERIFYING,     /* both: hashing all memory (verify mode) */
    VSMR_SYNC_ACKING,        /* primary: waiting for the backup's ack */
};

enum vsmr_sync_action {
    VSMR_SYNC_ACT_NONE = 0,
    VSMR_SYNC_ACT_PAUSE,           /* serve inputs <= index, then pause */
    VSMR_SYNC_ACT_FETCH_DIRTY,     /* fetch-and-clear the dirty bitmap */
    VSMR_SYNC_ACT_SEND_DIRTY,      /* send it to the peer */
    VSMR_SYNC_ACT_HASH,            /* hash the union of both bitmaps */
    VSMR_SYNC_ACT_SEND_HASHES,     /* backup: send the union's hashes */
    VSMR_SYNC_ACT_SEND_PAGES,      /* primary: divergent (Remus: dirty)
                                      pages, context, then DONE */
    VSMR_SYNC_ACT_APPLY,           /* backup: apply staged pages, context */
    VSMR_SYNC_ACT_VERIFY,          /* digest of all memory */
    VSMR_SYNC_ACT_SEND_ACK,        /* backup: ack with its digest */
    VSMR_SYNC_ACT_RELEASE_OUTPUTS, /* primary: outputs of this epoch out */
    VSMR_SYNC_ACT_DROP_OUTPUTS,    /* backup: its own outputs are moot */
    VSMR_SYNC_ACT_COMPACT,         /* compact the log up to index */
    VSMR_SYNC_ACT_RESUME,          /* unpause the guest */
    VSMR_SYNC_ACT_ABORTED,         /* the epoch failed (see reason) */
};

struct vsmr_sync_config {
    enum vsmr_sync_role role;
    enum vsmr_sync_mode mode;
    bool verify;              /* hash all memory after each sync */
};

struct vsmr_sync_status {
    enum vsmr_sync_phase phase;
    uint64_t epoch;           /* current or last epoch */
    uint64_t index;           /* its SYNC index in the log */
    uint64_t committed_epoch; /* last epoch that completed here */
    uint64_t aborted;         /* epochs that failed */
    const char *reason;       /* why the last one failed */
};

struct vsmr_sync;

int vsmr_sync_new(const struct vsmr_sync_config *cfg, struct vsmr_sync **out);
void vsmr_sync_free(struct vsmr_sync *s);
void vsmr_sync_get_status(const struct vsmr_sync *s,
                          struct vsmr_sync_status *st);

/* The SYNC(epoch) entry at log index was applied here. Epochs increase.
 * VSMR_EINVAL (and nothing starts) for an epoch older than one the peer
 * already sent a message of: a stale entry met while catching up. */
int vsmr_sync_begin(struct vsmr_sync *s, uint64_t epoch, uint64_t index);

/* Events from the driver's own work. Each is refused with VSMR_ESTATE when
 * it does not fit the current phase (a driver bug, reported, not fatal). */
int vsmr_sync_paused(struct vsmr_sync *s);
int vsmr_sync_dirty_fetched(struct vsmr_sync *s);
int vsmr_sync_hashed(struct vsmr_sync *s);
int vsmr_sync_pages_sent(struct vsmr_sync *s);
int vsmr_sync_applied(struct vsmr_sync *s);
/* verify mode: the digest of all memory; equal on both sides or the epoch
 * fails with VSMR_EDIVERGED. */
int vsmr_sync_verified(struct vsmr_sync *s, uint64_t digest_lo,
                       uint64_t digest_hi);

/* Events from the peer, for `epoch`. A message for another epoch or out
 * of turn is refused with VSMR_EPROTO (and ignored). */
int vsmr_sync_peer_dirty(struct vsmr_sync *s, uint64_t epoch);
int vsmr_sync_peer_hashes(struct vsmr_sync *s, uint64_t epoch);
int vsmr_sync_peer_done(struct vsmr_sync *s, uint64_t epoch);
int vsmr_sync_peer_ack(struct vsmr_sync *s, uint64_t epoch,
                       uint64_t digest_lo, uint64_t digest_hi);
/* The peer failed, or the driver gave up on the epoch (timeout, local
 * error). The epoch is abandoned: the guest resumes from its own state,
 * and outputs stay held (primary) or kept (backup). */
void vsmr_sync_abort(struct vsmr_sync *s, const char *reason);

/* The next action to take, or VSMR_SYNC_ACT_NONE. */
enum vsmr_sync_action vsmr_sync_next_action(struct vsmr_sync *s);

const char *vsmr_sync_phase_name(enum vsmr_sync_phase p);
const char *vsmr_sync_action_name(enum vsmr_sync_action a);

#endif
