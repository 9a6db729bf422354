/*
 * test_engine.c - the sync protocol end to end on two sim guests in one
 * process, joined by in-memory queues: memory identical after every sync
 * (verify mode), outputs released only after their epoch commits, only
 * divergent pages travel, Remus mode as the baseline, aborts in every
 * phase leave both guests running and the next sync repairs them, hostile
 * frames are refused; the guest's sync steps (stop/continue, backup
 * prepare/begin/end) come in the engine's order, and a failure at each
 * leaves both guests running or held until the next sync; a backup
 * whose devices come back late holds its inputs and the primary's next
 * sync waits for its SYNC_READY; a side that sends zstd frames and one
 * that sends plain ones sync as well as two alike, and the zstd side's
 * bytes sent fall below its raw bytes.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "simtest.h"
#include "sync/engine.h"
#include "vsmr/hash.h"
#include "vsmr/sim.h"

#define SPEC "pages=2048,workers=4"
#define MAXQ 4096

struct frame { size_t len; uint8_t *data; };
struct side {
    vsmr_guest *g;
    struct vsmr_engine *e;
    struct frame q[MAXQ];        /* frames on their way TO this side */
    size_t qn;
    struct side *peer;
    uint64_t released, released_bad;
    bool drop_outgoing;          /* simulate a cut link */
    char log[8192];              /* engine actions and guest sync steps */
};

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

static int send_to_peer(void *ctx, const uint8_t *frame, size_t len)
{
    struct side *s = ctx;
    if (s->drop_outgoing)
        return VSMR_OK;
    ck_assert_uint_lt(s->peer->qn, MAXQ);
    struct frame *f = &s->peer->q[s->peer->qn++];
    f->data = malloc(len);
    memcpy(f->data, frame, len);
    f->len = len;
    return VSMR_OK;
}

static void on_release(void *ctx, const struct vsmr_output *o)
{
    struct side *s = ctx;
    struct vsmr_sync_status st;
    vsmr_engine_status(s->e, &st);
    s->released++;
    if (o->epoch > st.committed_epoch)   /* released before its commit */
        s->released_bad++;
}

/* Appends the guest's sync steps so far, then the action, to the log: the
 * order in which the engine called them. */
static void log_steps(struct side *s, const char *action)
{
    char steps[512];
    vsmr_sim_sync_trace(s->g, steps, sizeof steps);
    size_t len = strlen(s->log);
    snprintf(s->log + len, sizeof s->log - len, "%s%s [%s]",
             steps[0] ? " " : "", steps, action);
}

static void on_action(void *ctx, const char *action)
{
    log_steps(ctx, action);
}

static void make_side(struct side *s, enum vsmr_sync_role role,
                      enum vsmr_sync_mode mode, enum vsmr_sync_compress z)
{
    memset(s, 0, sizeof *s);
    s->g = simtest_open(SPEC);
    struct vsmr_engine_config c = {
        .role = role, .mode = mode, .verify = true, .compress = z,
        .hash_threads = 2,
        .io = {sim_inject, sim_collect, sim_served, s->g},
        .send = send_to_peer, .release = on_release,
        .before_action = on_action, .ctx = s,
    };
    ck_assert_msg(vsmr_engine_new(&c, s->g, &s->e) == VSMR_OK, "%s",
                  vsmr_errmsg());
}

/* A primary and a backup joined to each other, each sending zstd frames
 * or plain ones. */
static void make_pair_z(struct side *p, struct side *b,
                        enum vsmr_sync_mode mode, enum vsmr_sync_compress pz,
                        enum vsmr_sync_compress bz)
{
    make_side(p, VSMR_SYNC_PRIMARY, mode, pz);
    make_side(b, VSMR_SYNC_BACKUP, mode, bz);
    p->peer = b;
    b->peer = p;
}

