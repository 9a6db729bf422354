/*
 * tcp_conn.c - one TCP connection of the tcp transport: the hello/auth
 * handshake, reassembly and authentication of received frames, and the
 * batching of outgoing messages into sealed frames written in one go.
 * Peer bookkeeping and epoll live in tcp.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "transport/tcp_impl.h"

#define READ_CHUNK   (64u << 10)
#define READ_ROUNDS  16      /* reads per poll, so one peer cannot starve */

static uint32_t be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | p[3];
}

/* Makes room for extra bytes after b->len, moving live bytes to the front
 * first so the buffer does not creep. Returns the shift applied. */
static int buf_reserve(struct buf *b, size_t extra, size_t *shift)
{
    *shift = 0;
    if (b->off > 0 && (b->off == b->len || b->off >= b->cap / 2)) {
        memmove(b->data, b->data + b->off, b->len - b->off);
        *shift = b->off;
        b->len -= b->off;
        b->off = 0;
    }
    if (b->cap - b->len >= extra)
        return VSMR_OK;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len < extra)
        cap *= 2;
    uint8_t *d = realloc(b->data, cap);
    if (!d)
        return vsmr_fail(VSMR_ENOMEM, "connection buffer of %zu bytes", cap);
    b->data = d;
    b->cap = cap;
    return VSMR_OK;
}

struct tcp_conn *tcp_conn_new(struct vsmr_transport *t, int fd, bool dialer,
                              uint32_t peer_id, const char *addr)
{
    struct tcp_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->t = t;
    c->fd = fd;
    c->dialer = dialer;
    c->peer_id = peer_id;
    c->open_frame = SIZE_MAX;
    c->state = CONN_CONNECTING;
    snprintf(c->addr, sizeof c->addr, "%s", addr);
    c->deadline_ms = vsmr_now_ms() + TCP_HANDSHAKE_MS;
    vsmr_hello_init(&c->my_hello, t->cfg.cluster_id, t->cfg.self_id,
                    t->cfg.cipher);
    return c;
}

void tcp_conn_free(struct tcp_conn *c)
{
    vsmr_session_wipe(&c->sess);
    free(c->in.data);
    free(c->out.data);
    free(c);
}

static struct vsmr_peer_stats *conn_stats(struct tcp_conn *c)
{
    if (c->peer_id >= 1 && c->peer_id <= VSMR_MAX_PEERS)
        return &c->t->peers[c->peer_id].st;
    return NULL;
}

/* Appends raw bytes (handshake messages) to the output. */
static int queue_raw(struct tcp_conn *c, const uint8_t *p, size_t n)
{
    size_t shift;
    int rc = buf_reserve(&c->out, n, &shift);
    if (rc < 0)
        return rc;
    memcpy(c->out.data + c->out.len, p, n);
    c->out.len += n;
    return VSMR_OK;
}

void tcp_conn_start_handshake(struct tcp_conn *c)
{
    uint8_t hello[VSMR_HELLO_WIRE_LEN];
    vsmr_hello_encode(&c->my_hello, hello);
    c->state = CONN_HELLO;
    if (queue_raw(c, hello, sizeof hello) < 0) {
        tcp_conn_reset(c, "conn_error", vsmr_errmsg());
        return;
    }
    tcp_conn_flush(c);
}

static void seal_open_frame(struct tcp_conn *c)
{
    size_t shift;
    if (buf_reserve(&c->out, VSMR_FRAME_TAG_LEN, &shift) < 0) {
        tcp_conn_reset(c, "conn_error", vsmr_errmsg());
        return;
    }
    c->open_frame -= shift;
    size_t body = c->out.len - c->open_frame - VSMR_FRAME_HDR_LEN;
    long n = vsmr_frame_seal(&c->sess, c->out.data + c->open_frame, body);
    if (n < 0) {
        tcp_conn_reset(c, "conn_error", vsmr_errmsg());
        return;
    }
    c->out.len += VSMR_FRAME_TAG_LEN;
    c->open_frame = SIZE_MAX;
    struct vsmr_peer_stats *st = conn_stats(c);
    if (st)
        st->frames_sent++;
}

static int open_new_frame(struct tcp_conn *c)
{
    size_t shift;
    int rc = buf_reserve(&c->out, VSMR_FRAME_HDR_LEN, &shift);
    if (rc < 0)
        return rc;
    c->open_frame = c->out.len;
    c->out.len += VSMR_FRAME_HDR_LEN;
    return VSMR_OK;
}

