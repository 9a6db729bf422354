/*
 * checker.c - the per-key floor (last acknowledged or observed state) and
 * the unknown writes sent after it; judges every read against them. No
 * I/O: the driver feeds it outcomes, main prints what it found.
 */
#include <stdlib.h>
#include <string.h>

#include "checker.h"

struct ck_pending {
    uint64_t n;
    bool del;
};

struct ck_key {
    struct ck_state floor;
    uint64_t sent;              /* writes numbered so far */
    struct ck_pending *unk;     /* unknown writes after the floor, by n */
    uint32_t nunk, cap;
};

struct checker {
    uint32_t nkeys;
    struct ck_key *keys;
    uint64_t lost, contradicted;
    size_t nproblems;
    struct ck_problem problems[CK_MAX_PROBLEMS];
};

struct checker *checker_new(uint32_t keys)
{
    struct checker *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->nkeys = keys;
    c->keys = calloc(keys ? keys : 1, sizeof *c->keys);
    if (!c->keys) {
        free(c);
        return NULL;
    }
    return c;
}

void checker_free(struct checker *c)
{
    if (!c)
        return;
    for (uint32_t i = 0; i < c->nkeys; i++)
        free(c->keys[i].unk);
    free(c->keys);
    free(c);
}

static struct ck_key *ck_get(struct checker *c, uint32_t key)
{
    return key < c->nkeys ? &c->keys[key] : NULL;
}

/* Forgets the unknown writes numbered n or lower: they were sent before
 * a state that is now known, so they can no longer show up. */
static void ck_drop_upto(struct ck_key *k, uint64_t n)
{
    uint32_t i = 0;
    while (i < k->nunk && k->unk[i].n <= n)
        i++;
    if (i == 0)
        return;
    memmove(k->unk, k->unk + i, (k->nunk - i) * sizeof *k->unk);
    k->nunk -= i;
}

static void ck_push(struct ck_key *k, uint64_t n, bool del)
{
    if (n <= k->floor.n)
        return;
    if (k->nunk == k->cap) {
        uint32_t cap = k->cap ? k->cap * 2 : 4;
        struct ck_pending *p = realloc(k->unk, cap * sizeof *p);
        if (!p)
            return;     /* forgetting an unknown write only adds alarms */
        k->unk = p;
        k->cap = cap;
    }
    k->unk[k->nunk++] = (struct ck_pending){.n = n, .del = del};
}

static int ck_find(const struct ck_key *k, uint64_t n)
{
    for (uint32_t i = 0; i < k->nunk; i++)
        if (k->unk[i].n == n)
            return (int)i;
    return -1;
}

static int ck_first_del(const struct ck_key *k)
{
    for (uint32_t i = 0; i < k->nunk; i++)
        if (k->unk[i].del)
            return (int)i;
    return -1;
}

static bool ck_any_set(const struct ck_key *k)
{
    for (uint32_t i = 0; i < k->nunk; i++)
        if (!k->unk[i].del)
            return true;
    return false;
}

/* Records a problem; the observed state becomes the floor so that one
 * fault is counted once, not at every later read of the key. */
static void ck_report(struct checker *c, uint32_t key, enum ck_kind kind,
                      struct ck_state seen, const char *why)
{
    struct ck_key *k = &c->keys[key];
    if (kind == CK_LOST)
        c->lost++;
    else
        c->contradicted++;
    if (c->nproblems < CK_MAX_PROBLEMS)
        c->problems[c->nproblems++] = (struct ck_problem){
            .key = key, .kind = kind, .expected = k->floor,
            .observed = seen, .why = why};
    if (seen.n > k->floor.n)
        ck_drop_upto(k, seen.n);
    k->floor = seen;
}

uint64_t checker_next_write(struct checker *c, uint32_t key)
{
    struct ck_key *k = ck_get(c, key);
    return k ? ++k->sent : 0;
}

void checker_set_done(struct checker *c, uint32_t key, uint64_t n,
                      enum ck_outcome o)
{
    struct ck_key *k = ck_get(c, key);
    if (!k || n == 0 || n > k->sent)
        return;
    if (o == CK_UNKNOWN)
        ck_push(k, n, false);
    else if (o == CK_ACKED && n > k->floor.n) {
        k->floor = (struct ck_state){.present = true, .n = n};
        ck_drop_upto(k, n);
    }
}

void checker_del_unknown(struct checker *c, uint32_t key, uint64_t n)
{
    struct ck_key *k = ck_get(c, key);
    if (k && n && n <= k->sent)
        ck_push(k, n, true);
}

static void ck_read_absent(struct checker *c, uint32_t key)
{
    struct ck_key *k = &c->keys[key];
    if (!k->floor.present)
        return;
    int i = ck_first_del(k);
    if (i < 0) {
        ck_report(c, key, CK_LOST,
                  (struct ck_state){.present = false, .n = k->floor.n},
                  "the key is gone");
        return;
    }
    /* The earliest unknown DEL: it keeps every later write possible. */
    uint64_t n = k->unk[i].n;
    k->floor = (struct ck_state){.present = false, .n = n};
    ck_drop_upto(k, n);
}

static const char *ck_why_value(const struct ck_key *k, uint64_t n)
{
    if (n == 0)
        return "a value this client never wrote to this key";
    if (n > k->sent)
        return "a write never sent";
    if (n < k->floor.n)
        return "a value older than the last acknowledged state";
    return "a write that was rejected, or a DEL";
}

static void ck_read_value(struct checker *c, uint32_t key, uint64_t n)
{
    struct ck_key *k = &c->keys[key];
    if (n != 0 && k->floor.present && n == k->floor.n)
        return;
    int i = n ? ck_find(k, n) : -1;
    if (i >= 0 && !k->unk[i].del) {
        k->floor = (struct ck_state){.present = true, .n = n};
        ck_drop_upto(k, n);
        return;
    }
    ck_report(c, key, CK_CONTRADICTED,
              (struct ck_state){.present = true, .n = n}, ck_why_value(k, n));
}

void checker_read(struct checker *c, uint32_t key, bool present, uint64_t n)
{
    if (!ck_get(c, key))
        return;
    if (present)
        ck_read_value(c, key, n);
    else
        ck_read_absent(c, key);
}

void checker_del_acked(struct checker *c, uint32_t key, uint64_t n,
                       bool was_present)
{
    struct ck_key *k = ck_get(c, key);
    if (!k || n == 0 || n > k->sent)
        return;
    if (!was_present)
        ck_read_absent(c, key);
    else if (!k->floor.present && !ck_any_set(k))
        ck_report(c, key, CK_CONTRADICTED,
                  (struct ck_state){.present = true, .n = 0},
                  "DEL found a value where none may be");
    if (n > k->floor.n) {
        k->floor = (struct ck_state){.present = false, .n = n};
        ck_drop_upto(k, n);
    }
}

bool checker_touched(const struct checker *c, uint32_t key)
{
    return key < c->nkeys && c->keys[key].sent > 0;
}

uint64_t checker_lost(const struct checker *c)
{
    return c->lost;
}

uint64_t checker_contradicted(const struct checker *c)
{
    return c->contradicted;
}

size_t checker_problems(const struct checker *c,
                        const struct ck_problem **list)
{
    *list = c->problems;
    return c->nproblems;
}
