/*
 * response.c - what the client does with bytes from a server: split them
 * into frames, decode each as untrusted input, match it to a request in
 * flight, and feed the checker. Anything unexpected drops the connection.
 */
#include <stdarg.h>
#include <stdio.h>

#include "core.h"
#include "frame.h"
#include "value.h"
#include "vsmr/sim.h"
#include "vsmr/vsmr.h"

__attribute__((format(printf, 3, 4)))
static int resp_drop(struct client *c, int kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->why, sizeof c->why, fmt, ap);
    va_end(ap);
    c->why_kind = kind;
    if (kind >= 0 && kind < BAD_KINDS)
        c->n.bad[kind]++;
    return CLIENT_DROP;
}

/* The text of a NOT_PRIMARY answer ("leader=2"), printable bytes only. */
static void resp_hint(char *out, size_t cap, const uint8_t *v, size_t len)
{
    size_t j = 0;
    for (size_t i = 0; i < len && j + 1 < cap && i < 64; i++)
        out[j++] = v[i] >= 0x20 && v[i] < 0x7f ? (char)v[i] : '?';
    out[j] = '\0';
}

static void resp_free(struct client *c, struct client_slot *s)
{
    s->used = false;
    c->busy[s->key] = 0;
    c->free_slots[c->nfree++] = (uint32_t)(s - c->slots);
}

static void resp_read(struct client *c, const struct client_slot *s,
                      int status, const uint8_t *v, size_t vlen)
{
    uint64_t n = 0;
    if (status == VSMR_SIM_OK)
        n = value_decode(v, vlen, c->cfg.value_size, c->cfg.tag, s->key);
    checker_read(c->ck, s->key, status == VSMR_SIM_OK, n);
}

static void resp_verify(struct client *c, const struct client_slot *s,
                        int status, const uint8_t *v, size_t vlen)
{
    if (status == VSMR_SIM_OK || status == VSMR_SIM_NOTFOUND) {
        resp_read(c, s, status, v, vlen);
        c->n.verified++;
    } else {
        c->vq[c->nvq++] = s->key;
    }
}

static void resp_run(struct client *c, const struct client_slot *s,
                     int status, const uint8_t *v, size_t vlen)
{
    bool known = status == VSMR_SIM_OK || status == VSMR_SIM_NOTFOUND;
    c->n.acked++;
    if (s->op == VSMR_SIM_SET) {
        bool ok = status == VSMR_SIM_OK;
        checker_set_done(c->ck, s->key, s->n, ok ? CK_ACKED : CK_REJECTED);
        known = ok;
    } else if (s->op == VSMR_SIM_DEL && known) {
        checker_del_acked(c->ck, s->key, s->n, status == VSMR_SIM_OK);
    } else if (known) {
        resp_read(c, s, status, v, vlen);
    }
    if (!known)
        c->n.rejected++;
}

static int resp_one(struct client *c, const uint8_t *body, size_t blen,
                    uint64_t now_us)
{
    uint32_t id;
    int status;
    const void *v;
    size_t vlen;
    if (vsmr_sim_decode_response(body, blen, &id, &status, &v, &vlen) < 0)
        return resp_drop(c, BAD_MALFORMED, "malformed response: %s",
                         vsmr_errmsg());
    if (status == CLIENT_NOT_PRIMARY) {
        char hint[72];
        resp_hint(hint, sizeof hint, v, vlen);
        c->n.not_primary++;
        return resp_drop(c, -1, "not the primary (%s)", hint);
    }
    uint32_t at = id & (CLIENT_MAX_WINDOW - 1);
    struct client_slot *s = at < c->cfg.window ? &c->slots[at] : NULL;
    if (!s || !s->used || s->id != id)
        return resp_drop(c, BAD_UNKNOWN_ID, "response to id %u, which is "
                         "not in flight", id);
    if (status > VSMR_SIM_BADREQ)
        return resp_drop(c, BAD_STATUS, "response with unknown status %d",
                         status);
    if (s->verify)
        resp_verify(c, s, status, v, vlen);
    else {
        resp_run(c, s, status, v, vlen);
        latency_add(&c->lat, now_us > s->sent_us ? now_us - s->sent_us : 0);
    }
    resp_free(c, s);
    return CLIENT_OK;
}

int client_consume(struct client *c, const uint8_t *buf, size_t len,
                   uint64_t now_us, size_t *used)
{
    size_t off = 0;
    *used = 0;
    for (;;) {
        const uint8_t *body;
        size_t blen, n;
        int rc = frame_next(buf + off, len - off, FRAME_MAX_RESPONSE,
                            &body, &blen, &n);
        if (rc == FRAME_MORE)
            break;
        if (rc == FRAME_TOOLONG)
            return resp_drop(c, BAD_OVERSIZED, "response frame longer than "
                             "%u bytes", FRAME_MAX_RESPONSE);
        if (rc == FRAME_EMPTY)
            return resp_drop(c, BAD_MALFORMED, "empty response frame");
        if (resp_one(c, body, blen, now_us) < 0)
            return CLIENT_DROP;
        off += n;
        *used = off;
    }
    return CLIENT_OK;
}