/* The default: both compress. */
static void make_pair(struct side *p, struct side *b, enum vsmr_sync_mode mode)
{
    make_pair_z(p, b, mode, VSMR_SYNC_COMPRESS_ZSTD, VSMR_SYNC_COMPRESS_ZSTD);
}

static void free_side(struct side *s)
{
    for (size_t i = 0; i < s->qn; i++)
        free(s->q[i].data);
    vsmr_engine_free(s->e);
    vsmr_guest_close(s->g);
}

/* Polls both and delivers frames until neither is syncing. */
static void run_until_quiet(struct side *a, struct side *b)
{
    for (int i = 0; i < 20000; i++) {
        struct side *both[2] = {a, b};
        for (int k = 0; k < 2; k++) {
            struct side *s = both[k];
            vsmr_engine_poll(s->e);
            size_t n = s->qn;
            s->qn = 0;
            for (size_t f = 0; f < n; f++) {
                vsmr_engine_message(s->e, s->q[f].data, s->q[f].len);
                free(s->q[f].data);
            }
        }
        if (!vsmr_engine_syncing(a->e) && !vsmr_engine_syncing(b->e) &&
            !a->qn && !b->qn)
            return;
        usleep(200);
    }
    ck_abort_msg("sync did not finish");
}

static uint64_t next_index = 1;

static void feed(struct side *a, struct side *b, uint64_t seed, int n)
{
    uint8_t buf[VSMR_SIM_MAX_MSG], val[300];
    uint64_t s = seed;
    for (int i = 0; i < n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        char key[24];
        snprintf(key, sizeof key, "k%llu", (unsigned long long)(s >> 33) % 3000);
        size_t vlen = 10 + (s >> 20) % 250;
        memset(val, (int)i, vlen);
        int op = (s >> 40) % 4 ? VSMR_SIM_SET : VSMR_SIM_GET;
        size_t len = vsmr_sim_encode_request(buf, sizeof buf, (uint32_t)i, op,
                                             key, strlen(key), val,
                                             op == VSMR_SIM_SET ? vlen : 0, 0);
        uint64_t index = next_index++;
        ck_assert_int_eq(vsmr_engine_input(a->e, index, buf, len), VSMR_OK);
        ck_assert_int_eq(vsmr_engine_input(b->e, index, buf, len), VSMR_OK);
    }
}

static void sync_both(struct side *a, struct side *b, uint64_t epoch)
{
    uint64_t index = next_index++;
    ck_assert_int_eq(vsmr_engine_sync(a->e, epoch, index), VSMR_OK);
    ck_assert_int_eq(vsmr_engine_sync(b->e, epoch, index), VSMR_OK);
    run_until_quiet(a, b);
}

static size_t memory_differs(struct side *a, struct side *b)
{
    uint64_t pages = vsmr_guest_page_count(a->g);
    uint64_t *pfns = malloc(pages * 8);
    vsmr_page_hash *ha = malloc(pages * sizeof *ha), *hb = malloc(pages * sizeof *hb);
    size_t *idx = malloc(pages * sizeof *idx), n;
    vsmr_pool *pool;
    ck_assert_int_eq(vsmr_pool_new(2, &pool), VSMR_OK);
    for (uint64_t i = 0; i < pages; i++)
        pfns[i] = i;
    ck_assert_int_eq(vsmr_guest_pause(a->g), VSMR_OK);
    ck_assert_int_eq(vsmr_guest_pause(b->g), VSMR_OK);
    ck_assert_int_eq(vsmr_hash_pages(pool, a->g, pfns, pages, 0, ha), VSMR_OK);
    ck_assert_int_eq(vsmr_hash_pages(pool, b->g, pfns, pages, 0, hb), VSMR_OK);
    vsmr_hash_diff(ha, hb, pages, idx, &n);
    vsmr_guest_unpause(a->g);
    vsmr_guest_unpause(b->g);
    vsmr_pool_free(pool);
    free(pfns); free(ha); free(hb); free(idx);
    return n;
}

