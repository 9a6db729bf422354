/*
 * sync.c - one sync of the running backup B from the primary A, in the
 * order the sync engine uses: prepare B (paused, devices detached), stop A
 * for the sync, union of both dirty bitmaps and the pages both share with
 * backends, begin B (domain-side reset), copy divergent pages and A's HVM
 * context, (verify), continue A, then end B (reconnected, resumed as a new
 * domain). The Xen work of each step is the guest interface's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "statecopy.h"

double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static size_t count(const uint64_t *bm, size_t nwords)
{
    size_t n = 0;
    for (size_t i = 0; i < nwords; i++)
        n += (size_t)__builtin_popcountll(bm[i]);
    return n;
}

static void mark(struct sc *s, uint64_t gfn)
{
    if (gfn < s->pages)
        s->bma[gfn / 64] |= UINT64_C(1) << (gfn % 64);
}

/* Pages g shares with its backends, at most cap of them. */
static size_t shared_of(vsmr_guest *g, uint64_t *out, size_t cap)
{
    size_t n = 0;
    int rc = vsmr_guest_shared_pages(g, out, cap, &n);
    if (rc < 0)
        printf("sync: shared pages: %s\n", vsmr_errmsg());
    return n < cap ? n : rc == VSMR_ERANGE ? cap : 0;
}

/* U = A's dirty | B's dirty | pages shared with backends | learned pages. */
static uint64_t *union_list(struct sc *s, size_t *n, size_t *shared)
{
    uint64_t sh[64];
    size_t ns = shared_of(s->a, sh, 32);
    ns += shared_of(s->b, sh + ns, 32);
    *shared = ns;
    for (size_t i = 0; i < ns; i++)
        mark(s, sh[i]);
    for (size_t i = 0; i < s->nsticky; i++)
        mark(s, s->sticky[i]);
    size_t k = 0;
    for (size_t i = 0; i < s->nwords; i++)
        k += (size_t)__builtin_popcountll(s->bma[i] | s->bmb[i]);
    uint64_t *u = malloc((k ? k : 1) * sizeof *u);
    if (!u)
        return NULL;
    k = 0;
    for (size_t i = 0; i < s->nwords; i++)
        for (uint64_t w = s->bma[i] | s->bmb[i]; w; w &= w - 1)
            u[k++] = i * 64 + (uint64_t)__builtin_ctzll(w);
    *n = k;
    return u;
}

