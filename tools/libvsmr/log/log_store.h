/*
 * log_store.h - the core's in-memory entry store: a fixed-capacity ring of
 * entries (snap_index, last] with private copies of their data.
 */
#ifndef VSMR_LOG_STORE_H
#define VSMR_LOG_STORE_H

#include "log/log.h"

struct log_store {
    struct vsmr_entry *ring;
    size_t cap;
    uint64_t snap_index, snap_term;  /* entries start at snap_index + 1 */
    uint64_t last;                   /* last index held (snap_index: none) */
};

int store_init(struct log_store *s, size_t cap);
void store_destroy(struct log_store *s);
/* Term at index: true when known (the snapshot point or a held entry). */
bool store_term(const struct log_store *s, uint64_t index, uint64_t *term);
/* Entry at index, or NULL when compacted or beyond the end. */
const struct vsmr_entry *store_get(const struct log_store *s, uint64_t index);
/* Entries from index on that sit contiguously in the ring (<= max). */
size_t store_run(const struct log_store *s, uint64_t index, size_t max);
uint64_t store_last_term(const struct log_store *s);
bool store_full(const struct log_store *s);
/* Slots kept free of proposals and of entries from earlier terms, so that
 * a new leader can always store and commit entries of its own term. */
size_t store_headroom(const struct log_store *s);
size_t store_used(const struct log_store *s);
/* Appends a copy of e at index last + 1 (e->index is ignored). */
int store_append(struct log_store *s, const struct vsmr_entry *e,
                 uint64_t term);
/* Drops every entry after index. */
void store_truncate_after(struct log_store *s, uint64_t index);
/* Drops every entry up to index (which must be held). */
void store_compact(struct log_store *s, uint64_t index);
/* Drops everything; the log now starts after (index, term). */
void store_reset(struct log_store *s, uint64_t index, uint64_t term);

#endif