START_TEST(vsmr_epochs_identical_and_outputs_held)
{
    struct side p, b;
    make_pair(&p, &b, VSMR_SYNC_MODE_VSMR);
    uint64_t divergent = 0, unions = 0;
    for (uint64_t e = 1; e <= 6; e++) {
        feed(&p, &b, e, 800);
        /* Before the sync, nothing of this epoch has left the primary. */
        for (int i = 0; i < 50; i++)
            vsmr_engine_poll(p.e);
        ck_assert_uint_eq(p.released_bad, 0);
        sync_both(&p, &b, e);
        struct vsmr_sync_status sp, sb;
        vsmr_engine_status(p.e, &sp);
        vsmr_engine_status(b.e, &sb);
        ck_assert_msg(sp.committed_epoch == e && sb.committed_epoch == e,
                      "epoch %llu: primary %llu backup %llu (%s / %s)",
                      (unsigned long long)e,
                      (unsigned long long)sp.committed_epoch,
                      (unsigned long long)sb.committed_epoch, sp.reason,
                      sb.reason);
        ck_assert_uint_eq(memory_differs(&p, &b), 0);
        const struct vsmr_epoch_metrics *m = vsmr_engine_last(p.e);
        ck_assert(m->committed);
        divergent += m->divergent;
        unions += m->union_pages;
    }
    ck_assert_uint_eq(p.released_bad, 0);
    ck_assert_uint_gt(p.released, 6 * 700);   /* the responses went out */
    ck_assert_uint_eq(b.released, 0);         /* the backup's never do */
    ck_assert_uint_gt(divergent, 0);
    ck_assert_uint_lt(divergent * 3, unions); /* most pages stay home */
    free_side(&p);
    free_side(&b);
}
END_TEST

START_TEST(remus_mode_sends_every_dirty_page)
{
    struct side p, b;
    make_pair(&p, &b, VSMR_SYNC_MODE_REMUS);
    for (uint64_t e = 1; e <= 3; e++) {
        feed(&p, &b, e, 500);
        sync_both(&p, &b, e);
        const struct vsmr_epoch_metrics *m = vsmr_engine_last(p.e);
        ck_assert(m->committed);
        ck_assert_uint_eq(m->divergent, m->dirty_local);
        ck_assert_uint_eq(vsmr_sim_completed(b.g), 0);  /* backup never ran */
    }
    /* The checkpoint makes the paused backup equal to the primary. */
    ck_assert_uint_eq(memory_differs(&p, &b), 0);
    /* Promotion: the backup replays nothing (all inputs are in the
     * checkpoint) and serves from there. */
    ck_assert_int_eq(vsmr_engine_promote(b.e), VSMR_OK);
    int st;
    ck_assert_int_eq(simtest_call(b.g, VSMR_SIM_GET, "k1", NULL, 0, 0, &st,
                                  NULL, NULL), VSMR_OK);
    free_side(&p);
    free_side(&b);
}
END_TEST

/* Cut the link in each phase of an epoch: both abort, both guests run
 * again, and the next epoch makes them identical (no fetched dirty page
 * forgotten). */
