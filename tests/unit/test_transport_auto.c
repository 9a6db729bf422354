/*
 * test_transport_auto.c - the per-peer decision of the auto transport
 * (auto_policy.c), without an RDMA device: the dialer tries rdma for a
 * window, then tcp; the acceptor follows what arrived; the newest
 * connection wins and the older is dropped; a peer on tcp is probed for
 * rdma again. A small simulation of two nodes and their links checks that
 * both ends always end up on the same transport, rdma exactly when both
 * have it and the rdma path works, whatever the start order.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "transport/auto_policy.h"

static const struct vsmr_auto_timing tm = {.window_ms = 3000,
                                           .probe_ms = 30000};

START_TEST(dialer_tries_rdma_then_tcp)
{
    struct vsmr_auto_peer p;
    struct vsmr_auto_actions a;
    vsmr_auto_init(&p, true, true, &tm, 1000, &a);
    ck_assert(a.dial_rdma && !a.dial_tcp);
    ck_assert_int_eq(vsmr_auto_deadline(&p), 4000);
    vsmr_auto_tick(&p, &tm, 3999, &a);
    ck_assert(a.dial_rdma && !a.dial_tcp);
    vsmr_auto_tick(&p, &tm, 4000, &a);          /* window over: tcp */
    ck_assert(!a.dial_rdma && a.dial_tcp);
    vsmr_auto_tick(&p, &tm, 7000, &a);          /* nobody: rdma again */
    ck_assert(a.dial_rdma && !a.dial_tcp);
    vsmr_auto_tick(&p, &tm, 10000, &a);
    vsmr_auto_link(&p, VSMR_PATH_TCP, true, &tm, 10100, &a);
    ck_assert(a.notify_up && a.log && !a.notify_down);
    ck_assert_int_eq(p.current, VSMR_PATH_TCP);
    ck_assert_int_eq(p.why, VSMR_WHY_RDMA_TIMEOUT);
    ck_assert(a.dial_tcp && !a.dial_rdma);
}
END_TEST

START_TEST(rdma_up_is_used_and_logged_once)
{
    struct vsmr_auto_peer p;
    struct vsmr_auto_actions a;
    vsmr_auto_init(&p, true, true, &tm, 0, &a);
    vsmr_auto_link(&p, VSMR_PATH_RDMA, true, &tm, 100, &a);
    ck_assert(a.notify_up && a.log);
    ck_assert_int_eq(p.why, VSMR_WHY_RDMA_UP);
    ck_assert_int_eq(vsmr_auto_deadline(&p), -1);
    vsmr_auto_link(&p, VSMR_PATH_RDMA, false, &tm, 200, &a);
    ck_assert(a.notify_down && a.dial_rdma && !a.dial_tcp);
    vsmr_auto_link(&p, VSMR_PATH_RDMA, true, &tm, 300, &a);
    ck_assert(a.notify_up && !a.log);           /* same choice: no line */
}
END_TEST

START_TEST(no_local_rdma_dials_tcp_only)
{
    struct vsmr_auto_peer p;
    struct vsmr_auto_actions a;
    vsmr_auto_init(&p, true, false, &tm, 0, &a);
    ck_assert(!a.dial_rdma && a.dial_tcp);
    ck_assert_int_eq(vsmr_auto_deadline(&p), -1);
    vsmr_auto_tick(&p, &tm, 100000, &a);
    ck_assert(!a.dial_rdma && a.dial_tcp);
    vsmr_auto_link(&p, VSMR_PATH_TCP, true, &tm, 100001, &a);
    ck_assert_int_eq(p.why, VSMR_WHY_NO_LOCAL_RDMA);
    ck_assert_int_eq(vsmr_auto_deadline(&p), -1);   /* nothing to probe */
}
END_TEST

