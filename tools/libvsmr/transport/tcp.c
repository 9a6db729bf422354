/*
 * tcp.c - the "tcp" transport: epoll over non-blocking sockets, one
 * connection per peer pair (the lower node id dials the higher, so two
 * nodes never dial each other at once; a newer authenticated connection
 * replaces an older one), reconnect with exponential backoff, keepalives.
 * What happens on one connection is in tcp_conn.c.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <sodium.h>

#include "common/err.h"
#include "transport/tcp_impl.h"

#define DEFAULT_MAX_MESSAGE   (8u << 20)
#define DEFAULT_QUEUE_LIMIT   (64u << 20)
#define DEFAULT_IDLE_MS       3000u

void tcp_log(struct vsmr_transport *t, enum vsmr_log_level lvl,
             const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsmr_transport_vlogf(&t->h, lvl, fmt, ap);
    va_end(ap);
}

static void on_conn_event(void *arg, uint32_t events);
static void on_listen_event(void *arg, uint32_t events);

/* Sockets go into the owner's loop when it gave one (cfg.loop), else into
 * our nested epoll set; data.ptr is the conn, or &listen_fd. */
static int watch(struct vsmr_transport *t, int fd, uint32_t events, void *ptr)
{
    if (t->cfg.loop.add) {
        bool listener = ptr == &t->listen_fd;
        return t->cfg.loop.add(t->cfg.loop.ctx, fd, events,
                               listener ? on_listen_event : on_conn_event,
                               listener ? (void *)t : ptr);
    }
    struct epoll_event ev = {.events = events, .data.ptr = ptr};
    if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return vsmr_fail_errno(VSMR_ESYS, "epoll_ctl add fd %d", fd);
    return VSMR_OK;
}

static void unwatch(struct vsmr_transport *t, int fd)
{
    if (t->cfg.loop.add)
        t->cfg.loop.del(t->cfg.loop.ctx, fd);
    else
        epoll_ctl(t->epfd, EPOLL_CTL_DEL, fd, NULL);
}

/* In the owner's loop a connection is edge-triggered: its reader drains
 * the socket (a short read means empty; a later arrival is a new edge),
 * and epoll need not look at the socket again on the next wait, as it
 * does for a level-triggered one: less work per wake-up on the commit
 * path. The nested epoll set stays level-triggered: a nested poll() there
 * may take the event of a connection that is busy further up the stack,
 * and only a level-triggered set reports it again. */
static uint32_t conn_events(const struct vsmr_transport *t, bool want_write)
{
    return EPOLLIN | (want_write ? EPOLLOUT : 0) |
           (t->cfg.loop.add ? EPOLLET : 0);
}