START_TEST(abort_in_every_phase_then_recover)
{
    for (int cut_after = 0; cut_after < 6; cut_after++) {
        struct side p, b;
        make_pair(&p, &b, VSMR_SYNC_MODE_VSMR);
        feed(&p, &b, 42, 600);
        uint64_t index = next_index++;
        ck_assert_int_eq(vsmr_engine_sync(p.e, 1, index), VSMR_OK);
        ck_assert_int_eq(vsmr_engine_sync(b.e, 1, index), VSMR_OK);
        /* Deliver cut_after rounds of frames, then lose the rest. */
        for (int round = 0; round < 400; round++) {
            struct side *both[2] = {&p, &b};
            for (int k = 0; k < 2; k++) {
                vsmr_engine_poll(both[k]->e);
                size_t n = both[k]->qn;
                both[k]->qn = 0;
                for (size_t f = 0; f < n; f++) {
                    if (round < cut_after * 3)
                        vsmr_engine_message(both[k]->e, both[k]->q[f].data,
                                            both[k]->q[f].len);
                    free(both[k]->q[f].data);
                }
            }
            usleep(200);
        }
        vsmr_engine_abort(p.e, "test: link cut");
        vsmr_engine_abort(b.e, "test: link cut");
        vsmr_engine_poll(p.e);
        vsmr_engine_poll(b.e);
        for (size_t f = 0; f < p.qn; f++) free(p.q[f].data);
        for (size_t f = 0; f < b.qn; f++) free(b.q[f].data);
        p.qn = b.qn = 0;
        bool paused;
        vsmr_guest_is_paused(p.g, &paused);
        ck_assert(!paused);
        vsmr_guest_is_paused(b.g, &paused);
        ck_assert(!paused);
        ck_assert_uint_eq(p.released_bad, 0);
        feed(&p, &b, 43, 300);
        sync_both(&p, &b, 2);
        struct vsmr_sync_status sp;
        vsmr_engine_status(p.e, &sp);
        ck_assert_msg(sp.committed_epoch == 2, "cut %d: %s", cut_after,
                      sp.reason);
        ck_assert_uint_eq(memory_differs(&p, &b), 0);
        ck_assert_uint_eq(p.released_bad, 0);
        free_side(&p);
        free_side(&b);
    }
}
END_TEST

START_TEST(hostile_frames_are_refused)
{
    struct side p, b;
    make_pair(&p, &b, VSMR_SYNC_MODE_VSMR);
    uint8_t junk[64] = {0x56, 0x53, 0x4d, 0x52, 1, 0, 0x01, 0x02, 40};
    ck_assert_int_eq(vsmr_engine_message(p.e, junk, sizeof junk), VSMR_EPROTO);
    ck_assert_int_eq(vsmr_engine_message(p.e, junk, 3), VSMR_EPROTO);
    ck_assert_int_eq(vsmr_engine_message(b.e, NULL, 0), VSMR_EPROTO);
    /* An ack for an epoch that is not running is stale. */
    feed(&p, &b, 5, 100);
    sync_both(&p, &b, 1);
    ck_assert_uint_eq(memory_differs(&p, &b), 0);
    free_side(&p);
    free_side(&b);
}
END_TEST


/* Each word found in the log after the previous one. */
static void assert_in_order(const char *log, const char *const *words,
                            size_t n)
{
    const char *at = log;
    for (size_t i = 0; i < n; i++) {
        const char *q = strstr(at, words[i]);
        ck_assert_msg(q, "'%s' missing or out of order in:%s", words[i], log);
        at = q + strlen(words[i]);
    }
}

/* The guest's sync steps, in the engine's order: the primary stops for
 * the sync and continues after it; the backup is prepared when its inputs
 * are served, begun only once the whole epoch is here (at apply, before
 * anything is written), ended at resume (after the context and the
 * verify). */
