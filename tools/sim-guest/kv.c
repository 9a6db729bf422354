/*
 * kv.c - a key-value store living entirely in the simulated guest's memory.
 *
 * Layout, in pages: [0] header, [1..W] per-worker statistics, then per-worker
 * journals, the hash table (one bucket per page), each bucket's value arena,
 * the shared value heap, and the scratch pages used by POKE/PEEK. Two copies
 * fed the same requests in the same order end up mostly identical; they
 * differ where real guests differ: which worker served a request
 * (statistics, journals), timestamps, and the order in which racing SETs
 * take blocks of the shared heap (used for large values and when a bucket's
 * arena is full).
 */
#include <stdio.h>
#include <string.h>

#include "gmem.h"
#include "kv.h"

#define KV_MAGIC 0x564b4d53u  /* "SMKV" */
#define SLOTS_PER_BUCKET 31u
#define INLINE_VALUE 88u
#define ARENA_PAGES 2u          /* value arena pages per bucket */
#define ARENA_MAX_VALUE 1024u   /* larger values go to the shared heap */

struct kv_header {
    uint32_t magic;
    uint32_t workers;
    uint64_t pages;
    uint64_t journal_first, journal_pages;   /* journal_pages per worker */
    uint64_t bucket_first, buckets;
    uint64_t arena_first;                    /* ARENA_PAGES per bucket */
    uint64_t heap_first, heap_pages;
    _Atomic uint32_t heap_lock;
    uint32_t pad;
    uint64_t heap_next;                      /* byte offset in the heap */
    uint64_t keys;
};

struct worker_stats {
    uint64_t requests, sets, gets, dels, misses;
    uint64_t last_ns;
    uint64_t journal_pos;                    /* records written */
};

struct journal_rec {                         /* 64 bytes */
    uint64_t ns;
    uint64_t seq;
    uint8_t op, klen;
    uint16_t vlen;
    uint32_t hash;
    uint8_t key[SIM_MAX_KEY];
    uint8_t pad[16];
};

struct slot {                                /* 128 bytes */
    uint8_t used, klen;
    uint16_t vlen;
    uint32_t version;
    uint64_t heap_off;                       /* 0: value is inline */
    uint8_t key[SIM_MAX_KEY];
    uint8_t value[INLINE_VALUE];
};

struct bucket {                              /* one page */
    _Atomic uint32_t lock;
    uint32_t count;
    uint64_t arena_next;                     /* bytes used in the arena */
    uint8_t pad[112];
    struct slot slots[SLOTS_PER_BUCKET];
};

struct heap_block {
    uint32_t cap, len;
    uint8_t data[];
};

_Static_assert(sizeof(struct slot) == 128, "slot size");
_Static_assert(sizeof(struct bucket) == 4096, "bucket is a page");
_Static_assert(sizeof(struct journal_rec) == 64, "journal record size");

static struct kv_header *hdr(void) { return gm_page(0); }

static uint32_t key_hash(const uint8_t *k, unsigned len)
{
    uint32_t h = 2166136261u;                /* FNV-1a */
    for (unsigned i = 0; i < len; i++)
        h = (h ^ k[i]) * 16777619u;
    return h;
}

int kv_init(uint32_t workers, char *err, size_t errlen)
{
    struct kv_header *h = hdr();
    uint64_t usable = gm.pages - sim_scratch_pages(gm.pages);
    if (h->magic == KV_MAGIC) {
        if (h->workers != workers || h->pages != gm.pages) {
            snprintf(err, errlen, "memory was laid out for %u workers and "
                     "%llu pages, not %u and %llu", h->workers,
                     (unsigned long long)h->pages, workers,
                     (unsigned long long)gm.pages);
            return -1;
        }
        return 0;
    }
    uint64_t journal = usable / 64 / workers;
    struct kv_header fresh = {
        .magic = KV_MAGIC, .workers = workers, .pages = gm.pages,
        .journal_first = 1 + workers,
        .journal_pages = journal ? journal : 1,
    };
    fresh.bucket_first = fresh.journal_first + fresh.journal_pages * workers;
    fresh.buckets = usable / 8;
    fresh.arena_first = fresh.bucket_first + fresh.buckets;
    fresh.heap_first = fresh.arena_first + fresh.buckets * ARENA_PAGES;
    if (fresh.heap_first + 2 > usable) {
        snprintf(err, errlen, "%llu pages is too little memory for %u "
                 "workers", (unsigned long long)gm.pages, workers);
        return -1;
    }
    fresh.heap_pages = usable - fresh.heap_first;
    fresh.heap_next = 0;
    gm_copy(h, &fresh, sizeof fresh);
    return 0;
}