int tcp_conn_queue(struct tcp_conn *c, const void *msg, size_t len)
{
    if (c->open_frame != SIZE_MAX) {
        size_t body = c->out.len - c->open_frame - VSMR_FRAME_HDR_LEN;
        if (body > 0 && body + 4 + len > TCP_BATCH_SOFT_MAX)
            seal_open_frame(c);
    }
    if (c->dead)
        return vsmr_fail(VSMR_ECLOSED, "connection to node %u reset",
                         c->peer_id);
    int rc;
    if (c->open_frame == SIZE_MAX && (rc = open_new_frame(c)) < 0)
        return rc;
    size_t shift;
    if ((rc = buf_reserve(&c->out, 4 + len, &shift)) < 0)
        return rc;
    c->open_frame -= shift;
    uint8_t *p = c->out.data + c->out.len;
    p[0] = (uint8_t)(len >> 24);
    p[1] = (uint8_t)(len >> 16);
    p[2] = (uint8_t)(len >> 8);
    p[3] = (uint8_t)len;
    memcpy(p + 4, msg, len);
    c->out.len += 4 + len;
    return VSMR_OK;
}

/* An empty frame: tells an idle peer we are alive. */
static void send_keepalive(struct tcp_conn *c)
{
    if (c->open_frame == SIZE_MAX && open_new_frame(c) < 0) {
        tcp_conn_reset(c, "conn_error", vsmr_errmsg());
        return;
    }
    tcp_conn_flush(c);
}

size_t tcp_conn_queued(const struct tcp_conn *c)
{
    return c->out.len - c->out.off;
}

