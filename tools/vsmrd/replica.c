/*
 * replica.c - the guest side of a replica (replica.h): committed log
 * entries become guest inputs or syncs, sync frames go to the engine, the
 * primary proposes SYNC entries when the trigger says so, outputs the
 * engine releases go to the client service, and failures move the
 * replica between protected, unprotected and promoted.
 *
 * With a protection_id (xl vsmr draws one per start), the log's entries
 * before the PROTECT entry carrying it belong to an earlier protection
 * (a witness keeps its log across them): both sides skip them, and the
 * primary serves only once its PROTECT entry has committed.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "common/err.h"
#include "logline.h"
#include "replica.h"
#include "service.h"
#include "sync/engine.h"
#include "sync/trigger.h"
#include "vsmr/sim.h"
#include "xenio.h"

#define SYNC_FRAME_TIMEOUT_MS 5000

struct replica {
    struct vsmr_config cfg;
    struct loop *loop;
    struct node *node;
    vsmr_guest *guest;
    struct vsmr_engine *engine;
    struct vsmr_trigger trigger;
    struct service *service;      /* sim guest: clients over client_listen */
    struct xenio *xenio;          /* Xen guest: its vif's frames */
    uint64_t io_committed;        /* last epoch passed to xenio */
    uint32_t peer;                /* the other VM-running replica */
    bool is_primary;              /* sync role from the configuration */
    bool synced;                  /* the guest holds the protected state */
    bool promoted;
    bool peer_up;
    bool unprotected;             /* the marker committed: outputs flow */
    bool marker_proposed;
    uint64_t stale_epoch;         /* committed epoch when state was lost */
    uint64_t last_epoch;          /* highest SYNC applied */
    bool sync_proposed;           /* a SYNC is in the log, not applied yet */
    uint64_t activity;            /* inputs since the last sync */
    int64_t epoch_start_ms;
    uint64_t pending_epoch;       /* a SYNC entry met while still syncing */
    uint64_t pending_index;
    bool peer_unsynced;           /* primary: no commit since the backup
                                     (re)connected: maybe a full sync */
    uint64_t seen_committed;      /* the committed epoch last noted */
    uint64_t inputs_fed, inputs_skipped;
    bool protection_started;      /* our PROTECT entry committed (or none
                                     is configured) */
    bool protect_proposed;
    uint64_t earlier_skipped;     /* entries of an earlier protection */
};

/* --- guest I/O for the sim guest ----------------------------------------- */

static int sim_inject(void *ctx, const void *in, size_t len)
{
    return vsmr_sim_send(ctx, in, len);
}

static int sim_collect(void *ctx, void *buf, size_t cap, size_t *len)
{
    return vsmr_sim_recv(ctx, buf, cap, len, 0);
}

static int sim_served(void *ctx, bool *all)
{
    *all = vsmr_sim_completed(ctx) == vsmr_sim_sent(ctx);
    return VSMR_OK;
}

/* --- engine callbacks ---------------------------------------------------- */

static int send_to_peer(void *ctx, const uint8_t *frame, size_t len)
{
    struct replica *r = ctx;
    return node_send_frame(r->node, r->peer, frame, len,
                           SYNC_FRAME_TIMEOUT_MS);
}

static void flush_frames(void *ctx)
{
    node_flush(((struct replica *)ctx)->node);
}

static void release_output(void *ctx, const struct vsmr_output *o)
{
    struct replica *r = ctx;
    if (r->service)
        service_release(r->service, o->data, o->len);
}

static void compact_log(void *ctx, uint64_t index)
{
    struct replica *r = ctx;
    node_compact(r->node, index);
}

static void report(void *ctx, const char *line)
{
    struct replica *r = ctx;
    (void)r;
    logline_raw(strstr(line, "aborted") || strstr(line, "rejected")
                    ? VSMR_LOG_WARN : VSMR_LOG_INFO, line);
}

/* Fault injection for the failover tests: VSMR_CRASH_AT=ACTION[:N] kills
 * this process (as kill -9 would) just before the N-th (default 1st)
 * sync action of that name, e.g. "send-pages:3". */
