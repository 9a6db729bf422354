/*
 * main.c - vsmr-xen-statecopy: keeps a running backup domain B in step
 * with a primary A on one host, printing per-sync figures; optionally ends
 * with a failover (A destroyed after a final sync, B takes over).
 *   vsmr-xen-statecopy A_DOMID B_DOMID [--syncs N] [--interval-ms MS]
 *       [--hash-threads N] [--verify] [--spare-port] [--probe 'CMD'] [--failover 'CMD']
 *       [--hold-inputs 'CMD' --release-inputs 'CMD']
 * --probe runs after each B resume (e.g. a ping through B's own network);
 * --hold-inputs / --release-inputs stop and restart A's incoming traffic
 * around each sync (what VSMR's input log does; the test has no log);
 * --failover runs after a final sync (A suspended, B ready but paused).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common/err.h"
#include "statecopy.h"

static void print_sync(int i, const struct sync_stats *st, bool verify)
{
    printf("SYNC %d dirtyA=%zu dirtyB=%zu union=%zu diverged=%zu bytes=%llu "
           "A_stopped=%.1fms (suspend %.1f fetch %.1f hash+copy %.1f "
           "reset+ctx %.1f verify %.1f) B_detach=%.1fms B_fixup=%.1fms "
           "(%s, walk %.1f of %zu nodes, restore %.1f, resume %.1f) ports=%d/%d "
           "acl_fixed=%zu xs_recreated=%zu shared=%zu B_net=%s(%.0fms) "
           "map_fail=%zu%s",
           i, st->dirty_a, st->dirty_b, st->uni, st->diverged,
           (unsigned long long)st->bytes, st->t_a_stopped, st->t_suspend,
           st->t_fetch, st->t_hash_copy, st->t_ctx, st->t_verify,
           st->t_b_detach, st->t_b_fixup,
           st->store_in_place ? "store reset in place" : "store released",
           st->t_b_walk, st->xs_walked,
           st->t_b_restore, st->t_b_resume, st->store_port, st->console_port,
           st->acl_changed_by_release, st->xs_recreated, st->shared,
           st->b_net ? "up" : "DOWN", st->t_b_net, st->map_fail,
           verify ? "" : "\n");
    /* After the copy, a page can differ for two reasons: nobody logged it
     * dirty (new: learned, then compared at every sync), or it was copied
     * and changed again during the sync (volatile: Xen writing the
     * suspended A's event-channel/vcpu_info pages). */
    if (verify)
        printf(" verify=%s (differing: %zu new, %zu volatile)\n",
               st->learned ? "MISMATCH" : st->mismatched_after ? "volatile"
                                                               : "equal",
               st->learned, st->mismatched_after - st->learned);
    fflush(stdout);
}

static int open_both(struct sc *s, const char *a, const char *b)
{
    if (vsmr_guest_open("xen", a, &s->a) < 0 ||
        vsmr_guest_open("xen", b, &s->b) < 0) {
        printf("open: %s\n", vsmr_errmsg());
        return -1;
    }
    s->da = (uint32_t)atoi(a);
    s->db = (uint32_t)atoi(b);
    s->pages = vsmr_guest_page_count(s->a);
    if (vsmr_guest_page_count(s->b) != s->pages) {
        printf("A has %llu frames, B %llu: not copies of each other\n",
               (unsigned long long)s->pages,
               (unsigned long long)vsmr_guest_page_count(s->b));
        return -1;
    }
    if (s->spare_port && !(s->xch = xc_interface_open(NULL, NULL, 0)))
        return -1;
    s->nwords = (s->pages + 63) / 64;
    s->bma = calloc(s->nwords, sizeof *s->bma);
    s->bmb = calloc(s->nwords, sizeof *s->bmb);
    if (!s->bma || !s->bmb)
        return -1;
    if (vsmr_guest_logdirty(s->a, true) < 0 ||
        vsmr_guest_logdirty(s->b, true) < 0) {
        printf("log-dirty: %s\n", vsmr_errmsg());
        return -1;
    }
    return discover_mappable(s);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 3) {
        fprintf(stderr, "usage: %s A_DOMID B_DOMID [--syncs N] "
                "[--interval-ms MS] [--hash-threads N] [--verify] [--spare-port] "
                "[--failover CMD]\n", argv[0]);
        return 2;
    }
    struct sc s = {.first = true};
    int syncs = 5, interval = 1000, threads = 2, failed = 0, diverged = 0, bnet_down = 0;
    const char *failover = NULL;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--syncs") && i + 1 < argc)
            syncs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--interval-ms") && i + 1 < argc)
            interval = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--hash-threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--verify"))
            s.verify = true;
        else if (!strcmp(argv[i], "--spare-port"))
            s.spare_port = true;
        else if (!strcmp(argv[i], "--hold-inputs") && i + 1 < argc)
            s.hold = argv[++i];
        else if (!strcmp(argv[i], "--release-inputs") && i + 1 < argc)
            s.release = argv[++i];
        else if (!strcmp(argv[i], "--probe") && i + 1 < argc)
            s.probe = argv[++i];
        else if (!strcmp(argv[i], "--failover") && i + 1 < argc)
            failover = argv[++i];
        else {
            fprintf(stderr, "unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    if (threads < 1 || threads > 64 || syncs < 1 || interval < 0) {
        fprintf(stderr, "--hash-threads wants 1..64, --syncs at least 1, "
                "--interval-ms at least 0\n");
        return 2;
    }
    if (vsmr_pool_new((unsigned)threads, &s.pool) < 0) {
        printf("thread pool: %s\n", vsmr_errmsg());
        return 1;
    }
    printf("hash threads: %u\n", vsmr_pool_threads(s.pool));
    if (open_both(&s, argv[1], argv[2]) < 0) {
        vsmr_guest_close(s.a);
        vsmr_guest_close(s.b);
        return 1;
    }
    for (int i = 1; i <= syncs; i++) {
        usleep((useconds_t)interval * 1000);
        struct sync_stats st = {0};
        bool final = failover && i == syncs;
        if (sync_once(&s, &st, final) < 0) {
            printf("SYNC %d FAILED\n", i);
            failed++;
            break;
        }
        print_sync(i, &st, s.verify);
        if (!final && !st.b_net)
            bnet_down++;
        if (s.verify && st.learned)
            diverged++;
    }
    if (failover && !failed) {
        /* A is suspended (not destroyed yet), B is ready and paused. */
        printf("FAILOVER: running: %s\n", failover);
        int rc = system(failover);
        printf("FAILOVER: command exit %d; resuming B\n", rc);
        if (rc != 0 || backup_resume(&s) < 0)
            failed++;
        else
            printf("FAILOVER: B resumed\n");
        vsmr_guest_close(s.a);     /* A is gone: nothing to unpause */
    } else {
        vsmr_guest_logdirty(s.a, false);
        vsmr_guest_close(s.a);
    }
    if (!failed || !failover)
        vsmr_guest_logdirty(s.b, false);
    vsmr_guest_close(s.b);
    printf("STATECOPY: %d failure(s), %d sync(s) with pages outside the "
           "union (learned, repaired), %d sync(s) with B's network down\n", failed,
           diverged, bnet_down);
    vsmr_pool_free(s.pool);
    return failed ? 1 : 0;
}