START_TEST(acceptor_follows_newest_and_drops_older)
{
    struct vsmr_auto_peer p;
    struct vsmr_auto_actions a;
    vsmr_auto_init(&p, false, true, &tm, 0, &a);
    ck_assert(!a.dial_rdma && !a.dial_tcp);
    vsmr_auto_link(&p, VSMR_PATH_TCP, true, &tm, 10, &a);
    ck_assert(a.notify_up && a.log && a.drop == VSMR_PATH_NONE);
    ck_assert_int_eq(p.why, VSMR_WHY_PEER_CHOSE);
    vsmr_auto_link(&p, VSMR_PATH_RDMA, true, &tm, 20, &a);
    ck_assert_int_eq(a.drop, VSMR_PATH_TCP);
    ck_assert(a.notify_down && a.notify_up && a.log);
    ck_assert_int_eq(p.current, VSMR_PATH_RDMA);
    vsmr_auto_link(&p, VSMR_PATH_TCP, false, &tm, 30, &a);   /* dropped */
    ck_assert(!a.notify_down && !a.notify_up);
    ck_assert_int_eq(p.current, VSMR_PATH_RDMA);
    ck_assert_int_eq(vsmr_auto_deadline(&p), -1);
}
END_TEST

START_TEST(tcp_peer_is_probed_for_rdma)
{
    struct vsmr_auto_peer p;
    struct vsmr_auto_actions a;
    vsmr_auto_init(&p, true, true, &tm, 0, &a);
    vsmr_auto_tick(&p, &tm, 3000, &a);
    vsmr_auto_link(&p, VSMR_PATH_TCP, true, &tm, 3100, &a);
    ck_assert_int_eq(vsmr_auto_deadline(&p), 33100);
    vsmr_auto_tick(&p, &tm, 33100, &a);         /* probe: both dial */
    ck_assert(a.dial_rdma && a.dial_tcp);
    ck_assert_int_eq(vsmr_auto_deadline(&p), 36100);
    vsmr_auto_tick(&p, &tm, 36100, &a);         /* probe failed */
    ck_assert(!a.dial_rdma && a.dial_tcp);
    ck_assert_int_eq(vsmr_auto_deadline(&p), 66100);
    vsmr_auto_tick(&p, &tm, 66100, &a);
    vsmr_auto_link(&p, VSMR_PATH_RDMA, true, &tm, 66200, &a);
    ck_assert_int_eq(a.drop, VSMR_PATH_TCP);    /* upgraded */
    ck_assert(a.log && a.dial_rdma && !a.dial_tcp);
}
END_TEST

/* --- two nodes and their links -------------------------------------- */

struct node {
    struct vsmr_auto_peer p;
    bool dial[3];
    unsigned logs;
};

struct net {
    bool rdma_ok;              /* both have rdma and the path carries it */
    int64_t acceptor_from;     /* the acceptor starts listening then */
    bool conn[3];
    int64_t since[3];          /* dialing since, while the peer listens */
    struct node d, a;
};

static void link_event(struct net *n, struct node *x, enum vsmr_path path,
                       bool up, int64_t now);

static void act(struct net *n, struct node *x,
                const struct vsmr_auto_actions *a, int64_t now)
{
    if (x == &n->d) {
        n->d.dial[VSMR_PATH_TCP] = a->dial_tcp;
        n->d.dial[VSMR_PATH_RDMA] = a->dial_rdma;
    }
    x->logs += a->log;
    if (a->drop != VSMR_PATH_NONE && n->conn[a->drop]) {
        n->conn[a->drop] = false;   /* both ends see the close */
        link_event(n, &n->d, a->drop, false, now);
        link_event(n, &n->a, a->drop, false, now);
    }
}

static void link_event(struct net *n, struct node *x, enum vsmr_path path,
                       bool up, int64_t now)
{
    struct vsmr_auto_actions a;
    vsmr_auto_link(&x->p, path, up, &tm, now, &a);
    act(n, x, &a, now);
}

/* A connection on path comes up once the dialer dialed it for `delay` ms
 * while the acceptor listens (rdma only when rdma_ok). */
static void try_connect(struct net *n, enum vsmr_path path, int64_t delay,
                        int64_t now)
{
    bool possible = now >= n->acceptor_from &&
                    (path == VSMR_PATH_TCP || n->rdma_ok);
    if (!n->d.dial[path] || n->conn[path] || !possible) {
        n->since[path] = -1;
        return;
    }
    if (n->since[path] < 0)
        n->since[path] = now;
    if (now - n->since[path] < delay)
        return;
    n->conn[path] = true;
    n->since[path] = -1;
    link_event(n, &n->d, path, true, now);
    link_event(n, &n->a, path, true, now);
}