static void before_action(void *ctx, const char *action)
{
    static long seen;
    const char *want = getenv("VSMR_CRASH_AT");
    if (!want)
        return;
    size_t n = strcspn(want, ":");
    if (strlen(action) != n || strncmp(want, action, n) != 0)
        return;
    long nth = want[n] == ':' ? strtol(want + n + 1, NULL, 10) : 1;
    if (++seen >= nth) {
        logline(VSMR_LOG_WARN, "crash_injected", "action=%s", action);
        raise(SIGKILL);
    }
}

/* A Xen guest's outputs wait in the kernel: the primary's go out once
 * the epoch that made them commits; a backup keeps only those since the
 * last commit (released if it is promoted before the next). */
static void xen_outputs_committed(struct replica *r, uint64_t epoch)
{
    int rc = VSMR_OK;
    if (r->promoted)
        return;
    if (r->is_primary)
        rc = xenio_commit(r->xenio, epoch);
    else
        rc = xenio_drop_held(r->xenio);
    if (rc < 0)
        logline(VSMR_LOG_ERROR, "output_buffer_failed", "epoch=%llu "
                "reason=\"%s\"", (unsigned long long)epoch, vsmr_errmsg());
}

/* A backup holds the protected state again once an epoch commits after
 * it lost it (at start, or at an unprotected marker). */
static void note_commits(struct replica *r)
{
    struct vsmr_sync_status st;
    vsmr_engine_status(r->engine, &st);
    if (st.committed_epoch > r->seen_committed) {
        r->seen_committed = st.committed_epoch;
        r->peer_unsynced = false;
    }
    if (r->xenio && st.committed_epoch > r->io_committed) {
        r->io_committed = st.committed_epoch;
        xen_outputs_committed(r, st.committed_epoch);
    }
    if (r->synced || r->is_primary || st.committed_epoch <= r->stale_epoch)
        return;
    r->synced = true;
    node_set_candidate(r->node, true);
    logline(VSMR_LOG_INFO, "backup_synced", "epoch=%llu",
            (unsigned long long)st.committed_epoch);
}

/* The primary may serve when its guest holds the protected state; a
 * backup only once promoted. */
static bool serving(void *ctx)
{
    struct replica *r = ctx;
    return node_is_serving(r->node) && r->protection_started &&
           (r->promoted || (r->is_primary && r->synced));
}

/* The unprotected marker (an empty input) committed: from here on the
 * primary releases outputs without a backup, and a backup's guest no
 * longer holds a state the released outputs agree with. */
static void on_marker(struct replica *r, uint64_t index)
{
    r->marker_proposed = false;
    if (r->is_primary && !r->peer_up) {
        r->unprotected = true;
        vsmr_engine_unprotected(r->engine, true);
        if (r->xenio)
            xenio_release_all(r->xenio);
        logline(VSMR_LOG_WARN, "unprotected", "index=%llu reason=\"no "
                "backup; outputs go out without a sync\"",
                (unsigned long long)index);
    } else if (!r->is_primary && !r->promoted && r->synced) {
        struct vsmr_sync_status st;
        vsmr_engine_status(r->engine, &st);
        r->synced = false;
        r->stale_epoch = st.committed_epoch;
        node_set_candidate(r->node, false);
        logline(VSMR_LOG_WARN, "backup_stale", "index=%llu reason=\"the "
                "primary ran unprotected; a full sync is needed\"",
                (unsigned long long)index);
    }
}

/* --- syncs ----------------------------------------------------------------- */

