/*
 * sim_io.c - the sim guest's input and output: requests sent over the
 * socket, responses received from it (or from the outbox that pause fills
 * while it waits), and the request/response encoding.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/err.h"
#include "guest/sim/sim_impl.h"
#include "vsmr/sim.h"

struct sim_outbox {
    size_t head, count, cap;
    struct { uint16_t len; uint8_t *data; } *items;
};

static struct sim_guest *as_sim(vsmr_guest *g)
{
    if (!g || g->ops != &vsmr_guest_sim_ops)
        return NULL;
    return (struct sim_guest *)g;
}

static int outbox_push(struct sim_guest *s, const void *msg, size_t len)
{
    struct sim_outbox *o = s->outbox;
    if (!o && !(o = s->outbox = calloc(1, sizeof *o)))
        return vsmr_fail(VSMR_ENOMEM, "sim outbox: out of memory");
    if (o->count == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 256;
        void *items = calloc(cap, sizeof *o->items);
        if (!items)
            return vsmr_fail(VSMR_ENOMEM, "sim outbox: out of memory");
        for (size_t i = 0; i < o->count; i++)
            memcpy((char *)items + i * sizeof *o->items,
                   &o->items[(o->head + i) % o->cap], sizeof *o->items);
        free(o->items);
        o->items = items;
        o->cap = cap;
        o->head = 0;
    }
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return vsmr_fail(VSMR_ENOMEM, "sim outbox: out of memory");
    memcpy(copy, msg, len);
    size_t at = (o->head + o->count) % o->cap;
    o->items[at].len = (uint16_t)len;
    o->items[at].data = copy;
    o->count++;
    return VSMR_OK;
}

static int outbox_pop(struct sim_guest *s, void *buf, size_t cap, size_t *len)
{
    struct sim_outbox *o = s->outbox;
    if (!o || !o->count)
        return VSMR_EAGAIN;
    size_t n = o->items[o->head].len;
    if (n > cap)
        return vsmr_fail(VSMR_ERANGE, "response of %zu bytes does not fit "
                         "a %zu-byte buffer", n, cap);
    memcpy(buf, o->items[o->head].data, n);
    free(o->items[o->head].data);
    o->head = (o->head + 1) % o->cap;
    o->count--;
    *len = n;
    return VSMR_OK;
}

void sim_outbox_free(struct sim_guest *s)
{
    size_t n;
    uint8_t tmp[VSMR_SIM_MAX_MSG];
    while (s->outbox && outbox_pop(s, tmp, sizeof tmp, &n) == VSMR_OK)
        ;
    if (s->outbox)
        free(s->outbox->items);
    free(s->outbox);
    s->outbox = NULL;
}

int sim_drain(struct sim_guest *s)
{
    uint8_t buf[VSMR_SIM_MAX_MSG];
    for (;;) {
        ssize_t n = recv(s->sock, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return VSMR_OK;
        if (n <= 0)
            return vsmr_fail(VSMR_ECLOSED, "sim guest closed its output");
        int rc = outbox_push(s, buf, (size_t)n);
        if (rc < 0)
            return rc;
    }
}

int vsmr_sim_send(vsmr_guest *g, const void *req, size_t len)
{
    struct sim_guest *s = as_sim(g);
    if (!s || !req || len == 0 || len > VSMR_SIM_MAX_MSG)
        return vsmr_fail(VSMR_EINVAL, "sim send: not a sim guest, or a "
                         "request of %zu bytes (1..%u)", len, VSMR_SIM_MAX_MSG);
    for (;;) {
        if (send(s->sock, req, len, MSG_NOSIGNAL) == (ssize_t)len) {
            s->sent++;
            return VSMR_OK;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != ENOBUFS)
            return vsmr_fail_errno(VSMR_ECLOSED, "sim send");
        int rc = sim_drain(s);      /* guest blocked on output: make room */
        if (rc < 0)
            return rc;
    }
}