START_TEST(sync_steps_in_order)
{
    struct side p, b;
    make_pair(&p, &b, VSMR_SYNC_MODE_VSMR);
    for (uint64_t e = 1; e <= 2; e++) {
        feed(&p, &b, 70 + e, 300);
        sync_both(&p, &b, e);
    }
    log_steps(&p, "done");
    log_steps(&b, "done");
    static const char *const prim[] = {
        "[pause] stop [fetch-dirty]", "[send-pages]", "[resume] continue",
        "[pause] stop [fetch-dirty]", "[resume] continue [done]"};
    static const char *const back[] = {
        "[pause] prepare [fetch-dirty] [send-dirty]", "[apply] begin",
        "[verify]", "[send-ack]", "[resume] end",
        "[pause] prepare [fetch-dirty] [send-dirty]", "[apply] begin",
        "[resume] end [done]"};
    assert_in_order(p.log, prim, sizeof prim / sizeof *prim);
    assert_in_order(b.log, back, sizeof back / sizeof *back);
    ck_assert_msg(!strstr(p.log, " prepare ") && !strstr(b.log, " stop "),
                  "primary:%s\nbackup:%s", p.log, b.log);
    free_side(&p);
    free_side(&b);

    /* Remus: the backup never runs, so it gets no sync steps. */
    make_pair(&p, &b, VSMR_SYNC_MODE_REMUS);
    feed(&p, &b, 80, 200);
    sync_both(&p, &b, 1);
    log_steps(&p, "done");
    log_steps(&b, "done");
    assert_in_order(p.log, prim, 3);
    ck_assert_msg(!strstr(b.log, " prepare ") && !strstr(b.log, " end "),
                  "backup:%s", b.log);
    free_side(&p);
    free_side(&b);
}
END_TEST

static bool paused_of(struct side *s)
{
    bool paused;
    ck_assert_int_eq(vsmr_guest_is_paused(s->g, &paused), VSMR_OK);
    return paused;
}

/* The primary is lost in the middle of a sync, after the backup sent its
 * hashes but before SYNC_DONE: the backup's guest was never reset for the
 * copy, so the epoch is cancelled and it runs on from its own state (it
 * can take over), not held waiting for a copy that will never come. */
START_TEST(primary_lost_before_done_leaves_backup_running)
{
    struct side p, b;
    make_pair(&p, &b, VSMR_SYNC_MODE_VSMR);
    feed(&p, &b, 95, 300);
    uint64_t index = next_index++;
    ck_assert_int_eq(vsmr_engine_sync(p.e, 1, index), VSMR_OK);
    ck_assert_int_eq(vsmr_engine_sync(b.e, 1, index), VSMR_OK);
    /* Frames flow both ways until the backup has sent its hashes; the
     * primary never gets them (it is gone), so no page nor SYNC_DONE. */
    for (int i = 0; i < 20000 && !strstr(b.log, "[send-hashes]"); i++) {
        struct side *both[2] = {&p, &b};
        for (int k = 0; k < 2; k++) {
            struct side *s = both[k];
            vsmr_engine_poll(s->e);
            for (size_t f = 0; f < s->qn; f++) {
                vsmr_engine_message(s->e, s->q[f].data, s->q[f].len);
                free(s->q[f].data);
            }
            s->qn = 0;
        }
        usleep(100);
    }
    ck_assert_msg(strstr(b.log, "[send-hashes]"), "backup log:%s", b.log);
    vsmr_engine_abort(b.e, "the other VM replica went away");
    for (int i = 0; i < 3; i++)
        vsmr_engine_poll(b.e);
    log_steps(&b, "done");
    ck_assert_msg(!strstr(b.log, " begin") && strstr(b.log, "cancel"),
                  "backup log:%s", b.log);
    ck_assert(!paused_of(&b));
    struct vsmr_sync_status sb;
    vsmr_engine_status(b.e, &sb);
    ck_assert_uint_eq(sb.committed_epoch, 0);
    free_side(&p);
    free_side(&b);
}
END_TEST

/* One sync with sync steps told to fail (on the backup when steps[0] is
 * "b:"), then the checks: which epoch committed, the primary runs, the
 * backup runs unless held; and the next sync makes them identical with
 * both running. */