static void run(struct net *n, int64_t from, int64_t to)
{
    for (int64_t now = from; now <= to; now += 10) {
        struct vsmr_auto_actions a;
        vsmr_auto_tick(&n->d.p, &tm, now, &a);
        act(n, &n->d, &a, now);
        vsmr_auto_tick(&n->a.p, &tm, now, &a);
        act(n, &n->a, &a, now);
        try_connect(n, VSMR_PATH_RDMA, 400, now);
        try_connect(n, VSMR_PATH_TCP, 20, now);
    }
}

static void start(struct net *n, bool d_rdma, bool a_rdma, bool path_ok,
                  int64_t acceptor_from)
{
    memset(n, 0, sizeof *n);
    n->rdma_ok = d_rdma && a_rdma && path_ok;
    n->acceptor_from = acceptor_from;
    n->since[1] = n->since[2] = -1;
    struct vsmr_auto_actions a;
    vsmr_auto_init(&n->d.p, true, d_rdma, &tm, 0, &a);
    act(n, &n->d, &a, 0);
    vsmr_auto_init(&n->a.p, false, a_rdma, &tm, 0, &a);
    act(n, &n->a, &a, 0);
}

START_TEST(both_ends_agree_whatever_the_mix)
{
    static const int64_t late[] = {0, 1500, 3500, 6500, 12000};
    for (unsigned mix = 0; mix < 8; mix++) {
        for (unsigned l = 0; l < sizeof late / sizeof late[0]; l++) {
            struct net n;
            bool dr = mix & 1, ar = mix & 2, ok = mix & 4;
            start(&n, dr, ar, ok, late[l]);
            run(&n, 0, 80000);   /* long enough for one rdma probe */
            enum vsmr_path want = dr && ar && ok ? VSMR_PATH_RDMA
                                                 : VSMR_PATH_TCP;
            char what[80];
            snprintf(what, sizeof what, "mix %u (rdma d=%d a=%d path=%d) "
                     "acceptor from %lld ms", mix, dr, ar, ok,
                     (long long)late[l]);
            ck_assert_msg(n.d.p.current == want && n.a.p.current == want,
                          "%s: dialer %s acceptor %s", what,
                          vsmr_path_name(n.d.p.current),
                          vsmr_path_name(n.a.p.current));
            ck_assert_msg(n.conn[want] && !n.conn[3 - want],
                          "%s: a second connection is left open", what);
            ck_assert_msg(n.d.logs >= 1 && n.d.logs <= 2, "%s", what);
        }
    }
}
END_TEST

START_TEST(agreement_survives_a_cut_link)
{
    struct net n;
    start(&n, true, true, true, 0);
    run(&n, 0, 5000);
    ck_assert_int_eq(n.d.p.current, VSMR_PATH_RDMA);
    n.conn[VSMR_PATH_RDMA] = false;   /* cut: both ends notice */
    link_event(&n, &n.d, VSMR_PATH_RDMA, false, 5000);
    link_event(&n, &n.a, VSMR_PATH_RDMA, false, 5000);
    ck_assert_int_eq(n.a.p.current, VSMR_PATH_NONE);
    run(&n, 5010, 10000);
    ck_assert_int_eq(n.d.p.current, VSMR_PATH_RDMA);
    ck_assert_int_eq(n.a.p.current, VSMR_PATH_RDMA);
    ck_assert_uint_eq(n.d.logs, 1);   /* the same choice: logged once */
    ck_assert_uint_eq(n.a.logs, 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("transport_auto");
    TCase *tc = tcase_create("policy");
    tcase_add_test(tc, dialer_tries_rdma_then_tcp);
    tcase_add_test(tc, rdma_up_is_used_and_logged_once);
    tcase_add_test(tc, no_local_rdma_dials_tcp_only);
    tcase_add_test(tc, acceptor_follows_newest_and_drops_older);
    tcase_add_test(tc, tcp_peer_is_probed_for_rdma);
    tcase_add_test(tc, both_ends_agree_whatever_the_mix);
    tcase_add_test(tc, agreement_survives_a_cut_link);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