int tcp_conn_flush(struct tcp_conn *c)
{
    if (c->open_frame != SIZE_MAX && c->state == CONN_UP)
        seal_open_frame(c);
    struct vsmr_peer_stats *st = c->state == CONN_UP ? conn_stats(c) : NULL;
    while (!c->dead && c->out.off < c->out.len) {
        ssize_t n = write(c->fd, c->out.data + c->out.off,
                          c->out.len - c->out.off);
        if (st)
            st->syscalls++;
        if (n > 0) {
            c->out.off += (size_t)n;
            c->last_tx_ms = vsmr_now_ms();
            if (st)
                st->bytes_sent += (uint64_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return tcp_set_events(c, true);
        tcp_conn_reset(c, "conn_closed", n < 0 ? strerror(errno)
                                                : "write returned 0");
        return VSMR_ECLOSED;
    }
    if (c->dead)
        return VSMR_ECLOSED;
    c->out.off = c->out.len = 0;
    return c->want_write ? tcp_set_events(c, false) : VSMR_OK;
}

void tcp_conn_on_writable(struct tcp_conn *c)
{
    tcp_conn_flush(c);
}

/* Checks the peer's hello, derives keys, answers with our proof. */
static void handle_hello(struct tcp_conn *c, const struct vsmr_hello *h)
{
    struct vsmr_transport *t = c->t;
    char why[160];
    if (h->cluster_id != t->cfg.cluster_id) {
        snprintf(why, sizeof why, "cluster id %llu, expected %llu",
                 (unsigned long long)h->cluster_id,
                 (unsigned long long)t->cfg.cluster_id);
        tcp_conn_reset(c, "auth_refused", why);
        return;
    }
    if (c->dialer && h->node_id != c->peer_id) {
        snprintf(why, sizeof why, "dialed node %u but node %u answered",
                 c->peer_id, h->node_id);
        tcp_conn_reset(c, "auth_refused", why);
        return;
    }
    if (!c->dialer) {
        uint32_t id = h->node_id;
        if (id < 1 || id > VSMR_MAX_PEERS || !t->peers[id].known ||
            id == t->cfg.self_id) {
            snprintf(why, sizeof why, "unknown peer id %u", id);
            tcp_conn_reset(c, "auth_refused", why);
            return;
        }
        if (id > t->cfg.self_id) {
            snprintf(why, sizeof why, "node %u dialed us but the lower id "
                     "dials", id);
            tcp_conn_reset(c, "auth_refused", why);
            return;
        }
        c->peer_id = id;
    }
    const struct vsmr_hello *d = c->dialer ? &c->my_hello : h;
    const struct vsmr_hello *a = c->dialer ? h : &c->my_hello;
    if (vsmr_session_derive(&c->sess, t->cfg.key, d, a, c->dialer) < 0) {
        tcp_conn_reset(c, "auth_refused", vsmr_errmsg());
        return;
    }
    uint8_t proof[VSMR_AUTH_WIRE_LEN];
    vsmr_session_auth_encode(&c->sess, proof);
    c->state = CONN_AUTH;
    if (queue_raw(c, proof, sizeof proof) < 0) {
        tcp_conn_reset(c, "conn_error", vsmr_errmsg());
        return;
    }
    tcp_conn_flush(c);
}

/* Hands each message of an authenticated frame body to the owner. */
static void dispatch_body(struct tcp_conn *c, const uint8_t *p, size_t n)
{
    struct vsmr_transport *t = c->t;
    struct vsmr_peer_stats *st = conn_stats(c);
    while (n > 0 && !c->dead) {
        if (n < 4) {
            tcp_conn_reset(c, "frame_rejected", "truncated message record");
            return;
        }
        uint32_t len = be32(p);
        if (len > n - 4 || len > t->cfg.max_message) {
            tcp_conn_reset(c, "frame_rejected",
                           "message record overflows its frame");
            return;
        }
        st->msgs_received++;
        if (t->h.on_message)
            t->h.on_message(t->h.ctx, c->peer_id, p + 4, len);
        p += 4 + len;
        n -= 4 + len;
    }
}

/* Parses one handshake message or frame from the input; returns false
 * when more bytes are needed (or the connection died). */
static bool parse_one(struct tcp_conn *c)
{
    uint8_t *p = c->in.data + c->in.off;
    size_t avail = c->in.len - c->in.off;
    size_t need;
    if (c->state == CONN_HELLO || c->state == CONN_AUTH) {
        need = c->state == CONN_HELLO ? VSMR_HELLO_WIRE_LEN
                                      : VSMR_AUTH_WIRE_LEN;
        if (avail >= 4 && be32(p) != need - 4) {
            tcp_conn_reset(c, "handshake_rejected", c->state == CONN_HELLO
                           ? "not a VSMR hello (garbage or another protocol)"
                           : "malformed key proof");
            return false;
        }
        if (avail < need)
            return false;
        if (c->state == CONN_HELLO) {
            struct vsmr_hello h;
            if (vsmr_hello_decode(p, need, &h) < 0)
                tcp_conn_reset(c, "handshake_rejected", vsmr_errmsg());
            else
                handle_hello(c, &h);
        } else if (vsmr_session_auth_check(&c->sess, p, need) < 0) {
            tcp_conn_reset(c, "auth_refused", vsmr_errmsg());
        } else {
            c->in.off += need;
            tcp_conn_established(c);
            return !c->dead;
        }
        c->in.off += need;
        return !c->dead;
    }
    int rc = vsmr_frame_peek(p, avail, c->t->max_body, &need);
    if (rc == VSMR_EAGAIN)
        return false;
    if (rc < 0) {
        tcp_conn_reset(c, "frame_rejected", vsmr_errmsg());
        return false;
    }
    if (avail < need) {
        size_t shift;
        if (buf_reserve(&c->in, need - avail, &shift) < 0)
            tcp_conn_reset(c, "conn_error", vsmr_errmsg());
        return false;
    }
    uint8_t *body;
    size_t blen;
    if (vsmr_frame_open(&c->sess, p, need, &body, &blen) < 0) {
        tcp_conn_reset(c, "frame_rejected", vsmr_errmsg());
        return false;
    }
    c->in.off += need;
    conn_stats(c)->frames_received++;
    dispatch_body(c, body, blen);
    return !c->dead;
}

/* Reads until the socket is empty (a short read), which an
 * edge-triggered socket requires, or for READ_ROUNDS full reads, after
 * which it asks for another event so one peer cannot starve the rest. */
void tcp_conn_on_readable(struct tcp_conn *c)
{
    for (int round = 0; round < READ_ROUNDS && !c->dead; round++) {
        size_t shift;
        if (buf_reserve(&c->in, READ_CHUNK, &shift) < 0) {
            tcp_conn_reset(c, "conn_error", vsmr_errmsg());
            return;
        }
        ssize_t n = read(c->fd, c->in.data + c->in.len,
                         c->in.cap - c->in.len);
        if (c->state == CONN_UP)
            conn_stats(c)->syscalls++;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            tcp_conn_reset(c, "conn_closed",
                           n == 0 ? "closed by peer" : strerror(errno));
            return;
        }
        c->in.len += (size_t)n;
        c->last_rx_ms = vsmr_now_ms();
        struct vsmr_peer_stats *st = c->state == CONN_UP ? conn_stats(c)
                                                         : NULL;
        if (st) {
            st->bytes_received += (uint64_t)n;
            st->last_contact_ms = c->last_rx_ms;
        }
        while (parse_one(c))
            ;
        if (c->in.off == c->in.len)
            c->in.off = c->in.len = 0;
        if ((size_t)n < READ_CHUNK)
            return;
    }
    tcp_conn_rearm(c);
}

void tcp_conn_tick(struct tcp_conn *c, int64_t now)
{
    unsigned idle = c->t->cfg.idle_timeout_ms;
    if (c->state != CONN_UP) {
        if (now > c->deadline_ms)
            tcp_conn_reset(c, c->state == CONN_CONNECTING ? "connect_failed"
                                                          : "handshake_timeout",
                           "no answer in time");
        return;
    }
    if (now - c->last_rx_ms > (int64_t)idle)
        tcp_conn_reset(c, "peer_timeout", "nothing heard within the idle "
                       "timeout");
    else if (now - c->last_tx_ms >= (int64_t)idle / 4)
        send_keepalive(c);
}
