/*
 * sim_disk.c - what a simulated replica has persisted: hard state,
 * compaction point and entries (copies), as a driver would write them.
 */
#include <stdlib.h>
#include <string.h>

#include "log/log.h"

struct sim_disk {
    struct vsmr_log_hard_state hs;
    uint64_t snap_index, snap_term;
    struct vsmr_entry *ents;   /* ents[i].index == snap_index + 1 + i */
    size_t n, cap;
};

static void disk_drop_from(struct sim_disk *d, size_t i)
{
    for (size_t k = i; k < d->n; k++)
        free((void *)d->ents[k].data);
    if (i < d->n)
        d->n = i;
}

static void disk_wipe(struct sim_disk *d)
{
    disk_drop_from(d, 0);
    free(d->ents);
    memset(d, 0, sizeof *d);
}

static void disk_append(struct sim_disk *d, const struct vsmr_entry *e)
{
    uint64_t first = e->index;
    if (first <= d->snap_index)
        abort();   /* the core never rewrites compacted entries */
    disk_drop_from(d, (size_t)(first - d->snap_index - 1));
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 64;
        d->ents = realloc(d->ents, d->cap * sizeof *d->ents);
    }
    struct vsmr_entry *dst = &d->ents[d->n++];
    *dst = *e;
    if (e->len) {
        uint8_t *copy = malloc(e->len);
        memcpy(copy, e->data, e->len);
        dst->data = copy;
    }
}

/* Compaction point moves to index; entries up to it go away. */
static void disk_compact(struct sim_disk *d, uint64_t index, uint64_t term)
{
    size_t drop = index <= d->snap_index ? 0
                : (size_t)(index - d->snap_index);
    if (drop > d->n)
        drop = d->n;
    for (size_t k = 0; k < drop; k++)
        free((void *)d->ents[k].data);
    memmove(d->ents, d->ents + drop, (d->n - drop) * sizeof *d->ents);
    d->n -= drop;
    d->snap_index = index;
    d->snap_term = term;
}

/* Does this disk hold index with the given term (or compacted past it)? */
static bool disk_has(const struct sim_disk *d, uint64_t index, uint64_t term)
{
    if (index <= d->snap_index)
        return true;
    uint64_t i = index - d->snap_index - 1;
    return i < d->n && d->ents[i].term == term;
}
