/*
 * core.c - the client's in-flight table and request issue: one free slot
 * and one idle key per request, ids that name their slot, and the switch
 * to the final check. No sockets and no clock here (responses: response.c).
 */
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "frame.h"
#include "value.h"
#include "vsmr/sim.h"

int client_init(struct client *c, const struct client_cfg *cfg)
{
    memset(c, 0, sizeof *c);
    c->cfg = *cfg;
    if (cfg->window == 0 || cfg->window > CLIENT_MAX_WINDOW ||
        cfg->keys == 0 || cfg->value_size < VALUE_MIN_SIZE ||
        cfg->value_size > VALUE_MAX_SIZE)
        return -1;
    c->ck = checker_new(cfg->keys);
    c->slots = calloc(cfg->window, sizeof *c->slots);
    c->free_slots = calloc(cfg->window, sizeof *c->free_slots);
    c->busy = calloc(cfg->keys, 1);
    c->vq = calloc(cfg->keys, sizeof *c->vq);
    if (!c->ck || !c->slots || !c->free_slots || !c->busy || !c->vq) {
        client_fini(c);
        return -1;
    }
    for (uint32_t i = 0; i < cfg->window; i++)
        c->free_slots[c->nfree++] = cfg->window - 1 - i;
    workload_init(&c->wl, cfg->seed, cfg->keys, cfg->write_ratio);
    c->issuing = true;
    c->why_kind = -1;
    return 0;
}

void client_fini(struct client *c)
{
    checker_free(c->ck);
    free(c->slots);
    free(c->free_slots);
    free(c->busy);
    free(c->vq);
    c->ck = NULL;
    c->slots = NULL;
    c->free_slots = NULL;
    c->busy = NULL;
    c->vq = NULL;
}

/* Chooses the next request's key and op; false if there is none now. */
static bool core_choose(struct client *c, uint32_t *key, int *op)
{
    if (c->verifying) {
        if (c->nvq == 0)
            return false;
        *key = c->vq[--c->nvq];
        *op = VSMR_SIM_GET;
        return true;
    }
    if (!c->issuing || (c->cfg.requests && c->n.sent >= c->cfg.requests))
        return false;
    *op = workload_op(&c->wl);
    *key = workload_key(&c->wl, c->busy);
    return *key != UINT32_MAX;
}

static size_t core_encode(struct client *c, const struct client_slot *s,
                          uint8_t *out, size_t cap)
{
    char name[KEY_MAX_SIZE];
    uint8_t value[VALUE_MAX_SIZE];
    uint8_t body[FRAME_MAX_REQUEST];
    size_t klen = value_key_name(name, c->cfg.tag, s->key);
    size_t vlen = 0;
    if (s->op == VSMR_SIM_SET) {
        vlen = c->cfg.value_size;
        value_encode(value, vlen, c->cfg.tag, s->key, s->n);
    }
    size_t blen = vsmr_sim_encode_request(body, sizeof body, s->id, s->op,
                                          name, klen, value, vlen, 0);
    return frame_put(out, cap, body, blen);
}

size_t client_issue(struct client *c, uint64_t now_us, uint8_t *out,
                    size_t cap)
{
    uint32_t key;
    int op;
    if (c->nfree == 0 ||
        cap < FRAME_HEADER + 12 + KEY_MAX_SIZE + c->cfg.value_size ||
        !core_choose(c, &key, &op))
        return 0;
    uint32_t at = c->free_slots[--c->nfree];
    struct client_slot *s = &c->slots[at];
    *s = (struct client_slot){
        .used = true, .verify = c->verifying, .op = (uint8_t)op,
        .id = (c->seq++ << 12) | at, .key = key, .sent_us = now_us};
    if (op != VSMR_SIM_GET)
        s->n = checker_next_write(c->ck, key);
    c->busy[key] = 1;
    if (s->verify)
        c->n.verify_sent++;
    else
        c->n.sent++;
    return core_encode(c, s, out, cap);
}

/* What a request whose answer never came leaves behind. */
static void core_unknown(struct client *c, struct client_slot *s)
{
    if (s->verify) {
        c->vq[c->nvq++] = s->key;       /* read it again */
        return;
    }
    c->n.unknown++;
    if (s->op == VSMR_SIM_SET)
        checker_set_done(c->ck, s->key, s->n, CK_UNKNOWN);
    else if (s->op == VSMR_SIM_DEL)
        checker_del_unknown(c->ck, s->key, s->n);
}

uint32_t client_lost(struct client *c)
{
    uint32_t count = 0;
    for (uint32_t i = 0; i < c->cfg.window; i++) {
        struct client_slot *s = &c->slots[i];
        if (!s->used)
            continue;
        core_unknown(c, s);
        s->used = false;
        c->busy[s->key] = 0;
        c->free_slots[c->nfree++] = i;
        count++;
    }
    return count;
}

uint32_t client_inflight(const struct client *c)
{
    return c->cfg.window - c->nfree;
}

uint64_t client_oldest_us(const struct client *c)
{
    uint64_t oldest = UINT64_MAX;
    for (uint32_t i = 0; i < c->cfg.window; i++)
        if (c->slots[i].used && c->slots[i].sent_us < oldest)
            oldest = c->slots[i].sent_us;
    return oldest;
}

void client_begin_verify(struct client *c)
{
    c->verifying = true;
    c->nvq = 0;
    for (uint32_t k = c->cfg.keys; k-- > 0;)
        if (checker_touched(c->ck, k))
            c->vq[c->nvq++] = k;
}

bool client_phase_done(const struct client *c)
{
    if (client_inflight(c))
        return false;
    if (c->verifying)
        return c->nvq == 0;
    return !c->issuing || (c->cfg.requests && c->n.sent >= c->cfg.requests);
}