static void start_sync(struct replica *r, uint64_t epoch, uint64_t index)
{
    /* Still in an older epoch (a backup replaying the log after a restart
     * met a stale SYNC entry): the latest entry waits for it to end. */
    if (vsmr_engine_syncing(r->engine)) {
        r->pending_epoch = epoch;
        r->pending_index = index;
        return;
    }
    r->pending_epoch = 0;
    r->epoch_start_ms = vsmr_now_ms();
    /* An unsynced backup has no state worth comparing: all pages. */
    if (!r->is_primary && !r->synced)
        vsmr_engine_full_sync(r->engine);
    /* Outputs made so far belong to this epoch or earlier. */
    if (r->xenio && r->is_primary && !r->promoted &&
        xenio_epoch_end(r->xenio, epoch) < 0)
        logline(VSMR_LOG_ERROR, "output_buffer_failed", "epoch=%llu "
                "reason=\"%s\"", (unsigned long long)epoch, vsmr_errmsg());
    if (vsmr_engine_sync(r->engine, epoch, index) < 0 &&
        !vsmr_engine_syncing(r->engine))
        logline(VSMR_LOG_WARN, "sync_not_started", "epoch=%llu "
                "reason=\"%s\"", (unsigned long long)epoch, vsmr_errmsg());
}

static void start_pending_sync(struct replica *r)
{
    if (r->pending_epoch && !vsmr_engine_syncing(r->engine))
        start_sync(r, r->pending_epoch, r->pending_index);
}

/* --- node hooks ------------------------------------------------------------ */

/* An entry before our PROTECT entry: an earlier protection's (skipped),
 * or the PROTECT entry itself. True when e was consumed here. */
static bool before_protection(struct replica *r, const struct vsmr_entry *e)
{
    if (r->protection_started)
        return false;
    if (e->type == VSMR_ENTRY_PROTECT && e->aux == r->cfg.protection_id) {
        r->protection_started = true;
        r->protect_proposed = false;
        logline(VSMR_LOG_INFO, "protection_started", "index=%llu "
                "earlier_entries_skipped=%llu", (unsigned long long)e->index,
                (unsigned long long)r->earlier_skipped);
        return true;
    }
    if (e->type != VSMR_ENTRY_NOOP && !r->earlier_skipped++)
        logline(VSMR_LOG_INFO, "earlier_protection_skipped", "index=%llu "
                "reason=\"logged before this protection's PROTECT entry "
                "(a witness keeps its log across protections)\"",
                (unsigned long long)e->index);
    return true;
}

static void on_committed(void *ctx, const struct vsmr_entry *ents, size_t n)
{
    struct replica *r = ctx;
    for (size_t i = 0; i < n; i++) {
        const struct vsmr_entry *e = &ents[i];
        if (before_protection(r, e) || e->type == VSMR_ENTRY_PROTECT)
            continue;
        if (e->type == VSMR_ENTRY_SYNC) {
            r->sync_proposed = false;
            if (e->aux <= r->last_epoch)
                continue;           /* replayed after a restart */
            r->last_epoch = e->aux;
            r->activity = 0;
            start_sync(r, e->aux, e->index);
        } else if (e->type == VSMR_ENTRY_NORMAL && e->len == 0) {
            on_marker(r, e->index);
        } else if (e->type == VSMR_ENTRY_NORMAL) {
            r->activity++;
            /* A backup without the primary's state skips inputs: the full
             * sync that follows brings their effect. */
            if (!r->synced && !r->promoted) {
                r->inputs_skipped++;
                continue;
            }
            r->inputs_fed++;
            if (vsmr_engine_input(r->engine, e->index, e->data, e->len) < 0)
                logline(VSMR_LOG_ERROR, "guest_input_failed", "index=%llu "
                        "reason=\"%s\"", (unsigned long long)e->index,
                        vsmr_errmsg());
        }
    }
    vsmr_engine_poll(r->engine);
    note_commits(r);
}

static void on_frame(void *ctx, uint32_t peer, const uint8_t *data, size_t len)
{
    struct replica *r = ctx;
    if (peer != r->peer) {
        logline(VSMR_LOG_WARN, "sync_frame_rejected", "peer=%u reason=\"only "
                "the other VM replica (%u) syncs with this one\"", peer,
                r->peer);
        return;
    }
    vsmr_engine_message(r->engine, data, len);
    note_commits(r);
    start_pending_sync(r);
}

