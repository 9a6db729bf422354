/*
 * auto.c - the "auto" transport: a tcp and an rdma instance behind one
 * ops table. Both listen; for each peer the node that dials (the lower id)
 * tries rdma first for a bounded window and falls back to tcp; the other
 * node uses whatever arrived. The decision per peer is auto_policy.c;
 * this file wires it to the two instances and to the owner. Both paths
 * authenticate (and encrypt) exactly as the plain tcp and rdma transports
 * do: this layer never sees a byte before they have checked it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <sodium.h>

#include "common/err.h"
#include "transport/auto_policy.h"
#include "transport/transport.h"

#define AUTO_WINDOW_MS 3000u
#define AUTO_PROBE_MS  30000u

struct sub {
    struct vsmr_transport *a;          /* the auto instance */
    enum vsmr_path path;
    const struct vsmr_transport_ops *ops;
    vsmr_transport *t;                 /* NULL: not running */
};

struct vsmr_transport {
    struct vsmr_transport_handler h;
    uint32_t self_id;
    struct vsmr_auto_timing tm;
    struct sub tcp, rdma;
    char rdma_why[256];                /* why this node runs no rdma */
    int epfd;                          /* both instances' fds */
    bool known[VSMR_MAX_PEERS + 1];
    struct vsmr_auto_peer peers[VSMR_MAX_PEERS + 1];
};