static void fault_case(const char *where, const char *step1,
                       const char *step2, bool commits, bool backup_held)
{
    struct side p, b;
    make_pair(&p, &b, VSMR_SYNC_MODE_VSMR);
    struct side *victim = where[0] == 'b' ? &b : &p;
    feed(&p, &b, 90, 400);
    ck_assert_int_eq(vsmr_sim_fail_sync_step(victim->g, step1), VSMR_OK);
    if (step2)
        ck_assert_int_eq(vsmr_sim_fail_sync_step(victim->g, step2), VSMR_OK);
    uint64_t index = next_index++;
    vsmr_engine_sync(p.e, 1, index);
    vsmr_engine_sync(b.e, 1, index);
    run_until_quiet(&p, &b);
    for (int i = 0; i < 3; i++) {     /* a failed continue is retried */
        vsmr_engine_poll(p.e);
        vsmr_engine_poll(b.e);
    }
    struct vsmr_sync_status sp, sb;
    vsmr_engine_status(p.e, &sp);
    vsmr_engine_status(b.e, &sb);
    ck_assert_msg(sp.committed_epoch == (commits ? 1u : 0u) &&
                  sb.committed_epoch == sp.committed_epoch,
                  "%s %s: committed primary %llu backup %llu (%s / %s)",
                  where, step1, (unsigned long long)sp.committed_epoch,
                  (unsigned long long)sb.committed_epoch, sp.reason,
                  sb.reason);
    ck_assert_msg(!paused_of(&p), "%s %s: primary left paused", where, step1);
    ck_assert_msg(paused_of(&b) == backup_held, "%s %s: backup %s", where,
                  step1, backup_held ? "should be held" : "left paused");
    ck_assert_uint_eq(p.released_bad, 0);
    feed(&p, &b, 91, 300);
    sync_both(&p, &b, 2);
    vsmr_engine_status(p.e, &sp);
    vsmr_engine_status(b.e, &sb);
    ck_assert_msg(sp.committed_epoch == 2 && sb.committed_epoch == 2,
                  "%s %s: next sync: %s / %s", where, step1, sp.reason,
                  sb.reason);
    ck_assert(!paused_of(&p) && !paused_of(&b));
    ck_assert_uint_eq(memory_differs(&p, &b), 0);
    ck_assert_uint_eq(p.released_bad, 0);
    free_side(&p);
    free_side(&b);
}

/* An error at each sync step: before the copy it aborts the epoch with
 * both guests running again; a backup whose cancel cannot restart it (as
 * a Xen backup after its reset) or whose end fails is held until the next
 * sync, which brings it back; a primary's failed continue is retried. */
START_TEST(a_failing_step_leaves_guests_running)
{
    fault_case("p", "stop", NULL, false, false);
    fault_case("b", "prepare", NULL, false, false);
    fault_case("b", "begin", NULL, false, false);
    fault_case("b", "begin", "cancel", false, true);
    fault_case("b", "end", NULL, true, true);
    fault_case("p", "continue", NULL, true, false);
}
END_TEST

/* A backup whose devices come back late after a sync (a Xen backup's
 * frontends reconnecting) keeps its inputs until they are up, then says
 * SYNC_READY; until then the primary's next sync waits. Inputs it still
 * held when a sync came anyway are in the copy and never injected twice
 * (verify mode: memory equal after every epoch). */
static void deliver(struct side *s)
{
    size_t n = s->qn;
    s->qn = 0;
    for (size_t f = 0; f < n; f++) {
        vsmr_engine_message(s->e, s->q[f].data, s->q[f].len);
        free(s->q[f].data);
    }
}

/* Both committed `epoch` with the given aborted counts, memory equal;
 * then both sides are freed. */
static void expect_and_free(struct side *p, struct side *b, uint64_t epoch,
                            uint64_t aborted_p, uint64_t aborted_b)
{
    struct vsmr_sync_status sp, sb;
    vsmr_engine_status(p->e, &sp);
    vsmr_engine_status(b->e, &sb);
    ck_assert_uint_eq(sp.committed_epoch, epoch);
    ck_assert_uint_eq(sb.committed_epoch, epoch);
    ck_assert_uint_eq(sp.aborted, aborted_p);
    ck_assert_uint_eq(sb.aborted, aborted_b);
    ck_assert_uint_eq(memory_differs(p, b), 0);
    free_side(p);
    free_side(b);
}