static void on_peer(void *ctx, uint32_t peer, bool up)
{
    struct replica *r = ctx;
    if (peer != r->peer || r->peer_up == up)
        return;
    r->peer_up = up;
    if (up)
        r->peer_unsynced = true;
    if (!up && vsmr_engine_syncing(r->engine))
        vsmr_engine_abort(r->engine, "the other VM replica went away");
    /* A Remus backup has no state of its own to compare: whenever it
     * (re)connects, the next checkpoint carries every page. */
    if (up && r->is_primary && r->cfg.remus)
        vsmr_engine_full_sync(r->engine);
    if (r->is_primary && !r->promoted && up && r->unprotected) {
        /* Outputs are held again; the next sync (a full one: the backup
         * saw the marker) protects the guest again. */
        r->unprotected = false;
        vsmr_engine_unprotected(r->engine, false);
        if (r->xenio)
            xenio_hold(r->xenio);
        logline(VSMR_LOG_INFO, "protecting", "backup=%u", peer);
    }
}

static void on_role(void *ctx, enum vsmr_log_role role, uint32_t leader,
                    uint64_t term)
{
    struct replica *r = ctx;
    r->sync_proposed = false;
    r->marker_proposed = false;
    r->protect_proposed = false;
    if (r->is_primary && leader == r->peer && r->synced) {
        /* The backup took over: its guest, not ours, carries on. */
        r->synced = false;
        logline(VSMR_LOG_WARN, "primary_stale", "term=%llu reason=\"the "
                "backup was promoted; this guest no longer holds the "
                "protected state\"", (unsigned long long)term);
    }
    if (role == VSMR_LOG_LEADER && r->is_primary && !r->synced) {
        logline(VSMR_LOG_WARN, "leadership_handoff", "to=%u reason=\"this "
                "primary's guest was restarted and holds no protected "
                "state\"", r->peer);
        node_transfer_leadership(r->node, r->peer);
        return;
    }
    if (role != VSMR_LOG_LEADER || r->is_primary || r->promoted)
        return;
    if (!r->synced) {
        logline(VSMR_LOG_ERROR, "promotion_refused", "term=%llu reason=\"this "
                "backup never completed a sync; its guest does not hold the "
                "primary's state\"", (unsigned long long)term);
        node_transfer_leadership(r->node, r->peer);   /* back to the primary */
        return;
    }
    r->promoted = true;
    int rc = vsmr_engine_promote(r->engine);
    /* The guest's vif joins the production bridge first, so the held
     * outputs go out there. Promotion goes on without it: the guest is
     * the protected state, even if only the operator can reach it now. */
    char bridge_msg[512] = "";
    if (rc == VSMR_OK && r->xenio && xenio_takeover(r->xenio) < 0)
        snprintf(bridge_msg, sizeof bridge_msg, " reason=\"%s\"",
                 vsmr_errmsg());
    if (rc == VSMR_OK && r->xenio)
        rc = xenio_release_all(r->xenio);
    logline(rc < 0 || bridge_msg[0] ? VSMR_LOG_ERROR : VSMR_LOG_INFO,
            "promoted", "term=%llu epoch=%llu%s%s%s",
            (unsigned long long)term, (unsigned long long)r->last_epoch,
            rc < 0 ? " reason=" : "", rc < 0 ? vsmr_errmsg() : "",
            rc < 0 ? "" : bridge_msg);
}

