/*
 * rdma.c - the "rdma" transport: librdmacm for connections (its event
 * channel and every connection's completion channel sit in one epoll set),
 * one connection per peer pair (the lower node id dials the higher), a
 * newer authenticated connection fences the older one, reconnect with
 * exponential backoff. Connection internals: rdma_conn.c; data: rdma_data.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <sodium.h>

#include "common/err.h"
#include "transport/rdma_impl.h"

#define DEFAULT_MAX_MESSAGE   (8u << 20)
#define DEFAULT_QUEUE_LIMIT   (64u << 20)
#define DEFAULT_IDLE_MS       3000u

int vsmr_rdma_device_count(void)
{
    int n = 0;
    struct ibv_device **l = ibv_get_device_list(&n);
    if (!l)
        return 0;
    ibv_free_device_list(l);
    return n;
}

void rdma_log(struct vsmr_transport *t, enum vsmr_log_level lvl,
              const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsmr_transport_vlogf(&t->h, lvl, fmt, ap);
    va_end(ap);
}

struct vsmr_peer_stats *rdma_stats_of(struct rdma_conn *c)
{
    static struct vsmr_peer_stats nowhere;   /* before the peer is known */
    if (c->peer_id >= 1 && c->peer_id <= VSMR_MAX_PEERS)
        return &c->t->peers[c->peer_id].st;
    return &nowhere;
}

static void schedule_redial(struct rdma_peer *p, int64_t now)
{
    uint32_t jitter = randombytes_uniform(p->backoff_ms / 4 + 1);
    p->next_dial_ms = now + p->backoff_ms + jitter;
    p->backoff_ms = p->backoff_ms * 2 > RDMA_BACKOFF_MAX_MS
                        ? RDMA_BACKOFF_MAX_MS : p->backoff_ms * 2;
}

void rdma_conn_reset(struct rdma_conn *c, const char *event,
                     const char *reason)
{
    if (c->dead)
        return;
    struct vsmr_transport *t = c->t;
    bool was_up = c->state == RC_UP;
    c->dead = true;
    enum vsmr_log_level lvl = c->state <= RC_CONNECTING ? VSMR_LOG_DEBUG
        : (strcmp(event, "conn_closed") == 0 ||
           strcmp(event, "replaced") == 0) ? VSMR_LOG_INFO : VSMR_LOG_WARN;
    rdma_log(t, lvl, "event=%s transport=rdma peer=%u addr=%s reason=\"%s\"",
             event, c->peer_id, c->addr, reason);
    bool valid = c->peer_id >= 1 && c->peer_id <= VSMR_MAX_PEERS;
    if (valid && (strcmp(event, "auth_refused") == 0 ||
                  strcmp(event, "frame_rejected") == 0))
        t->peers[c->peer_id].st.auth_failures++;
    rdma_conn_teardown(c);   /* fences the peer out of our ring now */
    if (!c->dialer && !was_up && t->pending_inbound > 0)
        t->pending_inbound--;
    if (!valid)
        return;
    struct rdma_peer *p = &t->peers[c->peer_id];
    if (p->dialing == c) {
        p->dialing = NULL;
        schedule_redial(p, vsmr_now_ms());
    }
    if (p->conn == c) {
        p->conn = NULL;
        if (c->dialer)
            schedule_redial(p, vsmr_now_ms());
        if (t->h.on_peer)
            t->h.on_peer(t->h.ctx, c->peer_id, false);
    }
}

void rdma_conn_up(struct rdma_conn *c)
{
    struct vsmr_transport *t = c->t;
    struct rdma_peer *p = &t->peers[c->peer_id];
    if (!c->dialer && t->pending_inbound > 0)
        t->pending_inbound--;
    c->state = RC_UP;
    c->last_rx_ms = c->last_tx_ms = vsmr_now_ms();
    if (p->dialing == c)
        p->dialing = NULL;
    if (p->conn)   /* the peer restarted: fence its old registration */
        rdma_conn_reset(p->conn, "replaced", "a newer connection arrived");
    p->conn = c;
    p->backoff_ms = RDMA_BACKOFF_MIN_MS;
    p->st.connects++;
    p->st.last_contact_ms = c->last_rx_ms;
    rdma_log(t, VSMR_LOG_INFO, "event=peer_connected transport=rdma peer=%u "
             "addr=%s encrypt=%s ring=%zu", c->peer_id, c->addr,
             vsmr_cipher_name(c->sess.cipher), c->r_size);
    if (t->h.on_peer)
        t->h.on_peer(t->h.ctx, c->peer_id, true);
}

