/*
 * service.c - the guest's client-facing service address (service.h).
 *
 * Framing both ways: u32 little-endian length, then a sim request or
 * response (vsmr/sim.h). The request id is replaced by a tag unique on
 * this node before the request becomes a log entry, so the response the
 * guest releases (possibly epochs later) finds its way back.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/err.h"
#include "logline.h"
#include "service.h"
#include "vsmr/sim.h"

#define MAX_CONNS     256
#define MAX_FRAME     4096u
#define TAG_SLOTS     (1u << 17)   /* power of two, > MAX_INFLIGHT */
#define MAX_INFLIGHT  65536u
#define MAX_BATCH     256
#define MAX_OUT_BYTES (8u << 20)   /* a client that stops reading */

struct service;

struct conn {
    struct service *svc;
    int fd;                 /* -1: free slot */
    uint32_t gen;
    uint8_t in[4 + MAX_FRAME];
    size_t in_len;
    struct strbuf out;
    bool polling_out;
};

struct tag_slot {
    uint32_t tag;           /* 0: free */
    uint16_t conn;
    uint32_t gen;
    uint32_t client_id;
};

struct service {
    int fd;
    struct loop *loop;
    struct node *node;
    bool (*serving)(void *ctx);
    void *serving_ctx;
    struct conn conns[MAX_CONNS];
    struct tag_slot *tags;
    uint32_t inflight, next_tag;
    uint64_t requests, responses, not_primary, dropped_responses, refused;
};

/* --- tags ------------------------------------------------------------------ */

static uint32_t tag_home(uint32_t tag)
{
    return (tag * 2654435761u) & (TAG_SLOTS - 1);
}

/* The slot holding tag, or NULL (linear probing from its home slot). */
static struct tag_slot *tag_lookup(struct service *s, uint32_t tag)
{
    for (uint32_t i = 0; i < TAG_SLOTS; i++) {
        struct tag_slot *t = &s->tags[(tag_home(tag) + i) & (TAG_SLOTS - 1)];
        if (t->tag == tag)
            return t;
        if (!t->tag)
            return NULL;
    }
    return NULL;
}

/* The first free slot of tag's probe chain (the table is never full:
 * MAX_INFLIGHT < TAG_SLOTS). */
static struct tag_slot *tag_free_slot(struct service *s, uint32_t tag)
{
    for (uint32_t i = 0;; i++) {
        struct tag_slot *t = &s->tags[(tag_home(tag) + i) & (TAG_SLOTS - 1)];
        if (!t->tag)
            return t;
    }
}

static void tag_remove(struct service *s, struct tag_slot *t)
{
    /* Backward-shift deletion keeps probe chains intact. */
    uint32_t i = (uint32_t)(t - s->tags);
    t->tag = 0;
    for (uint32_t j = (i + 1) & (TAG_SLOTS - 1);; j = (j + 1) & (TAG_SLOTS - 1)) {
        struct tag_slot *n = &s->tags[j];
        if (!n->tag)
            break;
        uint32_t home = tag_home(n->tag);
        if (((j - home) & (TAG_SLOTS - 1)) >= ((j - i) & (TAG_SLOTS - 1))) {
            s->tags[i] = *n;
            n->tag = 0;
            i = j;
        }
    }
    s->inflight--;
}

static uint32_t new_tag(struct service *s)
{
    /* The node id in the top bits: tags of a former primary, released by
     * a promoted backup, never match this node's. */
    uint32_t tag;
    do {
        s->next_tag = (s->next_tag + 1) & 0x0fffffffu;
        tag = node_id(s->node) << 28 | s->next_tag;
    } while (!s->next_tag || tag_lookup(s, tag));
    return tag;
}

/* --- connections ----------------------------------------------------------- */

static void conn_close(struct service *s, struct conn *c)
{
    loop_del(s->loop, c->fd);
    close(c->fd);
    c->fd = -1;
    c->gen++;
    c->in_len = 0;
    sb_free(&c->out);
    c->polling_out = false;
}