static struct worker_stats *stats(unsigned w)
{
    return gm_page(1 + w);
}

static void journal(unsigned w, const struct sim_req *req, uint32_t hash,
                    uint64_t now)
{
    struct kv_header *h = hdr();
    struct worker_stats *st = stats(w);
    uint64_t per_page = 4096 / sizeof(struct journal_rec);
    uint64_t slots = h->journal_pages * per_page;
    uint64_t pos = st->journal_pos % slots;
    struct journal_rec *page = gm_page(h->journal_first +
                                       w * h->journal_pages + pos / per_page);
    struct journal_rec rec = {
        .ns = now, .seq = st->journal_pos, .op = req->op,
        .klen = req->klen, .vlen = req->vlen, .hash = hash,
    };
    memcpy(rec.key, req->data, req->klen);
    gm_copy(&page[pos % per_page], &rec, sizeof rec);
    GM_SET(st->journal_pos, st->journal_pos + 1);
    GM_SET(st->last_ns, now);
}

static struct bucket *bucket_of(uint32_t hash)
{
    struct kv_header *h = hdr();
    return gm_page(h->bucket_first + hash % h->buckets);
}

static struct slot *find(struct bucket *b, const uint8_t *key, unsigned klen)
{
    for (unsigned i = 0; i < SLOTS_PER_BUCKET; i++) {
        struct slot *s = &b->slots[i];
        if (s->used && s->klen == klen && !memcmp(s->key, key, klen))
            return s;
    }
    return NULL;
}

/* Value blocks are addressed by their byte offset in guest memory. */
static struct heap_block *block_at(uint64_t off)
{
    return (struct heap_block *)(gm.base + off);
}

static uint64_t block_size(uint32_t len)
{
    return (sizeof(struct heap_block) + len + 63) & ~63ull;
}

/* Bump allocation under the heap lock: racing SETs take blocks in a
 * different order on two replicas, one of the divergence sources. */
static uint64_t heap_alloc(uint32_t len)
{
    struct kv_header *h = hdr();
    uint64_t need = block_size(len), off = 0;
    gm_lock(&h->heap_lock);
    if (h->heap_next + need <= h->heap_pages * 4096) {
        off = (h->heap_first << 12) + h->heap_next;
        GM_SET(h->heap_next, h->heap_next + need);
    }
    gm_unlock(&h->heap_lock);
    return off;
}

/* The bucket's own arena: taken under the bucket lock, so its order is
 * the order of the requests on this bucket's keys, the same on replicas. */
static uint64_t arena_alloc(struct bucket *b, uint32_t len)
{
    struct kv_header *h = hdr();
    uint64_t need = block_size(len);
    if (len > ARENA_MAX_VALUE || b->arena_next + need > ARENA_PAGES * 4096)
        return 0;
    uint64_t index = ((uint64_t)((uint8_t *)b - gm.base) >> 12) -
                     h->bucket_first;
    uint64_t off = ((h->arena_first + index * ARENA_PAGES) << 12) +
                   b->arena_next;
    GM_SET(b->arena_next, b->arena_next + need);
    return off;
}

static uint64_t value_alloc(struct bucket *b, uint32_t len)
{
    uint64_t off = arena_alloc(b, len);
    if (!off)
        off = heap_alloc(len);
    if (off)
        GM_SET(block_at(off)->cap,
               (uint32_t)(block_size(len) - sizeof(struct heap_block)));
    return off;
}

static int store_value(struct bucket *b, struct slot *s, const uint8_t *v,
                       uint16_t vlen)
{
    if (vlen <= INLINE_VALUE) {
        gm_copy(s->value, v, vlen);
        GM_SET(s->heap_off, 0);
    } else {
        uint64_t off = s->heap_off;
        if (!off || block_at(off)->cap < vlen)
            off = value_alloc(b, vlen);
        if (!off)
            return SIM_ST_FULL;
        struct heap_block *blk = block_at(off);
        gm_copy(blk->data, v, vlen);
        GM_SET(blk->len, vlen);
        GM_SET(s->heap_off, off);
    }
    GM_SET(s->vlen, vlen);
    GM_SET(s->version, s->version + 1);
    return SIM_ST_OK;
}