START_TEST(backup_ready_after_its_devices)
{
    struct side p, b;
    make_pair(&p, &b, VSMR_SYNC_MODE_VSMR);
    ck_assert(vsmr_engine_backup_ready(p.e, 60000));   /* nothing synced */
    feed(&p, &b, 1, 200);
    sync_both(&p, &b, 1);
    ck_assert(vsmr_engine_backup_ready(p.e, 60000));   /* READY came */

    /* Devices down for 5 checks (one per 20 ms): ~100 ms. */
    ck_assert_int_eq(vsmr_sim_devices_down_after_end(b.g, 5), VSMR_OK);
    feed(&p, &b, 2, 200);
    sync_both(&p, &b, 2);
    ck_assert(!vsmr_engine_backup_ready(p.e, 60000));
    ck_assert(vsmr_engine_backup_ready(p.e, 0));       /* the bound */
    uint64_t sent = vsmr_sim_sent(b.g);
    feed(&p, &b, 3, 100);
    for (int i = 0; i < 20; i++)
        vsmr_engine_poll(b.e);
    ck_assert_uint_eq(vsmr_sim_sent(b.g), sent);          /* held */
    for (int i = 0; i < 400 && !p.qn; i++) {
        vsmr_engine_poll(b.e);
        usleep(1000);
    }
    deliver(&p);
    ck_assert(vsmr_engine_backup_ready(p.e, 60000));
    run_until_quiet(&p, &b);
    ck_assert_uint_eq(vsmr_sim_sent(b.g), sent + 100);    /* fed now */
    sync_both(&p, &b, 3);
    ck_assert_uint_eq(memory_differs(&p, &b), 0);

    /* A sync that comes while the backup still waits: what it held up to
     * the sync is in the copy, and the epoch after is equal too. */
    feed(&p, &b, 4, 200);
    sync_both(&p, &b, 4);            /* the backup now waits 5 checks */
    feed(&p, &b, 5, 150);            /* held by the backup */
    sync_both(&p, &b, 5);
    ck_assert_uint_eq(memory_differs(&p, &b), 0);
    feed(&p, &b, 6, 150);
    for (int i = 0; i < 400 && !p.qn; i++) {
        vsmr_engine_poll(b.e);
        usleep(1000);
    }
    run_until_quiet(&p, &b);
    sync_both(&p, &b, 6);
    expect_and_free(&p, &b, 6, 0, 0);
}
END_TEST

/* A backup still in a stale epoch (it replayed an old SYNC entry while
 * catching up) sends its bitmap for it; the primary, already in a later
 * epoch (and sending nothing of it until the backup's bitmap), answers
 * that the stale epoch is over; the backup abandons it, and the later
 * epoch commits: no timeout in between. */
START_TEST(stale_epoch_abandoned_for_the_peers_later_one)
{
    struct side p, b;
    make_pair(&p, &b, VSMR_SYNC_MODE_VSMR);
    feed(&p, &b, 1, 200);
    sync_both(&p, &b, 1);
    uint64_t stale = next_index++, later = next_index++;
    ck_assert_int_eq(vsmr_engine_sync(b.e, 2, stale), VSMR_OK);
    for (int i = 0; i < 50; i++)          /* the backup waits in epoch 2 */
        vsmr_engine_poll(b.e);
    ck_assert(vsmr_engine_syncing(b.e));
    ck_assert_int_eq(vsmr_engine_sync(p.e, 3, later), VSMR_OK);
    for (int i = 0; i < 50; i++)
        vsmr_engine_poll(p.e);
    ck_assert_uint_eq(b.qn, 0);           /* the primary waits for epoch 3 */
    for (int i = 0; i < 200 && !p.qn; i++) {
        vsmr_engine_poll(b.e);
        usleep(1000);
    }
    ck_assert_uint_gt(p.qn, 0);           /* the backup's epoch-2 bitmap */
    deliver(&p);
    ck_assert_uint_gt(b.qn, 0);           /* "epoch 2 is over" */
    deliver(&b);
    ck_assert(!vsmr_engine_syncing(b.e)); /* epoch 2 abandoned */
    ck_assert_int_eq(vsmr_engine_sync(b.e, 3, later), VSMR_OK);
    run_until_quiet(&p, &b);
    expect_and_free(&p, &b, 3, 0, 1);
}
END_TEST