int vsmr_sim_recv(vsmr_guest *g, void *buf, size_t cap, size_t *len,
                  int timeout_ms)
{
    struct sim_guest *s = as_sim(g);
    if (!s || !buf || !len)
        return vsmr_fail(VSMR_EINVAL, "sim recv: not a sim guest");
    int rc = outbox_pop(s, buf, cap, len);
    if (rc != VSMR_EAGAIN)
        return rc;
    struct pollfd p = {.fd = s->sock, .events = POLLIN};
    int n = poll(&p, 1, timeout_ms);
    if (n < 0)
        return errno == EINTR ? VSMR_EAGAIN
                              : vsmr_fail_errno(VSMR_ESYS, "sim recv: poll");
    if (n == 0)
        return VSMR_EAGAIN;
    ssize_t got = recv(s->sock, buf, cap, MSG_DONTWAIT | MSG_TRUNC);
    if (got < 0)
        return errno == EAGAIN ? VSMR_EAGAIN
                               : vsmr_fail_errno(VSMR_ECLOSED, "sim recv");
    if (got == 0)
        return vsmr_fail(VSMR_ECLOSED, "sim guest closed its output");
    if ((size_t)got > cap)
        return vsmr_fail(VSMR_ERANGE, "response of %zd bytes was cut to %zu",
                         got, cap);
    *len = (size_t)got;
    return VSMR_OK;
}

uint64_t vsmr_sim_sent(vsmr_guest *g)
{
    struct sim_guest *s = as_sim(g);
    return s ? s->sent : 0;
}

uint64_t vsmr_sim_completed(vsmr_guest *g)
{
    struct sim_guest *s = as_sim(g);
    return s ? atomic_load(&s->ctl->completed) : 0;
}

uint64_t vsmr_sim_scratch_pages(vsmr_guest *g)
{
    struct sim_guest *s = as_sim(g);
    return s ? sim_scratch_pages(s->base.pages) : 0;
}

uint64_t vsmr_sim_scratch_first(vsmr_guest *g)
{
    struct sim_guest *s = as_sim(g);
    return s ? s->base.pages - sim_scratch_pages(s->base.pages) : 0;
}

int vsmr_sim_fd(vsmr_guest *g)
{
    struct sim_guest *s = as_sim(g);
    return s ? s->sock : -1;
}

int vsmr_sim_pid(vsmr_guest *g)
{
    struct sim_guest *s = as_sim(g);
    return s ? s->pid : -1;
}

size_t vsmr_sim_encode_request(void *buf, size_t cap, uint32_t id, int op,
                               const void *key, size_t klen,
                               const void *value, size_t vlen, uint32_t arg)
{
    size_t total = SIM_REQ_HEADER + klen + vlen;
    if (klen > SIM_MAX_KEY || vlen > SIM_MAX_VALUE || total > cap ||
        op < 0 || op > 255 || (klen && !key) || (vlen && !value))
        return 0;
    struct sim_req r = {.id = id, .op = (uint8_t)op, .klen = (uint8_t)klen,
                        .vlen = (uint16_t)vlen, .arg = arg};
    memcpy(buf, &r, SIM_REQ_HEADER);
    if (klen)
        memcpy((uint8_t *)buf + SIM_REQ_HEADER, key, klen);
    if (vlen)
        memcpy((uint8_t *)buf + SIM_REQ_HEADER + klen, value, vlen);
    return total;
}

int vsmr_sim_decode_response(const void *buf, size_t len, uint32_t *id,
                             int *status, const void **value, size_t *vlen)
{
    struct sim_resp r;
    if (!buf || len < SIM_RESP_HEADER)
        return vsmr_fail(VSMR_EPROTO, "sim response of %zu bytes is shorter "
                         "than its header", len);
    memcpy(&r, buf, SIM_RESP_HEADER);
    if (len != SIM_RESP_HEADER + (size_t)r.vlen || r.vlen > SIM_MAX_VALUE)
        return vsmr_fail(VSMR_EPROTO, "sim response length %zu does not "
                         "match its value length %u", len, r.vlen);
    *id = r.id;
    *status = r.status;
    *value = (const uint8_t *)buf + SIM_RESP_HEADER;
    *vlen = r.vlen;
    return VSMR_OK;
}