static void on_status(void *ctx, struct strbuf *out)
{
    struct replica *r = ctx;
    struct vsmr_sync_status st;
    vsmr_engine_status(r->engine, &st);
    const struct vsmr_epoch_metrics *m = vsmr_engine_last(r->engine);
    uint64_t epochs, bytes, raw;
    double paused;
    vsmr_engine_totals(r->engine, &epochs, &bytes, &raw, &paused);
    sb_printf(out, "guest backend=%s pages=%llu mode=%s sync_role=%s "
              "synced=%s promoted=%s protected=%s inputs_fed=%llu "
              "inputs_skipped=%llu held_bytes=%zu protection_started=%s "
              "earlier_skipped=%llu\n",
              vsmr_guest_backend(r->guest),
              (unsigned long long)vsmr_guest_page_count(r->guest),
              r->cfg.remus ? "remus" : "vsmr",
              r->is_primary ? "primary" : "backup",
              r->synced ? "yes" : "no",
              r->promoted ? "yes" : "no",
              r->unprotected || r->promoted ? "no" : r->peer_up ? "yes" : "no",
              (unsigned long long)r->inputs_fed,
              (unsigned long long)r->inputs_skipped,
              vsmr_engine_held_bytes(r->engine),
              r->protection_started ? "yes" : "no",
              (unsigned long long)r->earlier_skipped);
    sb_printf(out, "sync epoch=%llu phase=%s committed_epoch=%llu "
              "aborted=%llu epochs=%llu bytes_sent=%llu bytes_raw=%llu "
              "ms_paused=%.1f last_reason=\"%s\"\n",
              (unsigned long long)st.epoch, vsmr_sync_phase_name(st.phase),
              (unsigned long long)st.committed_epoch,
              (unsigned long long)st.aborted, (unsigned long long)epochs,
              (unsigned long long)bytes, (unsigned long long)raw, paused,
              st.reason);
    sb_printf(out, "last_epoch epoch=%llu committed=%s dirty_local=%llu "
              "dirty_peer=%llu union=%llu divergent=%llu bytes_sent=%llu "
              "bytes_raw=%llu inputs=%llu outputs_held=%llu ms_paused=%.2f "
              "ms_hash=%.2f ms_transfer=%.2f\n", (unsigned long long)m->epoch,
              m->committed ? "yes" : "no",
              (unsigned long long)m->dirty_local,
              (unsigned long long)m->dirty_peer,
              (unsigned long long)m->union_pages,
              (unsigned long long)m->divergent,
              (unsigned long long)m->bytes_sent,
              (unsigned long long)m->bytes_raw,
              (unsigned long long)m->inputs,
              (unsigned long long)m->outputs_held, m->ms_paused, m->ms_hash,
              m->ms_transfer);
    if (r->service)
        service_status(r->service, out);
    if (r->xenio) {
        struct xenio_stats x;
        xenio_stats(r->xenio, &x);
        sb_printf(out, "network vif=%s captured=%llu proposed_entries=%llu "
                  "dropped_not_serving=%llu dropped_oversize=%llu "
                  "injected=%llu inject_failures=%llu\n", r->cfg.guest_vif,
                  (unsigned long long)x.captured,
                  (unsigned long long)x.proposed_entries,
                  (unsigned long long)x.not_leader_drops,
                  (unsigned long long)x.oversize_drops,
                  (unsigned long long)x.injected,
                  (unsigned long long)x.inject_failures);
    }
}

/* --- the trigger, every millisecond ---------------------------------------- */

static void propose_sync(struct replica *r, enum vsmr_trigger_reason why)
{
    struct vsmr_entry e = {.type = VSMR_ENTRY_SYNC, .aux = r->last_epoch + 1};
    uint64_t index, term;
    if (node_propose(r->node, &e, 1, &index, &term) < 0)
        return;
    r->sync_proposed = true;
    vsmr_trigger_synced(&r->trigger, (uint64_t)vsmr_now_ms());
    logline(VSMR_LOG_DEBUG, "sync_proposed", "epoch=%llu index=%llu "
            "reason=%s", (unsigned long long)e.aux,
            (unsigned long long)index, vsmr_trigger_reason_name(why));
}

/* The primary's first entry of a protection; inputs count from it. */
static void propose_protect(struct replica *r)
{
    struct vsmr_entry e = {.type = VSMR_ENTRY_PROTECT,
                           .aux = r->cfg.protection_id};
    uint64_t index, term;
    if (node_propose(r->node, &e, 1, &index, &term) < 0)
        return;
    r->protect_proposed = true;
    logline(VSMR_LOG_INFO, "protect_proposed", "index=%llu term=%llu",
            (unsigned long long)index, (unsigned long long)term);
}

static void propose_marker(struct replica *r)
{
    struct vsmr_entry e = {.type = VSMR_ENTRY_NORMAL, .len = 0};
    uint64_t index, term;
    if (node_propose(r->node, &e, 1, &index, &term) == VSMR_OK)
        r->marker_proposed = true;
}

/* A full sync (a backup without the protected state compares every page:
 * 32,787 for a 128 MiB Xen guest, seconds under emulation) gets longer:
 * with the plain timeout, the first sync of a two-host lab run was aborted
 * 22 times before one fit. */