/* sync_compress differs between the sides (as during an upgrade): each
 * receives what the other sends; memory is identical after every epoch
 * (verify mode); zstd sends fewer bytes than raw, plain exactly raw. */
START_TEST(zstd_and_plain_sides_sync)
{
    static const struct {
        enum vsmr_sync_mode mode;
        enum vsmr_sync_compress p, b;
    } cases[] = {
        {VSMR_SYNC_MODE_VSMR, VSMR_SYNC_COMPRESS_ZSTD, VSMR_SYNC_COMPRESS_OFF},
        {VSMR_SYNC_MODE_VSMR, VSMR_SYNC_COMPRESS_OFF, VSMR_SYNC_COMPRESS_ZSTD},
        {VSMR_SYNC_MODE_REMUS, VSMR_SYNC_COMPRESS_ZSTD, VSMR_SYNC_COMPRESS_OFF},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        struct side p, b;
        make_pair_z(&p, &b, cases[c].mode, cases[c].p, cases[c].b);
        uint64_t sent[2] = {0}, raw[2] = {0};
        for (uint64_t e = 1; e <= 3; e++) {
            feed(&p, &b, 200 + e, 500);
            sync_both(&p, &b, e);
            struct side *both[2] = {&p, &b};
            for (int k = 0; k < 2; k++) {
                const struct vsmr_epoch_metrics *m = vsmr_engine_last(both[k]->e);
                ck_assert_msg(m->committed, "case %zu epoch %llu", c,
                              (unsigned long long)e);
                sent[k] += m->bytes_sent;
                raw[k] += m->bytes_raw;
            }
        }
        ck_assert_uint_eq(memory_differs(&p, &b), 0);
        enum vsmr_sync_compress z[2] = {cases[c].p, cases[c].b};
        for (int k = 0; k < 2; k++) {
            ck_assert_uint_gt(sent[k], 0);
            if (z[k] == VSMR_SYNC_COMPRESS_OFF)
                ck_assert_uint_eq(sent[k], raw[k]);
            else if (k == 0)           /* the primary's pages shrink */
                ck_assert_uint_lt(sent[k], raw[k]);
            else
                ck_assert_uint_le(sent[k], raw[k]);
        }
        uint64_t epochs, tsent, traw;
        double paused;
        vsmr_engine_totals(p.e, &epochs, &tsent, &traw, &paused);
        ck_assert_uint_eq(epochs, 3);
        ck_assert_uint_eq(tsent, sent[0]);
        ck_assert_uint_eq(traw, raw[0]);
        free_side(&p);
        free_side(&b);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("engine");
    TCase *tc = tcase_create("engine");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, vsmr_epochs_identical_and_outputs_held);
    tcase_add_test(tc, remus_mode_sends_every_dirty_page);
    tcase_add_test(tc, abort_in_every_phase_then_recover);
    tcase_add_test(tc, hostile_frames_are_refused);
    tcase_add_test(tc, sync_steps_in_order);
    tcase_add_test(tc, primary_lost_before_done_leaves_backup_running);
    tcase_add_test(tc, a_failing_step_leaves_guests_running);
    tcase_add_test(tc, backup_ready_after_its_devices);
    tcase_add_test(tc, stale_epoch_abandoned_for_the_peers_later_one);
    tcase_add_test(tc, zstd_and_plain_sides_sync);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