static void link_conn(struct vsmr_transport *t, struct rdma_conn *c)
{
    c->next = t->conns;
    t->conns = c;
}

static void dial(struct vsmr_transport *t, struct rdma_peer *p)
{
    char addr[64];
    vsmr_format_addr(&p->addr.addr, addr, sizeof addr);
    struct rdma_cm_id *id;
    if (rdma_create_id(t->ec, &id, NULL, RDMA_PS_TCP)) {
        rdma_log(t, VSMR_LOG_WARN, "event=dial_failed transport=rdma peer=%u "
                 "addr=%s reason=\"rdma_create_id: %s\"", p->addr.id, addr,
                 strerror(errno));
        schedule_redial(p, vsmr_now_ms());
        return;
    }
    struct rdma_conn *c = rdma_conn_new(t, id, true, p->addr.id, addr);
    if (!c) {
        rdma_destroy_id(id);
        schedule_redial(p, vsmr_now_ms());
        return;
    }
    link_conn(t, c);
    p->dialing = c;
    if (rdma_resolve_addr(id, NULL, (struct sockaddr *)&p->addr.addr,
                          RDMA_RESOLVE_MS))
        rdma_conn_reset(c, "dial_failed", strerror(errno));
}

static void on_route_resolved(struct rdma_conn *c)
{
    if (rdma_conn_setup_qp(c) < 0) {
        rdma_conn_reset(c, "conn_error", vsmr_errmsg());
        return;
    }
    struct rdma_conn_param cp = {.retry_count = 7, .rnr_retry_count = 7,
                                 .responder_resources = 1,
                                 .initiator_depth = 1};
    c->state = RC_CONNECTING;
    if (rdma_connect(c->id, &cp))
        rdma_conn_reset(c, "dial_failed", strerror(errno));
}

static void on_connect_request(struct vsmr_transport *t,
                               struct rdma_cm_id *id)
{
    char addr[64];
    vsmr_format_addr((struct sockaddr_storage *)rdma_get_peer_addr(id),
                     addr, sizeof addr);
    if (t->pending_inbound >= RDMA_MAX_PENDING) {
        rdma_log(t, VSMR_LOG_WARN, "event=conn_refused transport=rdma "
                 "addr=%s reason=\"too many unauthenticated connections\"",
                 addr);
        rdma_reject(id, NULL, 0);
        rdma_destroy_id(id);
        return;
    }
    struct rdma_conn *c = rdma_conn_new(t, id, false, 0, addr);
    if (!c) {
        rdma_reject(id, NULL, 0);
        rdma_destroy_id(id);
        return;
    }
    link_conn(t, c);
    t->pending_inbound++;
    if (rdma_conn_setup_qp(c) < 0) {
        rdma_reject(id, NULL, 0);
        rdma_conn_reset(c, "conn_error", vsmr_errmsg());
        return;
    }
    struct rdma_conn_param cp = {.retry_count = 7, .rnr_retry_count = 7,
                                 .responder_resources = 1,
                                 .initiator_depth = 1};
    if (rdma_accept(id, &cp))
        rdma_conn_reset(c, "conn_error", strerror(errno));
}