#define FULL_SYNC_TIMEOUT_FACTOR 6

static int64_t epoch_timeout_ms(const struct replica *r)
{
    bool full = r->is_primary ? r->peer_unsynced : !r->synced;
    return (int64_t)r->cfg.sync_timeout_ms *
           (full ? FULL_SYNC_TIMEOUT_FACTOR : 1);
}

static void on_timer(void *ctx)
{
    struct replica *r = ctx;
    vsmr_engine_poll(r->engine);
    note_commits(r);
    start_pending_sync(r);
    int64_t now = vsmr_now_ms();
    if (vsmr_engine_syncing(r->engine)) {
        /* The interval counts from the end of the last sync, so the guest
         * runs at least sync_min_ms between two (as Remus's -i does);
         * counted from the proposal, a sync longer than the interval was
         * followed by the next at once and the guest hardly ran. */
        vsmr_trigger_synced(&r->trigger, (uint64_t)now);
        if (now - r->epoch_start_ms > epoch_timeout_ms(r))
            vsmr_engine_abort(r->engine, "the epoch took longer than "
                                         "sync_timeout_ms");
        return;
    }
    if (r->is_primary && !r->protection_started && !r->protect_proposed &&
        node_is_serving(r->node))
        propose_protect(r);
    if (!r->is_primary || r->promoted || !serving(r))
        return;
    if (!r->peer_up) {
        /* Releasing without a backup needs the log's word that this is
         * still the primary of a majority: an entry that commits. */
        if (!r->unprotected && !r->marker_proposed)
            propose_marker(r);
        return;
    }
    if (r->sync_proposed)
        return;
    /* A backup still coming back from the last sync would keep the
     * primary stopped in the next one: the guest runs on meanwhile. */
    if (!vsmr_engine_backup_ready(r->engine, r->cfg.sync_backup_wait_ms))
        return;
    enum vsmr_trigger_reason why = vsmr_trigger_check(
        &r->trigger, (uint64_t)now, vsmr_engine_idle(r->engine),
        r->activity > 0 || vsmr_engine_held_bytes(r->engine) > 0,
        vsmr_engine_held_bytes(r->engine));
    if (why != VSMR_TRIGGER_NONE)
        propose_sync(r, why);
}

static void on_guest_output(void *ctx, uint32_t events)
{
    struct replica *r = ctx;
    vsmr_engine_poll(r->engine);
}

/* --- start and stop -------------------------------------------------------- */

static bool is_xen(const struct replica *r)
{
    return strncmp(r->cfg.guest, "xen:", 4) == 0;
}

/* A Xen guest's network is its I/O; the sim guest's is a socket. */
static int open_guest(struct replica *r)
{
    int rc = vsmr_guest_open(is_xen(r) ? "xen" : "sim", r->cfg.guest + 4,
                             &r->guest);
    if (rc == VSMR_OK && is_xen(r))
        rc = xenio_open(r->cfg.guest_vif, r->loop, r->node, serving, r,
                        &r->xenio);
    if (rc == VSMR_OK && is_xen(r) && r->cfg.guest_bridge[0])
        rc = xenio_set_bridge(r->xenio, r->guest, r->cfg.guest_bridge);
    if (rc == VSMR_OK && !is_xen(r))
        rc = loop_add(r->loop, vsmr_sim_fd(r->guest), EPOLLIN,
                      on_guest_output, r);
    return rc;
}