static int kv_set(struct bucket *b, const struct sim_req *req)
{
    const uint8_t *key = req->data, *val = req->data + req->klen;
    struct slot *s = find(b, key, req->klen);
    if (!s) {
        for (unsigned i = 0; i < SLOTS_PER_BUCKET && !s; i++)
            if (!b->slots[i].used)
                s = &b->slots[i];
        if (!s)
            return SIM_ST_FULL;
        GM_SET(s->klen, req->klen);
        gm_copy(s->key, key, req->klen);
        GM_SET(s->heap_off, 0);
        int rc = store_value(b, s, val, req->vlen);
        if (rc != SIM_ST_OK)
            return rc;
        GM_SET(s->used, 1);
        GM_SET(b->count, b->count + 1);
        return SIM_ST_OK;
    }
    return store_value(b, s, val, req->vlen);
}

static int kv_get(struct bucket *b, const struct sim_req *req,
                  struct sim_resp *resp)
{
    struct slot *s = find(b, req->data, req->klen);
    if (!s)
        return SIM_ST_NOTFOUND;
    const uint8_t *v = s->heap_off ? block_at(s->heap_off)->data : s->value;
    memcpy(resp->value, v, s->vlen);
    resp->vlen = s->vlen;
    return SIM_ST_OK;
}

static int kv_del(struct bucket *b, const struct sim_req *req)
{
    struct slot *s = find(b, req->data, req->klen);
    if (!s)
        return SIM_ST_NOTFOUND;
    struct slot empty = {0};
    gm_copy(s, &empty, sizeof empty);
    GM_SET(b->count, b->count - 1);
    return SIM_ST_OK;
}

static int scratch(const struct sim_req *req, struct sim_resp *resp)
{
    uint64_t n = sim_scratch_pages(gm.pages);
    if (req->arg >= n)
        return SIM_ST_BADREQ;
    uint8_t *page = gm_page(gm.pages - n + req->arg);
    if (req->op == SIM_OP_POKE) {
        if (req->vlen < 1)
            return SIM_ST_BADREQ;
        gm_fill(page, req->data[req->klen], 4096);
        return SIM_ST_OK;
    }
    memcpy(resp->value, page, 64);
    resp->vlen = 64;
    return SIM_ST_OK;
}

static int serve_key_op(unsigned w, const struct sim_req *req,
                        struct sim_resp *resp, uint64_t now)
{
    uint32_t hash = key_hash(req->data, req->klen);
    struct bucket *b = bucket_of(hash);
    struct worker_stats *st = stats(w);
    int rc;
    gm_lock(&b->lock);
    switch (req->op) {
    case SIM_OP_SET: rc = kv_set(b, req); GM_SET(st->sets, st->sets + 1); break;
    case SIM_OP_GET: rc = kv_get(b, req, resp); GM_SET(st->gets, st->gets + 1); break;
    default:         rc = kv_del(b, req); GM_SET(st->dels, st->dels + 1); break;
    }
    gm_unlock(&b->lock);
    if (rc == SIM_ST_NOTFOUND)
        GM_SET(st->misses, st->misses + 1);
    if (req->op != SIM_OP_GET)
        journal(w, req, hash, now);
    return rc;
}

static int valid(const struct sim_req *req, size_t len)
{
    if (len < SIM_REQ_HEADER || req->klen > SIM_MAX_KEY ||
        req->vlen > SIM_MAX_VALUE ||
        len != SIM_REQ_HEADER + (size_t)req->klen + req->vlen)
        return 0;
    switch (req->op) {
    case SIM_OP_SET: case SIM_OP_GET: case SIM_OP_DEL:
        return req->klen > 0;
    case SIM_OP_POKE: case SIM_OP_PEEK:
        return 1;
    default:
        return 0;
    }
}

size_t kv_serve(unsigned w, const struct sim_req *req, size_t len,
                struct sim_resp *resp, uint64_t now_ns)
{
    resp->id = len >= 4 ? req->id : 0;
    resp->vlen = 0;
    resp->pad = 0;
    if (!valid(req, len)) {
        resp->status = SIM_ST_BADREQ;
        return SIM_RESP_HEADER;
    }
    struct worker_stats *st = stats(w);
    GM_SET(st->requests, st->requests + 1);
    if (req->op == SIM_OP_POKE || req->op == SIM_OP_PEEK)
        resp->status = (uint8_t)scratch(req, resp);
    else
        resp->status = (uint8_t)serve_key_op(w, req, resp, now_ns);
    return SIM_RESP_HEADER + resp->vlen;
}