static void auto_log(struct vsmr_transport *a, enum vsmr_log_level lvl,
                     const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void auto_log(struct vsmr_transport *a, enum vsmr_log_level lvl,
                     const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsmr_transport_vlogf(&a->h, lvl, fmt, ap);
    va_end(ap);
}

static struct sub *sub_of(struct vsmr_transport *a, enum vsmr_path p)
{
    struct sub *s = p == VSMR_PATH_RDMA ? &a->rdma : &a->tcp;
    return s->t ? s : NULL;
}

static void log_selected(struct vsmr_transport *a, uint32_t peer)
{
    const struct vsmr_auto_peer *p = &a->peers[peer];
    const char *path = vsmr_path_name(p->current);
    char why[400];
    switch (p->why) {
    case VSMR_WHY_RDMA_UP:
        snprintf(why, sizeof why, "auto: both ends have RDMA and the rdma "
                 "connection came up");
        break;
    case VSMR_WHY_RDMA_TIMEOUT:
        snprintf(why, sizeof why, "auto: no rdma connection within %u ms "
                 "(the peer has no RDMA device, or none on its address); "
                 "rdma is tried again every %u s", a->tm.window_ms,
                 a->tm.probe_ms / 1000);
        break;
    case VSMR_WHY_NO_LOCAL_RDMA:
        snprintf(why, sizeof why, "auto: rdma unavailable on this node "
                 "(%s)", a->rdma_why);
        break;
    default:
        snprintf(why, sizeof why, "auto: node %u dials this pair and "
                 "connected over %s", peer, path);
        break;
    }
    auto_log(a, VSMR_LOG_INFO, "event=transport_selected peer=%u "
             "transport=%s reason=\"%s\"", peer, path, why);
}

/* Carries out a policy step's actions for peer, in the documented order. */
static void apply(struct vsmr_transport *a, uint32_t peer,
                  const struct vsmr_auto_actions *act)
{
    struct sub *d = act->drop != VSMR_PATH_NONE ? sub_of(a, act->drop) : NULL;
    if (d)
        d->ops->drop(d->t, peer, "auto: a newer connection on the other "
                     "transport replaced it");
    if (peer > a->self_id) {
        a->tcp.ops->set_dial(a->tcp.t, peer, act->dial_tcp);
        if (a->rdma.t)
            a->rdma.ops->set_dial(a->rdma.t, peer, act->dial_rdma);
    }
    if (act->notify_down && a->h.on_peer)
        a->h.on_peer(a->h.ctx, peer, false);
    if (act->notify_up && a->h.on_peer)
        a->h.on_peer(a->h.ctx, peer, true);
    if (act->log)
        log_selected(a, peer);
}

/* --- callbacks from the two instances ------------------------------------ */

static void sub_on_message(void *ctx, uint32_t peer, const uint8_t *data,
                           size_t len)
{
    struct sub *s = ctx;
    struct vsmr_transport *a = s->a;
    /* Only the connection in use delivers; a replaced one is being
     * dropped and anything on it is stale. */
    if (peer >= 1 && peer <= VSMR_MAX_PEERS &&
        a->peers[peer].current == s->path && a->h.on_message)
        a->h.on_message(a->h.ctx, peer, data, len);
}

static void sub_on_peer(void *ctx, uint32_t peer, bool up)
{
    struct sub *s = ctx;
    struct vsmr_transport *a = s->a;
    if (peer < 1 || peer > VSMR_MAX_PEERS || !a->known[peer])
        return;
    struct vsmr_auto_actions act;
    vsmr_auto_link(&a->peers[peer], s->path, up, &a->tm, vsmr_now_ms(), &act);
    apply(a, peer, &act);
}

static void sub_log(void *ctx, enum vsmr_log_level lvl, const char *line)
{
    struct sub *s = ctx;
    if (s->a->h.log)
        s->a->h.log(s->a->h.ctx, lvl, line);
}

/* --- ops ------------------------------------------------------------------ */

static void auto_close(vsmr_transport *a);

static int open_sub(struct vsmr_transport *a, struct sub *s,
                    const struct vsmr_transport_config *cfg)
{
    struct vsmr_transport_handler h = {.on_message = sub_on_message,
                                       .on_peer = sub_on_peer,
                                       .log = sub_log, .ctx = s};
    s->a = a;
    int rc = s->ops->open(cfg, &h, &s->t);
    if (rc < 0) {
        s->t = NULL;
        return rc;
    }
    int fd = s->ops->fd(s->t);   /* tcp in the owner's loop: -1 */
    struct epoll_event ev = {.events = EPOLLIN};
    if (fd >= 0 && epoll_ctl(a->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return vsmr_fail_errno(VSMR_ESYS, "epoll_ctl in the auto transport");
    return VSMR_OK;
}

/* rdma is optional: without a device, or without one on the listen
 * address, this node runs tcp only and says why once. */
static void open_rdma(struct vsmr_transport *a,
                      const struct vsmr_transport_config *cfg)
{
    if (open_sub(a, &a->rdma, cfg) == VSMR_OK)
        return;
    snprintf(a->rdma_why, sizeof a->rdma_why, "%s", vsmr_errmsg());
    if (a->rdma.t)
        a->rdma.ops->close(a->rdma.t);
    a->rdma.t = NULL;
    auto_log(a, VSMR_LOG_INFO, "event=auto_rdma_unavailable reason=\"%s\"; "
             "every peer uses tcp", a->rdma_why);
}

static void start_peers(struct vsmr_transport *a,
                        const struct vsmr_transport_config *cfg)
{
    int64_t now = vsmr_now_ms();
    for (unsigned i = 0; i < cfg->n_peers; i++) {
        uint32_t id = cfg->peers[i].id;
        if (id == cfg->self_id)
            continue;
        struct vsmr_auto_actions act;
        a->known[id] = true;
        vsmr_auto_init(&a->peers[id], id > cfg->self_id, a->rdma.t != NULL,
                       &a->tm, now, &act);
        apply(a, id, &act);
    }
}

static int auto_open(const struct vsmr_transport_config *cfg,
                     const struct vsmr_transport_handler *h,
                     vsmr_transport **out)
{
    struct vsmr_transport *a = calloc(1, sizeof *a);
    if (!a)
        return vsmr_fail(VSMR_ENOMEM, "transport");
    a->h = *h;
    a->self_id = cfg->self_id;
    a->tm.window_ms = cfg->auto_window_ms ? cfg->auto_window_ms
                                          : AUTO_WINDOW_MS;
    a->tm.probe_ms = cfg->auto_probe_ms ? cfg->auto_probe_ms : AUTO_PROBE_MS;
    a->tcp.ops = &vsmr_transport_tcp_ops;
    a->tcp.path = VSMR_PATH_TCP;
    a->rdma.ops = &vsmr_transport_rdma_ops;
    a->rdma.path = VSMR_PATH_RDMA;
    a->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (a->epfd < 0) {
        int rc = vsmr_fail_errno(VSMR_ESYS, "epoll_create1");
        free(a);
        return rc;
    }
    struct vsmr_transport_config sc = *cfg;
    sc.dial_on_demand = true;   /* the policy says who dials what */
    int rc = open_sub(a, &a->tcp, &sc);
    if (rc == VSMR_OK)
        open_rdma(a, &sc);
    sodium_memzero(sc.key, sizeof sc.key);
    if (rc < 0) {
        auto_close(a);
        return rc;
    }
    start_peers(a, cfg);
    *out = a;
    return VSMR_OK;
}

static int auto_send(vsmr_transport *a, uint32_t peer, const void *msg,
                     size_t len)
{
    if (peer < 1 || peer > VSMR_MAX_PEERS || !a->known[peer])
        return vsmr_fail(VSMR_ENOENT, "no peer %u", peer);
    struct sub *s = sub_of(a, a->peers[peer].current);
    if (a->peers[peer].current == VSMR_PATH_NONE || !s)
        return VSMR_ECLOSED;
    return s->ops->send(s->t, peer, msg, len);
}

static int auto_flush(vsmr_transport *a)
{
    int rc = a->tcp.ops->flush(a->tcp.t);
    if (a->rdma.t) {
        int r2 = a->rdma.ops->flush(a->rdma.t);
        rc = rc < 0 ? rc : r2;
    }
    return rc;
}

static int auto_poll(vsmr_transport *a)
{
    int rc = a->tcp.ops->poll(a->tcp.t);
    if (a->rdma.t) {
        int r2 = a->rdma.ops->poll(a->rdma.t);
        rc = rc < 0 ? rc : r2;
    }
    int64_t now = vsmr_now_ms();
    for (uint32_t id = 1; id <= VSMR_MAX_PEERS; id++) {
        if (!a->known[id])
            continue;
        struct vsmr_auto_actions act;
        vsmr_auto_tick(&a->peers[id], &a->tm, now, &act);
        apply(a, id, &act);
    }
    return rc;
}

static int auto_fd(const vsmr_transport *a)
{
    return a->epfd;
}

static int64_t min_wait(int64_t best, int64_t w)
{
    if (w < 0)
        return best;
    return best < 0 || w < best ? w : best;
}

static int auto_next_timeout(const vsmr_transport *a)
{
    int64_t best = a->tcp.ops->next_timeout_ms(a->tcp.t);
    if (a->rdma.t)
        best = min_wait(best, a->rdma.ops->next_timeout_ms(a->rdma.t));
    int64_t now = vsmr_now_ms();
    for (uint32_t id = 1; id <= VSMR_MAX_PEERS; id++) {
        int64_t d = a->known[id] ? vsmr_auto_deadline(&a->peers[id]) : -1;
        if (d >= 0)
            best = min_wait(best, d > now ? d - now : 0);
    }
    return (int)best;
}

/* The counters of the connection in use (or of the last one), with the
 * connects and authentication failures of both instances. */
static void auto_stats(const vsmr_transport *a, uint32_t peer,
                       struct vsmr_peer_stats *out)
{
    struct vsmr_peer_stats ts, rs = {0};
    a->tcp.ops->stats(a->tcp.t, peer, &ts);
    if (a->rdma.t)
        a->rdma.ops->stats(a->rdma.t, peer, &rs);
    bool known = peer >= 1 && peer <= VSMR_MAX_PEERS && a->known[peer];
    enum vsmr_path cur = known ? a->peers[peer].current : VSMR_PATH_NONE;
    enum vsmr_path last = known ? a->peers[peer].logged : VSMR_PATH_NONE;
    *out = last == VSMR_PATH_RDMA ? rs : ts;
    out->connects = ts.connects + rs.connects;
    out->auth_failures = ts.auth_failures + rs.auth_failures;
    out->connected = cur != VSMR_PATH_NONE;
    out->transport = vsmr_path_name(cur);
}

static void auto_close(vsmr_transport *a)
{
    if (!a)
        return;
    a->h.on_peer = NULL;   /* the owner is going away */
    if (a->rdma.t)
        a->rdma.ops->close(a->rdma.t);
    if (a->tcp.t)
        a->tcp.ops->close(a->tcp.t);
    if (a->epfd >= 0)
        close(a->epfd);
    free(a);
}

const struct vsmr_transport_ops vsmr_transport_auto_ops = {
    .name = "auto",
    .open = auto_open,
    .send = auto_send,
    .flush = auto_flush,
    .poll = auto_poll,
    .fd = auto_fd,
    .next_timeout_ms = auto_next_timeout,
    .stats = auto_stats,
    .close = auto_close,
};