int sync_once(struct sc *s, struct sync_stats *st, bool final)
{
    /* B first, off A's critical path: stop it and detach its backends, so
     * nothing writes into B's memory once the copy has begun. */
    double t = now_ms();
    int rc = vsmr_guest_backup_prepare(s->b);
    st->t_b_detach = now_ms() - t;
    if (rc < 0) {
        printf("sync: prepare of B: %s\n", vsmr_errmsg());
        if (vsmr_guest_backup_cancel(s->b) < 0)
            printf("sync: %s\n", vsmr_errmsg());
        return -1;
    }
    /* VSMR stops injecting inputs before a sync; a test without the input
     * log holds A's incoming traffic with a command instead. */
    if (s->hold && system(s->hold) != 0)
        printf("sync: input hold command failed\n");
    double t0 = now_ms();
    rc = vsmr_guest_stop_for_sync(s->a);
    if (rc < 0) {
        printf("sync: stop of A: %s\n", vsmr_errmsg());
        if (vsmr_guest_backup_cancel(s->b) < 0)
            printf("sync: %s\n", vsmr_errmsg());
        if (s->release && system(s->release) != 0)
            printf("sync: input release command failed\n");
        return -1;
    }
    st->t_suspend = now_ms() - t0;
    uint64_t *u = NULL;
    void *ctx = NULL;

    t = now_ms();
    if ((rc = vsmr_guest_dirty_fetch_clear(s->a, s->bma, s->nwords)) < 0 ||
        (rc = vsmr_guest_dirty_fetch_clear(s->b, s->bmb, s->nwords)) < 0)
        goto fail;
    st->dirty_a = count(s->bma, s->nwords);
    st->dirty_b = count(s->bmb, s->nwords);
    size_t nu;
    if (s->first) {            /* B was made before log-dirty was on */
        nu = s->ngfns;
    } else if (!(u = union_list(s, &nu, &st->shared))) {
        rc = -1;
        goto fail;
    }
    st->uni = nu;
    st->t_fetch = now_ms() - t;

    t = now_ms();
    if ((rc = vsmr_guest_backup_begin(s->b)) < 0)
        goto fail;
    double t_reset = now_ms() - t;

    t = now_ms();
    if ((rc = copy_divergent(s, s->first ? s->gfns : u, nu, st)) < 0)
        goto fail;
    st->t_hash_copy = now_ms() - t;

    t = now_ms();
    size_t len = 0, got = 0;
    if ((rc = vsmr_guest_context_get(s->a, NULL, 0, &len)) < 0 ||
        !(ctx = malloc(len)) ||
        (rc = vsmr_guest_context_get(s->a, ctx, len, &got)) < 0 ||
        (rc = vsmr_guest_context_set(s->b, ctx, got)) < 0) {
        printf("sync: context: %s\n", vsmr_errmsg());
        rc = rc < 0 ? rc : -1;
        goto fail;
    }
    st->t_ctx = now_ms() - t + t_reset;
    st->bytes = (uint64_t)st->diverged * VSMR_PAGE_SIZE + got;

    if (s->verify) {
        t = now_ms();
        if ((rc = verify_all(s, st)) < 0 ||
            (st->mismatched_after && (rc = repair_and_learn(s, st)) < 0))
            goto fail;
        st->t_verify = now_ms() - t;
    }
    if (!final && (rc = vsmr_guest_continue_after_sync(s->a)) < 0) {
        printf("sync: continue of A: %s\n", vsmr_errmsg());
        goto fail;
    }
    st->t_a_stopped = now_ms() - t0;
    if (!final && s->release && system(s->release) != 0)
        printf("sync: input release command failed\n");

    t = now_ms();
    /* --spare-port burns one port first, so B's new channels cannot match
     * A's by luck (the proof that B re-reads them from its params). */
    if (s->spare_port)
        xc_evtchn_alloc_unbound(s->xch, s->db, 0);
    rc = vsmr_guest_backup_end(s->b, !final);
    if (rc < 0)
        printf("sync: end of B: %s\n", vsmr_errmsg());
    struct vsmr_guest_backup_figures f;
    if (vsmr_guest_backup_figures(s->b, &f) == VSMR_OK) {
        st->store_port = f.store_port;
        st->console_port = f.console_port;
        st->acl_changed_by_release = f.nodes_changed;
        st->xs_recreated = f.nodes_recreated;
        st->xs_walked = f.nodes_walked;
        st->store_in_place = f.store_in_place;
        st->t_b_walk = f.ms_walk;
        st->t_b_restore = f.ms_reintroduce + f.ms_restore;
        st->t_b_resume = f.ms_resume;
        if (f.nodes_lost)
            printf("sync: %zu xenstore node(s) of B could not be put back\n",
                   f.nodes_lost);
    }
    st->t_b_fixup = now_ms() - t;
    if (rc == 0 && !final) {
        t = now_ms();
        bool up = false;
        if (vsmr_guest_devices_connected(s->b, 15000, &up) < 0)
            printf("sync: B's devices: %s\n", vsmr_errmsg());
        st->b_net = up;
        st->t_b_net = now_ms() - t;
        if (st->b_net && s->probe)
            st->b_net = system(s->probe) == 0;
    }
    s->first = false;
    free(u);
    free(ctx);
    return rc;

fail:
    /* Never leave A stopped: it is the one serving clients. */
    printf("sync failed (%s: %s); resuming A\n", vsmr_err_name(rc),
           vsmr_errmsg());
    vsmr_guest_continue_after_sync(s->a);
    if (s->release && system(s->release) != 0)
        printf("sync: input release command failed\n");
    if (vsmr_guest_backup_cancel(s->b) < 0)
        printf("sync: %s\n", vsmr_errmsg());
    free(u);
    free(ctx);
    return -1;
}

int backup_resume(struct sc *s)
{
    int rc = vsmr_guest_backup_end(s->b, true);
    if (rc < 0)
        printf("backup: start of B: %s\n", vsmr_errmsg());
    return rc;
}