static int open_engine(struct replica *r)
{
    struct vsmr_engine_config ec = {
        .role = r->is_primary ? VSMR_SYNC_PRIMARY : VSMR_SYNC_BACKUP,
        .mode = r->cfg.remus ? VSMR_SYNC_MODE_REMUS : VSMR_SYNC_MODE_VSMR,
        .verify = r->cfg.verify,
        .compress = r->cfg.sync_compress ? VSMR_SYNC_COMPRESS_ZSTD
                                         : VSMR_SYNC_COMPRESS_OFF,
        .hash_threads = r->cfg.hash_threads,
        .io = {sim_inject, sim_collect, sim_served, r->guest},
        .send = send_to_peer, .release = release_output,
        .compact = compact_log, .report = report,
        .before_action = before_action, .flush = flush_frames, .ctx = r,
    };
    struct vsmr_trigger_config tc = {
        .min_interval_ms = r->cfg.sync_min_ms,
        .max_interval_ms = r->cfg.sync_max_ms,
        .idle_checks = r->cfg.sync_idle_checks,
        .max_held_bytes = r->cfg.max_held_bytes,
    };
    if (r->xenio)
        ec.io = (struct vsmr_guest_io){xenio_inject, xenio_collect,
                                       xenio_served, r->xenio};
    int rc = vsmr_trigger_init(&r->trigger, &tc, (uint64_t)vsmr_now_ms());
    if (rc == VSMR_OK)
        rc = vsmr_engine_new(&ec, r->guest, &r->engine);
    return rc;
}

int replica_start(const struct vsmr_config *cfg, struct loop *l,
                  struct node *n, struct replica **out)
{
    struct replica *r = calloc(1, sizeof *r);
    if (!r)
        return vsmr_fail(VSMR_ENOMEM, "replica: out of memory");
    r->cfg = *cfg;
    r->loop = l;
    r->node = n;
    r->is_primary = cfg->role == VSMR_ROLE_PRIMARY;
    /* Only a log begun by this process can hold an earlier protection's
     * entries (xl vsmr empties data_dir at each start); a restart with
     * its data_dir keeps the protection it was in, whose PROTECT entry
     * may be compacted away by now. */
    r->protection_started = cfg->protection_id == 0 || !node_started_fresh(n);
    /* A primary whose log is new starts the protected state; any other
     * start has a fresh guest that must receive it from the other side. */
    r->synced = r->is_primary && node_started_fresh(n);
    /* A backup without the protected state never campaigns: had it won,
     * it could not serve, and the primary would take itself for stale
     * (seen at start on two emulated hosts: nobody served). */
    if (!r->is_primary)
        node_set_candidate(n, false);
    r->peer = node_vm_peer(n);
    int rc = r->peer ? VSMR_OK
                     : vsmr_fail(VSMR_EINVAL, "%s: no other VM-running peer "
                                 "to sync with", cfg->file);
    if (rc == VSMR_OK)
        rc = open_guest(r);
    if (rc == VSMR_OK)
        rc = open_engine(r);
    if (rc == VSMR_OK)
        rc = loop_every(l, 1, on_timer, r);
    if (rc == VSMR_OK && cfg->has_client_listen)
        rc = service_start(&cfg->client_addr, cfg->client_len, l, n,
                           serving, r, &r->service);
    if (rc < 0) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", vsmr_errmsg());
        replica_stop(r);
        return vsmr_fail(rc, "%s", msg);
    }
    struct node_hooks h = {
        .committed = on_committed, .frame = on_frame, .peer = on_peer,
        .role = on_role, .status = on_status, .ctx = r,
    };
    node_set_hooks(n, &h);
    logline(VSMR_LOG_INFO, "guest_started", "guest=%s pages=%llu mode=%s "
            "verify=%s sync_compress=%s", cfg->guest,
            (unsigned long long)vsmr_guest_page_count(r->guest),
            cfg->remus ? "remus" : "vsmr", cfg->verify ? "on" : "off",
            cfg->sync_compress ? "zstd" : "off");
    *out = r;
    return VSMR_OK;
}

void replica_stop(struct replica *r)
{
    if (!r)
        return;
    service_stop(r->service);
    /* A clean stop leaves the guest unprotected, not cut off: a primary's
     * held outputs go out. A backup's never do. */
    if (r->xenio && (r->is_primary || r->promoted) && r->synced)
        xenio_release_all(r->xenio);
    xenio_close(r->xenio);
    if (r->guest && !is_xen(r) && vsmr_sim_fd(r->guest) >= 0)
        loop_del(r->loop, vsmr_sim_fd(r->guest));
    vsmr_engine_free(r->engine);
    vsmr_guest_close(r->guest);
    free(r);
}
