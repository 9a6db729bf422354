/*
 * log_store.c - a fixed-capacity ring of log entries. Slot of index i is
 * i % cap, so a range never needs shifting; entry data is copied in.
 */
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "log/log_store.h"

int store_init(struct log_store *s, size_t cap)
{
    memset(s, 0, sizeof *s);
    s->ring = calloc(cap, sizeof *s->ring);
    if (!s->ring)
        return vsmr_fail(VSMR_ENOMEM, "log store of %zu entries", cap);
    s->cap = cap;
    return VSMR_OK;
}

static struct vsmr_entry *slot(const struct log_store *s, uint64_t index)
{
    return &s->ring[index % s->cap];
}

static void release(struct vsmr_entry *e)
{
    free((void *)e->data);
    memset(e, 0, sizeof *e);
}

void store_destroy(struct log_store *s)
{
    store_reset(s, 0, 0);
    free(s->ring);
    s->ring = NULL;
}

bool store_term(const struct log_store *s, uint64_t index, uint64_t *term)
{
    if (index == s->snap_index) {
        *term = s->snap_term;
        return true;
    }
    if (index < s->snap_index || index > s->last)
        return false;
    *term = slot(s, index)->term;
    return true;
}

const struct vsmr_entry *store_get(const struct log_store *s, uint64_t index)
{
    if (index <= s->snap_index || index > s->last)
        return NULL;
    return slot(s, index);
}

size_t store_run(const struct log_store *s, uint64_t index, size_t max)
{
    if (index <= s->snap_index || index > s->last)
        return 0;
    uint64_t avail = s->last - index + 1;
    uint64_t to_wrap = s->cap - index % s->cap;
    uint64_t n = avail < to_wrap ? avail : to_wrap;
    return n < max ? (size_t)n : max;
}

uint64_t store_last_term(const struct log_store *s)
{
    uint64_t t = 0;
    store_term(s, s->last, &t);
    return t;
}

bool store_full(const struct log_store *s)
{
    return s->last - s->snap_index >= s->cap;
}

size_t store_headroom(const struct log_store *s)
{
    return s->cap / 16 + 1;
}

size_t store_used(const struct log_store *s)
{
    return (size_t)(s->last - s->snap_index);
}

int store_append(struct log_store *s, const struct vsmr_entry *e,
                 uint64_t term)
{
    if (store_full(s))
        return vsmr_fail(VSMR_EAGAIN, "log store is full (%zu entries); "
                         "compact it", s->cap);
    uint8_t *copy = NULL;
    if (e->len) {
        copy = malloc(e->len);
        if (!copy)
            return vsmr_fail(VSMR_ENOMEM, "copy of a %u-byte entry", e->len);
        memcpy(copy, e->data, e->len);
    }
    struct vsmr_entry *dst = slot(s, s->last + 1);
    *dst = *e;
    dst->index = s->last + 1;
    dst->term = term;
    dst->data = copy;
    s->last++;
    return VSMR_OK;
}

void store_truncate_after(struct log_store *s, uint64_t index)
{
    if (index < s->snap_index)
        index = s->snap_index;
    while (s->last > index)
        release(slot(s, s->last--));
}

void store_compact(struct log_store *s, uint64_t index)
{
    if (index <= s->snap_index || index > s->last)
        return;
    uint64_t term = slot(s, index)->term;
    for (uint64_t i = s->snap_index + 1; i <= index; i++)
        release(slot(s, i));
    s->snap_index = index;
    s->snap_term = term;
}

void store_reset(struct log_store *s, uint64_t index, uint64_t term)
{
    store_truncate_after(s, s->snap_index);
    s->snap_index = index;
    s->snap_term = term;
    s->last = index;
}