static void conn_flush(struct service *s, struct conn *c)
{
    while (c->out.len) {
        ssize_t n = write(c->fd, c->out.data, c->out.len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        if (n <= 0) {
            conn_close(s, c);
            return;
        }
        sb_consume(&c->out, (size_t)n);
    }
    bool want = c->out.len > 0;
    if (want != c->polling_out) {
        loop_mod(s->loop, c->fd, EPOLLIN | (want ? EPOLLOUT : 0));
        c->polling_out = want;
    }
}

static void send_frame(struct service *s, struct conn *c, const uint8_t *msg,
                       size_t len)
{
    if (c->out.len + len + 4 > MAX_OUT_BYTES) {
        logline(VSMR_LOG_WARN, "client_dropped", "reason=\"not reading its "
                "responses (%zu bytes queued)\"", c->out.len);
        conn_close(s, c);
        return;
    }
    uint8_t hdr[4];
    put_le32(hdr, (uint32_t)len);
    sb_append(&c->out, hdr, 4);
    sb_append(&c->out, msg, len);
    conn_flush(s, c);
}

static void reply_status(struct service *s, struct conn *c, uint32_t id,
                         uint8_t status, const char *text)
{
    uint8_t msg[8 + 64];
    size_t tl = strlen(text);
    put_le32(msg, id);
    msg[4] = status;
    msg[5] = 0;
    msg[6] = (uint8_t)tl;
    msg[7] = 0;
    memcpy(msg + 8, text, tl);
    send_frame(s, c, msg, 8 + tl);
}

static void not_primary(struct service *s, struct conn *c, uint32_t id)
{
    char text[32];
    snprintf(text, sizeof text, "leader=%u", node_leader(s->node));
    s->not_primary++;
    reply_status(s, c, id, SERVICE_NOT_PRIMARY, text);
}

struct batch {
    struct vsmr_entry ents[MAX_BATCH];
    uint8_t data[MAX_BATCH][MAX_FRAME];
    uint32_t client_ids[MAX_BATCH];
    size_t n;
};

static void propose_batch(struct service *s, struct conn *c, struct batch *b)
{
    if (!b->n)
        return;
    uint64_t index, term;
    int rc = node_propose(s->node, b->ents, b->n, &index, &term);
    for (size_t i = 0; i < b->n; i++) {
        uint32_t tag = get_le32(b->data[i]);
        struct tag_slot *t = tag_lookup(s, tag);
        if (rc == VSMR_OK || !t)
            continue;
        tag_remove(s, t);      /* not in the log: answer now */
        not_primary(s, c, b->client_ids[i]);
    }
    b->n = 0;
}

static void take_request(struct service *s, struct conn *c, struct batch *b,
                         const uint8_t *req, size_t len)
{
    uint32_t client_id = get_le32(req);
    s->requests++;
    if (!s->serving(s->serving_ctx)) {
        not_primary(s, c, client_id);
        return;
    }
    if (s->inflight >= MAX_INFLIGHT) {
        s->refused++;
        reply_status(s, c, client_id, VSMR_SIM_FULL, "busy");
        return;
    }
    uint32_t tag = new_tag(s);
    struct tag_slot *t = tag_free_slot(s, tag);
    *t = (struct tag_slot){.tag = tag, .conn = (uint16_t)(c - s->conns),
                           .gen = c->gen, .client_id = client_id};
    s->inflight++;
    memcpy(b->data[b->n], req, len);
    put_le32(b->data[b->n], tag);
    b->client_ids[b->n] = client_id;
    b->ents[b->n] = (struct vsmr_entry){.type = VSMR_ENTRY_NORMAL,
                                        .data = b->data[b->n],
                                        .len = (uint32_t)len};
    if (++b->n == MAX_BATCH)
        propose_batch(s, c, b);
}

/* Splits the input buffer into frames; false if the client broke the
 * framing (then it is disconnected). */
static bool parse_frames(struct service *s, struct conn *c, struct batch *b)
{
    size_t pos = 0;
    while (c->in_len - pos >= 4) {
        uint32_t len = get_le32(c->in + pos);
        if (len < 12 || len > MAX_FRAME) {
            logline(VSMR_LOG_WARN, "client_protocol_error", "reason=\"frame "
                    "of %u bytes (12..%u)\"", len, MAX_FRAME);
            return false;
        }
        if (c->in_len - pos - 4 < len)
            break;
        take_request(s, c, b, c->in + pos + 4, len);
        pos += 4 + len;
    }
    memmove(c->in, c->in + pos, c->in_len - pos);
    c->in_len -= pos;
    return true;
}

static void on_conn(void *ctx, uint32_t events)
{
    struct conn *c = ctx;
    struct service *s = c->svc;
    if (events & EPOLLOUT)
        conn_flush(s, c);
    if (c->fd < 0 || !(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        return;
    static struct batch b;     /* one loop thread; too big for the stack */
    b.n = 0;
    for (;;) {
        ssize_t n = read(c->fd, c->in + c->in_len, sizeof c->in - c->in_len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        if (n <= 0 || (c->in_len += (size_t)n, !parse_frames(s, c, &b))) {
            propose_batch(s, c, &b);
            if (c->fd >= 0)
                conn_close(s, c);
            return;
        }
    }
    propose_batch(s, c, &b);
}

static void on_accept(void *ctx, uint32_t events)
{
    struct service *s = ctx;
    for (;;) {
        int fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        struct conn *c = NULL;
        for (int i = 0; i < MAX_CONNS && !c; i++)
            if (s->conns[i].fd < 0)
                c = &s->conns[i];
        if (!c || loop_add(s->loop, fd, EPOLLIN, on_conn, c) < 0) {
            logline(VSMR_LOG_WARN, "client_refused", "reason=\"%d "
                    "connections already\"", MAX_CONNS);
            close(fd);
            continue;
        }
        c->fd = fd;
        c->in_len = 0;
    }
}

void service_release(struct service *s, const uint8_t *resp, size_t len)
{
    struct tag_slot *t = len >= 8 ? tag_lookup(s, get_le32(resp)) : NULL;
    if (!t) {
        /* Released by a promoted backup for a former primary's client, or
         * for a client that left: nobody to tell. */
        s->dropped_responses++;
        return;
    }
    struct conn *c = &s->conns[t->conn];
    uint32_t client_id = t->client_id;
    bool alive = c->fd >= 0 && c->gen == t->gen;
    tag_remove(s, t);
    if (!alive || len > MAX_FRAME) {
        s->dropped_responses++;
        return;
    }
    uint8_t msg[MAX_FRAME];
    memcpy(msg, resp, len);
    put_le32(msg, client_id);
    s->responses++;
    send_frame(s, c, msg, len);
}

static int open_listener(const struct sockaddr_storage *addr, socklen_t len)
{
    int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    0);
    int one = 1;
    if (fd < 0)
        return vsmr_fail_errno(VSMR_ESYS, "client_listen: socket");
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (const struct sockaddr *)addr, len) < 0 ||
        listen(fd, 128) < 0) {
        char text[80];
        vsmr_format_addr(addr, text, sizeof text);
        int rc = vsmr_fail_errno(VSMR_ESYS, "client_listen %s", text);
        close(fd);
        return rc;
    }
    return fd;
}

int service_start(const struct sockaddr_storage *addr, socklen_t len,
                  struct loop *l, struct node *n,
                  bool (*serving)(void *ctx), void *ctx,
                  struct service **out)
{
    struct service *s = calloc(1, sizeof *s);
    if (!s || !(s->tags = calloc(TAG_SLOTS, sizeof *s->tags))) {
        free(s);
        return vsmr_fail(VSMR_ENOMEM, "service: out of memory");
    }
    s->loop = l;
    s->node = n;
    s->serving = serving;
    s->serving_ctx = ctx;
    for (int i = 0; i < MAX_CONNS; i++) {
        s->conns[i].fd = -1;
        s->conns[i].svc = s;
    }
    s->fd = open_listener(addr, len);
    int rc = s->fd < 0 ? s->fd : loop_add(l, s->fd, EPOLLIN, on_accept, s);
    if (rc < 0) {
        if (s->fd >= 0)
            close(s->fd);
        free(s->tags);
        free(s);
        return rc;
    }
    *out = s;
    return VSMR_OK;
}

void service_stop(struct service *s)
{
    if (!s)
        return;
    for (int i = 0; i < MAX_CONNS; i++)
        if (s->conns[i].fd >= 0)
            conn_close(s, &s->conns[i]);
    loop_del(s->loop, s->fd);
    close(s->fd);
    free(s->tags);
    free(s);
}

void service_status(struct service *s, struct strbuf *out)
{
    unsigned clients = 0;
    for (int i = 0; i < MAX_CONNS; i++)
        clients += s->conns[i].fd >= 0;
    sb_printf(out, "service clients=%u requests=%llu responses=%llu "
              "in_flight=%u not_primary=%llu dropped_responses=%llu "
              "refused=%llu\n", clients, (unsigned long long)s->requests,
              (unsigned long long)s->responses, s->inflight,
              (unsigned long long)s->not_primary,
              (unsigned long long)s->dropped_responses,
              (unsigned long long)s->refused);
}