static void on_cm_event(struct vsmr_transport *t,
                        const struct rdma_cm_event *e)
{
    if (e->event == RDMA_CM_EVENT_CONNECT_REQUEST) {
        on_connect_request(t, e->id);
        return;
    }
    struct rdma_conn *c = e->id->context;
    if (!c || c->dead || e->id == t->listen_id)
        return;
    switch (e->event) {
    case RDMA_CM_EVENT_ADDR_RESOLVED:
        if (rdma_resolve_route(c->id, RDMA_RESOLVE_MS))
            rdma_conn_reset(c, "dial_failed", strerror(errno));
        break;
    case RDMA_CM_EVENT_ROUTE_RESOLVED:
        on_route_resolved(c);
        break;
    case RDMA_CM_EVENT_ESTABLISHED:
        rdma_conn_on_established(c);
        break;
    case RDMA_CM_EVENT_DISCONNECTED:
        c->established = false;
        rdma_conn_reset(c, "conn_closed", "disconnected by the peer");
        break;
    case RDMA_CM_EVENT_ADDR_ERROR:
    case RDMA_CM_EVENT_ROUTE_ERROR:
    case RDMA_CM_EVENT_CONNECT_ERROR:
    case RDMA_CM_EVENT_UNREACHABLE:
    case RDMA_CM_EVENT_REJECTED:
    case RDMA_CM_EVENT_DEVICE_REMOVAL:
        rdma_conn_reset(c, "connect_failed", rdma_event_str(e->event));
        break;
    default:
        break;
    }
}

static void drain_cm(struct vsmr_transport *t)
{
    struct rdma_cm_event *ev;
    while (rdma_get_cm_event(t->ec, &ev) == 0) {
        /* Copied and acknowledged first, so destroying an id never waits
         * for its own event. */
        struct rdma_cm_event e = *ev;
        rdma_ack_cm_event(ev);
        on_cm_event(t, &e);
    }
}

static int check_config(const struct vsmr_transport_config *cfg)
{
    if (cfg->self_id < 1 || cfg->self_id > VSMR_MAX_PEERS)
        return vsmr_fail(VSMR_EINVAL, "node id %u is not in 1..%u",
                         cfg->self_id, VSMR_MAX_PEERS);
    if (cfg->n_peers > VSMR_MAX_PEERS)
        return vsmr_fail(VSMR_EINVAL, "%u peers, at most %u", cfg->n_peers,
                         VSMR_MAX_PEERS);
    if (cfg->max_message > VSMR_FRAME_BODY_HARD_MAX - 4)
        return vsmr_fail(VSMR_EINVAL, "max_message %zu is too large",
                         cfg->max_message);
    for (unsigned i = 0; i < cfg->n_peers; i++) {
        uint32_t id = cfg->peers[i].id;
        if (id < 1 || id > VSMR_MAX_PEERS)
            return vsmr_fail(VSMR_EINVAL, "peer id %u is not in 1..%u", id,
                             VSMR_MAX_PEERS);
        for (unsigned j = 0; j < i; j++)
            if (cfg->peers[j].id == id)
                return vsmr_fail(VSMR_EINVAL, "peer id %u listed twice", id);
    }
    return VSMR_OK;
}

static void rdma_close_t(vsmr_transport *t);

static int listen_on(struct vsmr_transport *t)
{
    char addr[64];
    vsmr_format_addr(&t->cfg.listen_addr, addr, sizeof addr);
    if (!(t->ec = rdma_create_event_channel()))
        return vsmr_fail_errno(VSMR_ESYS, "rdma_create_event_channel");
    int fl = fcntl(t->ec->fd, F_GETFL);
    if (fl < 0 || fcntl(t->ec->fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return vsmr_fail_errno(VSMR_ESYS, "non-blocking rdma_cm channel");
    if (rdma_create_id(t->ec, &t->listen_id, NULL, RDMA_PS_TCP))
        return vsmr_fail_errno(VSMR_ESYS, "rdma_create_id");
    if (rdma_bind_addr(t->listen_id, (struct sockaddr *)&t->cfg.listen_addr))
        return vsmr_fail_errno(VSMR_ESYS, "transport rdma: cannot bind %s "
                               "(no RDMA device on that address?)", addr);
    if (rdma_listen(t->listen_id, 64))
        return vsmr_fail_errno(VSMR_ESYS, "rdma_listen on %s", addr);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &t->cm_tag};
    if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->ec->fd, &ev) < 0)
        return vsmr_fail_errno(VSMR_ESYS, "epoll_ctl on the rdma_cm channel");
    return VSMR_OK;
}