int tcp_set_events(struct tcp_conn *c, bool want_write)
{
    struct vsmr_transport *t = c->t;
    uint32_t events = conn_events(t, want_write);
    if (t->cfg.loop.add) {
        int rc = t->cfg.loop.mod(t->cfg.loop.ctx, c->fd, events);
        if (rc < 0)
            return rc;
    } else {
        struct epoll_event ev = {.events = events, .data.ptr = c};
        if (epoll_ctl(t->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
            return vsmr_fail_errno(VSMR_ESYS, "epoll_ctl on connection");
    }
    c->want_write = want_write;
    return VSMR_OK;
}

static void schedule_redial(struct tcp_peer *p, int64_t now)
{
    uint32_t jitter = randombytes_uniform(p->backoff_ms / 4 + 1);
    p->next_dial_ms = now + p->backoff_ms + jitter;
    p->backoff_ms = p->backoff_ms * 2 > TCP_BACKOFF_MAX_MS
                        ? TCP_BACKOFF_MAX_MS : p->backoff_ms * 2;
}

static enum vsmr_log_level reset_level(const struct tcp_conn *c,
                                       const char *event)
{
    /* A peer that is not up yet is normal at startup: keep it quiet. */
    if (c->state == CONN_CONNECTING)
        return VSMR_LOG_DEBUG;
    if (strcmp(event, "conn_closed") == 0 || strcmp(event, "replaced") == 0)
        return VSMR_LOG_INFO;
    return VSMR_LOG_WARN;
}

void tcp_conn_reset(struct tcp_conn *c, const char *event,
                    const char *reason)
{
    if (c->dead)
        return;
    struct vsmr_transport *t = c->t;
    c->dead = true;
    tcp_log(t, reset_level(c, event), "event=%s peer=%u addr=%s reason=\"%s\"",
            event, c->peer_id, c->addr, reason);
    if (strcmp(event, "auth_refused") == 0 ||
        strcmp(event, "frame_rejected") == 0) {
        if (c->peer_id >= 1 && c->peer_id <= VSMR_MAX_PEERS)
            t->peers[c->peer_id].st.auth_failures++;
    }
    unwatch(t, c->fd);
    close(c->fd);
    c->fd = -1;
    vsmr_session_wipe(&c->sess);
    if (!c->dialer && c->state != CONN_UP && t->pending_inbound > 0)
        t->pending_inbound--;
    if (c->peer_id < 1 || c->peer_id > VSMR_MAX_PEERS)
        return;
    struct tcp_peer *p = &t->peers[c->peer_id];
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

void tcp_conn_rearm(struct tcp_conn *c)
{
    /* EPOLL_CTL_MOD looks at the socket and queues an event if it is
     * ready; a level-triggered set reports it again anyway. */
    if (c->t->cfg.loop.add && !c->dead)
        tcp_set_events(c, c->want_write);
}

int tcp_conn_established(struct tcp_conn *c)
{
    struct vsmr_transport *t = c->t;
    struct tcp_peer *p = &t->peers[c->peer_id];
    if (!c->dialer && t->pending_inbound > 0)
        t->pending_inbound--;
    c->state = CONN_UP;
    c->last_rx_ms = c->last_tx_ms = vsmr_now_ms();
    if (p->dialing == c)
        p->dialing = NULL;
    if (p->conn)   /* the peer restarted or the old link is half-dead */
        tcp_conn_reset(p->conn, "replaced", "a newer connection arrived");
    p->conn = c;
    p->backoff_ms = TCP_BACKOFF_MIN_MS;
    p->st.connects++;
    p->st.last_contact_ms = c->last_rx_ms;
    tcp_log(t, VSMR_LOG_INFO, "event=peer_connected peer=%u addr=%s "
            "encrypt=%s", c->peer_id, c->addr, vsmr_cipher_name(c->sess.cipher));
    if (t->h.on_peer)
        t->h.on_peer(t->h.ctx, c->peer_id, true);
    return VSMR_OK;
}

static int tune_socket(int fd)
{
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
        return vsmr_fail_errno(VSMR_ESYS, "TCP_NODELAY");
    return VSMR_OK;
}

static struct tcp_conn *add_conn(struct vsmr_transport *t, int fd,
                                 bool dialer, uint32_t peer_id,
                                 const char *addr, uint32_t events)
{
    struct tcp_conn *c = tcp_conn_new(t, fd, dialer, peer_id, addr);
    if (!c) {
        close(fd);
        return NULL;
    }
    if (watch(t, fd, events, c) < 0) {
        tcp_log(t, VSMR_LOG_ERROR, "event=epoll_failed reason=\"%s\"",
                vsmr_errmsg());
        tcp_conn_free(c);
        close(fd);
        return NULL;
    }
    c->want_write = (events & EPOLLOUT) != 0;
    c->next = t->conns;
    t->conns = c;
    return c;
}

static void dial(struct vsmr_transport *t, struct tcp_peer *p)
{
    char addr[64];
    vsmr_format_addr(&p->addr.addr, addr, sizeof addr);
    int fd = socket(p->addr.addr.ss_family,
                    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || tune_socket(fd) < 0) {
        tcp_log(t, VSMR_LOG_WARN, "event=dial_failed peer=%u addr=%s "
                "reason=\"%s\"", p->addr.id, addr, strerror(errno));
        if (fd >= 0)
            close(fd);
        schedule_redial(p, vsmr_now_ms());
        return;
    }
    int rc = connect(fd, (struct sockaddr *)&p->addr.addr, p->addr.addr_len);
    if (rc < 0 && errno != EINPROGRESS) {
        tcp_log(t, VSMR_LOG_DEBUG, "event=dial_failed peer=%u addr=%s "
                "reason=\"%s\"", p->addr.id, addr, strerror(errno));
        close(fd);
        schedule_redial(p, vsmr_now_ms());
        return;
    }
    struct tcp_conn *c = add_conn(t, fd, true, p->addr.id, addr,
                                  conn_events(t, true));
    if (!c) {
        schedule_redial(p, vsmr_now_ms());
        return;
    }
    p->dialing = c;
    if (rc == 0)
        tcp_conn_start_handshake(c);
}

static void on_connect_done(struct tcp_conn *c)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if (err) {
        tcp_conn_reset(c, "connect_failed", strerror(err));
        return;
    }
    tcp_conn_start_handshake(c);
}

static void accept_all(struct vsmr_transport *t)
{
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(t->listen_fd, (struct sockaddr *)&ss, &sl,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                tcp_log(t, VSMR_LOG_WARN, "event=accept_failed reason=\"%s\"",
                        strerror(errno));
            return;
        }
        char addr[64];
        vsmr_format_addr(&ss, addr, sizeof addr);
        if (t->pending_inbound >= TCP_MAX_PENDING) {
            tcp_log(t, VSMR_LOG_WARN, "event=conn_refused addr=%s "
                    "reason=\"too many unauthenticated connections\"", addr);
            close(fd);
            continue;
        }
        if (tune_socket(fd) < 0) {
            close(fd);
            continue;
        }
        struct tcp_conn *c = add_conn(t, fd, false, 0, addr,
                                      conn_events(t, false));
        if (!c)
            continue;
        t->pending_inbound++;
        tcp_conn_start_handshake(c);
    }
}

static int listen_on(struct vsmr_transport *t)
{
    char addr[64];
    vsmr_format_addr(&t->cfg.listen_addr, addr, sizeof addr);
    int fd = socket(t->cfg.listen_addr.ss_family,
                    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return vsmr_fail_errno(VSMR_ESYS, "socket for %s", addr);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&t->cfg.listen_addr,
             t->cfg.listen_len) < 0 || listen(fd, 64) < 0) {
        int rc = vsmr_fail_errno(VSMR_ESYS, "cannot listen on %s", addr);
        close(fd);
        return rc;
    }
    t->listen_fd = fd;
    return watch(t, fd, EPOLLIN, &t->listen_fd);
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

static void tcp_close(vsmr_transport *t);

static int tcp_open(const struct vsmr_transport_config *cfg,
                    const struct vsmr_transport_handler *h,
                    vsmr_transport **out)
{
    int rc = check_config(cfg);
    if (rc < 0)
        return rc;
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
    t->listen_fd = -1;
    if (!t->cfg.max_message)
        t->cfg.max_message = DEFAULT_MAX_MESSAGE;
    if (!t->cfg.send_queue_limit)
        t->cfg.send_queue_limit = DEFAULT_QUEUE_LIMIT;
    if (!t->cfg.idle_timeout_ms)
        t->cfg.idle_timeout_ms = DEFAULT_IDLE_MS;
    t->max_body = t->cfg.max_message + 4 > TCP_BATCH_SOFT_MAX
                      ? t->cfg.max_message + 4 : TCP_BATCH_SOFT_MAX;
    for (unsigned i = 0; i < cfg->n_peers; i++) {
        struct tcp_peer *p = &t->peers[cfg->peers[i].id];
        p->addr = cfg->peers[i];
        p->known = true;
        p->dial_off = cfg->dial_on_demand;
        p->backoff_ms = TCP_BACKOFF_MIN_MS;
        p->st.last_contact_ms = -1;
    }
    if (cfg->loop.add && (!cfg->loop.mod || !cfg->loop.del)) {
        free(t);
        return vsmr_fail(VSMR_EINVAL, "an owner's loop needs add, mod "
                         "and del");
    }
    t->epfd = cfg->loop.add ? -1 : epoll_create1(EPOLL_CLOEXEC);
    if (!cfg->loop.add && t->epfd < 0) {
        rc = vsmr_fail_errno(VSMR_ESYS, "epoll_create1");
        free(t);
        return rc;
    }
    if ((rc = listen_on(t)) < 0) {
        tcp_close(t);
        return rc;
    }
    *out = t;
    return VSMR_OK;
}

static int tcp_send(vsmr_transport *t, uint32_t peer, const void *msg,
                    size_t len)
{
    if (peer < 1 || peer > VSMR_MAX_PEERS || !t->peers[peer].known)
        return vsmr_fail(VSMR_ENOENT, "no peer %u", peer);
    if (len > t->cfg.max_message)
        return vsmr_fail(VSMR_ERANGE, "message of %zu bytes exceeds "
                         "max_message %zu", len, t->cfg.max_message);
    struct tcp_peer *p = &t->peers[peer];
    if (!p->conn || p->conn->dead)
        return VSMR_ECLOSED;   /* common and cheap: no message formatted */
    if (tcp_conn_queued(p->conn) > t->cfg.send_queue_limit) {
        p->st.queue_full++;
        return vsmr_fail(VSMR_EAGAIN, "send queue to node %u is full "
                         "(%zu bytes)", peer, tcp_conn_queued(p->conn));
    }
    int rc = tcp_conn_queue(p->conn, msg, len);
    if (rc == VSMR_OK)
        p->st.msgs_sent++;
    return rc;
}

static int tcp_flush(vsmr_transport *t)
{
    for (uint32_t id = 1; id <= VSMR_MAX_PEERS; id++) {
        struct tcp_conn *c = t->peers[id].conn;
        if (c && !c->dead && (c->open_frame != SIZE_MAX ||
                              tcp_conn_queued(c) > 0) && !c->want_write)
            tcp_conn_flush(c);
    }
    return VSMR_OK;
}

static void handle_conn_event(struct tcp_conn *c, uint32_t events)
{
    /* busy: an owner that polls from inside on_message must not re-enter
     * the reader of this connection (its input buffer is being parsed);
     * the event is asked for again (level-triggered: reported anyway). */
    if (c->dead)
        return;
    if (c->busy) {
        tcp_conn_rearm(c);
        return;
    }
    if (c->state == CONN_CONNECTING) {
        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
            return;
        on_connect_done(c);
        /* Go on: the peer's hello may have come with this event (EPOLLIN),
         * and an edge-triggered socket would not report it again. */
        if (c->dead || c->state == CONN_CONNECTING)
            return;
    }
    c->busy = true;
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        tcp_conn_on_readable(c);
    if (!c->dead && (events & EPOLLOUT))
        tcp_conn_on_writable(c);
    c->busy = false;
}

static void handle_event(struct vsmr_transport *t, struct epoll_event *ev)
{
    if (ev->data.ptr == &t->listen_fd)
        accept_all(t);
    else
        handle_conn_event(ev->data.ptr, ev->events);
}

/* Frees connections reset during this poll (never during dispatch, so an
 * epoll event can never point at freed memory; a busy one is being
 * dispatched further up the stack and waits for the next reap). */
static void reap_dead(struct vsmr_transport *t)
{
    struct tcp_conn **pp = &t->conns;
    while (*pp) {
        struct tcp_conn *c = *pp;
        if (c->dead && !c->busy) {
            *pp = c->next;
            tcp_conn_free(c);
        } else {
            pp = &c->next;
        }
    }
}

/* Owner's loop: one socket's event. A reset socket has left the owner's
 * set at once, so no later event of this round can reach a freed conn. */
static void on_conn_event(void *arg, uint32_t events)
{
    struct tcp_conn *c = arg;
    struct vsmr_transport *t = c->t;
    handle_conn_event(c, events);
    reap_dead(t);
}

static void on_listen_event(void *arg, uint32_t events)
{
    accept_all(arg);
}

static void run_timers(struct vsmr_transport *t, int64_t now)
{
    for (struct tcp_conn *c = t->conns; c; c = c->next)
        if (!c->dead)
            tcp_conn_tick(c, now);
    for (uint32_t id = t->cfg.self_id + 1; id <= VSMR_MAX_PEERS; id++) {
        struct tcp_peer *p = &t->peers[id];
        if (p->known && !p->dial_off && !p->conn && !p->dialing &&
            now >= p->next_dial_ms)
            dial(t, p);
    }
}

/* Owner's loop: poll() has no epoll set of its own to ask, so it offers
 * every socket a non-blocking read (and a write if output waits). Called
 * on ticks and by an owner waiting for its queue to drain, so the extra
 * EAGAIN reads are rare. */
static void sweep(struct vsmr_transport *t)
{
    accept_all(t);
    for (struct tcp_conn *c = t->conns; c; c = c->next)
        if (c->state != CONN_CONNECTING)
            handle_conn_event(c, EPOLLIN | (c->want_write ? EPOLLOUT : 0));
}

static int tcp_poll(vsmr_transport *t)
{
    if (t->cfg.loop.add) {
        sweep(t);
        run_timers(t, vsmr_now_ms());
        reap_dead(t);
        return VSMR_OK;
    }
    struct epoll_event evs[64];
    int n;
    do {
        n = epoll_wait(t->epfd, evs, 64, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return vsmr_fail_errno(VSMR_ESYS, "epoll_wait in the transport");
    for (int i = 0; i < n; i++)
        handle_event(t, &evs[i]);
    run_timers(t, vsmr_now_ms());
    reap_dead(t);
    return VSMR_OK;
}

static int tcp_fd(const vsmr_transport *t)
{
    return t->epfd;
}

static int tcp_next_timeout_ms(const vsmr_transport *t)
{
    int64_t now = vsmr_now_ms();
    int64_t best = t->conns ? (int64_t)t->cfg.idle_timeout_ms / 8 : -1;
    for (uint32_t id = t->cfg.self_id + 1; id <= VSMR_MAX_PEERS; id++) {
        const struct tcp_peer *p = &t->peers[id];
        if (!p->known || p->dial_off || p->conn || p->dialing)
            continue;
        int64_t wait = p->next_dial_ms > now ? p->next_dial_ms - now : 0;
        if (best < 0 || wait < best)
            best = wait;
    }
    return (int)best;
}

static void tcp_stats(const vsmr_transport *t, uint32_t peer,
                      struct vsmr_peer_stats *out)
{
    memset(out, 0, sizeof *out);
    out->last_contact_ms = -1;
    if (peer < 1 || peer > VSMR_MAX_PEERS || !t->peers[peer].known)
        return;
    const struct tcp_peer *p = &t->peers[peer];
    *out = p->st;
    out->connected = p->conn && !p->conn->dead;
    out->queued_bytes = out->connected ? tcp_conn_queued(p->conn) : 0;
    out->transport = "tcp";
}

static void tcp_set_dial(vsmr_transport *t, uint32_t peer, bool on)
{
    if (peer <= t->cfg.self_id || peer > VSMR_MAX_PEERS ||
        !t->peers[peer].known)
        return;
    struct tcp_peer *p = &t->peers[peer];
    if (vsmr_dial_switch(&p->dial_off, on, &p->next_dial_ms, &p->backoff_ms,
                         TCP_BACKOFF_MIN_MS) && p->dialing && !on)
        tcp_conn_reset(p->dialing, "dial_abandoned", VSMR_DIAL_ABANDONED);
}

static void tcp_drop(vsmr_transport *t, uint32_t peer, const char *reason)
{
    if (peer >= 1 && peer <= VSMR_MAX_PEERS && t->peers[peer].conn)
        tcp_conn_reset(t->peers[peer].conn, "conn_closed", reason);
}

static void tcp_close(vsmr_transport *t)
{
    if (!t)
        return;
    t->h.on_peer = NULL;   /* the owner is going away */
    for (struct tcp_conn *c = t->conns; c; c = c->next)
        if (!c->dead)
            tcp_conn_reset(c, "conn_closed", "transport closing");
    reap_dead(t);
    if (t->listen_fd >= 0) {
        unwatch(t, t->listen_fd);
        close(t->listen_fd);
    }
    if (t->epfd >= 0)
        close(t->epfd);
    sodium_memzero(t->cfg.key, sizeof t->cfg.key);
    free(t);
}

const struct vsmr_transport_ops vsmr_transport_tcp_ops = {
    .name = "tcp",
    .open = tcp_open,
    .send = tcp_send,
    .flush = tcp_flush,
    .poll = tcp_poll,
    .fd = tcp_fd,
    .next_timeout_ms = tcp_next_timeout_ms,
    .stats = tcp_stats,
    .close = tcp_close,
    .set_dial = tcp_set_dial,
    .drop = tcp_drop,
};