static int rdma_open_t(const struct vsmr_transport_config *cfg,
                       const struct vsmr_transport_handler *h,
                       vsmr_transport **out)
{
    int rc = check_config(cfg);
    if (rc < 0)
        return rc;
    if (vsmr_rdma_device_count() == 0)
        return vsmr_fail(VSMR_ENOENT, "transport rdma: no RDMA device found "
                         "(ibv_get_device_list returned none); use transport "
                         "= tcp or auto");
    if (sodium_init() < 0)
        return vsmr_fail(VSMR_ESYS, "libsodium failed to initialise");
    enum vsmr_cipher cipher;
    if ((rc = vsmr_cipher_resolve(cfg->cipher, &cipher)) < 0)
        return rc;
    struct vsmr_transport *t = calloc(1, sizeof *t);
    if (!t)
        return vsmr_fail(VSMR_ENOMEM, "transport");
    t->cfg = *cfg;
    t->cfg.cipher = cipher;
    t->h = *h;
    if (!t->cfg.max_message)
        t->cfg.max_message = DEFAULT_MAX_MESSAGE;
    if (!t->cfg.send_queue_limit)
        t->cfg.send_queue_limit = DEFAULT_QUEUE_LIMIT;
    if (!t->cfg.idle_timeout_ms)
        t->cfg.idle_timeout_ms = DEFAULT_IDLE_MS;
    for (unsigned i = 0; i < cfg->n_peers; i++) {
        struct rdma_peer *p = &t->peers[cfg->peers[i].id];
        p->addr = cfg->peers[i];
        p->known = true;
        p->dial_off = cfg->dial_on_demand;
        p->backoff_ms = RDMA_BACKOFF_MIN_MS;
        p->st.last_contact_ms = -1;
    }
    t->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (t->epfd < 0) {
        rc = vsmr_fail_errno(VSMR_ESYS, "epoll_create1");
        free(t);
        return rc;
    }
    if ((rc = listen_on(t)) < 0) {
        rdma_close_t(t);
        return rc;
    }
    *out = t;
    return VSMR_OK;
}

static int rdma_send_t(vsmr_transport *t, uint32_t peer, const void *msg,
                       size_t len)
{
    if (peer < 1 || peer > VSMR_MAX_PEERS || !t->peers[peer].known)
        return vsmr_fail(VSMR_ENOENT, "no peer %u", peer);
    if (len > t->cfg.max_message)
        return vsmr_fail(VSMR_ERANGE, "message of %zu bytes exceeds "
                         "max_message %zu", len, t->cfg.max_message);
    struct rdma_peer *p = &t->peers[peer];
    if (!p->conn || p->conn->dead)
        return VSMR_ECLOSED;
    if (rdma_data_queued(p->conn) > t->cfg.send_queue_limit) {
        p->st.queue_full++;
        return vsmr_fail(VSMR_EAGAIN, "send queue to node %u is full "
                         "(%zu bytes)", peer, rdma_data_queued(p->conn));
    }
    int rc = rdma_data_queue(p->conn, msg, len);
    if (rc == VSMR_OK)
        p->st.msgs_sent++;
    return rc;
}

static int rdma_flush_t(vsmr_transport *t)
{
    for (uint32_t id = 1; id <= VSMR_MAX_PEERS; id++) {
        struct rdma_conn *c = t->peers[id].conn;
        if (c && !c->dead && (rdma_data_queued(c) > 0 || c->keepalive))
            rdma_data_flush(c);
    }
    return VSMR_OK;
}

static void reap_dead(struct vsmr_transport *t)
{
    struct rdma_conn **pp = &t->conns;
    while (*pp) {
        struct rdma_conn *c = *pp;
        if (c->dead) {
            *pp = c->next;
            rdma_conn_free(c);
        } else {
            pp = &c->next;
        }
    }
}

static void run_timers(struct vsmr_transport *t, int64_t now)
{
    for (struct rdma_conn *c = t->conns; c; c = c->next)
        if (!c->dead)
            rdma_conn_tick(c, now);
    for (uint32_t id = t->cfg.self_id + 1; id <= VSMR_MAX_PEERS; id++) {
        struct rdma_peer *p = &t->peers[id];
        if (p->known && !p->dial_off && !p->conn && !p->dialing &&
            now >= p->next_dial_ms)
            dial(t, p);
    }
}

static int rdma_poll_t(vsmr_transport *t)
{
    struct epoll_event evs[64];
    int n;
    do {
        n = epoll_wait(t->epfd, evs, 64, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return vsmr_fail_errno(VSMR_ESYS, "epoll_wait in the transport");
    for (int i = 0; i < n; i++) {
        if (evs[i].data.ptr == &t->cm_tag)
            drain_cm(t);
        else
            rdma_conn_on_cq(evs[i].data.ptr);
    }
    /* The data path: read every ring (memory only), then push any backlog
     * that waited for credit or send-queue space. */
    for (struct rdma_conn *c = t->conns; c; c = c->next) {
        if (c->dead || c->state != RC_UP)
            continue;
        rdma_data_read_ring(c);
        if (!c->dead && rdma_data_queued(c) > 0)
            rdma_data_flush(c);
    }
    run_timers(t, vsmr_now_ms());
    reap_dead(t);
    return VSMR_OK;
}

static int rdma_fd_t(const vsmr_transport *t)
{
    return t->epfd;
}

static int rdma_next_timeout_t(const vsmr_transport *t)
{
    int64_t now = vsmr_now_ms();
    int64_t best = t->conns ? (int64_t)t->cfg.idle_timeout_ms / 8 : -1;
    for (const struct rdma_conn *c = t->conns; c; c = c->next)
        if (!c->dead && c->state == RC_UP && rdma_data_queued(c) > 0)
            best = 1;   /* backlog waiting for credit or SQ space */
    for (uint32_t id = t->cfg.self_id + 1; id <= VSMR_MAX_PEERS; id++) {
        const struct rdma_peer *p = &t->peers[id];
        if (!p->known || p->dial_off || p->conn || p->dialing)
            continue;
        int64_t wait = p->next_dial_ms > now ? p->next_dial_ms - now : 0;
        if (best < 0 || wait < best)
            best = wait;
    }
    return (int)best;
}

static void rdma_stats_t(const vsmr_transport *t, uint32_t peer,
                         struct vsmr_peer_stats *out)
{
    memset(out, 0, sizeof *out);
    out->last_contact_ms = -1;
    if (peer < 1 || peer > VSMR_MAX_PEERS || !t->peers[peer].known)
        return;
    const struct rdma_peer *p = &t->peers[peer];
    *out = p->st;
    out->connected = p->conn && !p->conn->dead;
    out->queued_bytes = out->connected ? rdma_data_queued(p->conn) : 0;
    out->transport = "rdma";
}

static void rdma_set_dial_t(vsmr_transport *t, uint32_t peer, bool on)
{
    if (peer <= t->cfg.self_id || peer > VSMR_MAX_PEERS ||
        !t->peers[peer].known)
        return;
    struct rdma_peer *p = &t->peers[peer];
    if (vsmr_dial_switch(&p->dial_off, on, &p->next_dial_ms, &p->backoff_ms,
                         RDMA_BACKOFF_MIN_MS) && p->dialing && !on)
        rdma_conn_reset(p->dialing, "dial_abandoned", VSMR_DIAL_ABANDONED);
}

static void rdma_drop_t(vsmr_transport *t, uint32_t peer, const char *reason)
{
    if (peer >= 1 && peer <= VSMR_MAX_PEERS && t->peers[peer].conn)
        rdma_conn_reset(t->peers[peer].conn, "conn_closed", reason);
}

static void rdma_close_t(vsmr_transport *t)
{
    if (!t)
        return;
    t->h.on_peer = NULL;
    for (struct rdma_conn *c = t->conns; c; c = c->next)
        if (!c->dead)
            rdma_conn_reset(c, "conn_closed", "transport closing");
    reap_dead(t);
    if (t->listen_id)
        rdma_destroy_id(t->listen_id);
    if (t->ec)
        rdma_destroy_event_channel(t->ec);
    if (t->epfd >= 0)
        close(t->epfd);
    sodium_memzero(t->cfg.key, sizeof t->cfg.key);
    free(t);
}

const struct vsmr_transport_ops vsmr_transport_rdma_ops = {
    .name = "rdma",
    .open = rdma_open_t,
    .send = rdma_send_t,
    .flush = rdma_flush_t,
    .poll = rdma_poll_t,
    .fd = rdma_fd_t,
    .next_timeout_ms = rdma_next_timeout_t,
    .stats = rdma_stats_t,
    .close = rdma_close_t,
    .set_dial = rdma_set_dial_t,
    .drop = rdma_drop_t,
};
