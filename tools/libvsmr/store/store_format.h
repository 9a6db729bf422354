/*
 * store_format.h - the record format of dir/log, shared by the writer
 * (store.c) and the loader (store_load.c): records are
 * [u32 type][u32 len][u64 XXH3 of type, len and payload][payload], little
 * endian, one after the other from offset 0. A later entry record with an
 * index already present replaces it and everything after (the log was
 * truncated by a new leader). Since the store is mapped (store_file.c),
 * the records may be followed by zero bytes: space preallocated for the
 * next ones, not data (a zero header is never a valid record). Files
 * without that tail, as written before, load the same way.
 */
#ifndef VSMR_STORE_FORMAT_H
#define VSMR_STORE_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "common/bytes.h"
#include "log/log.h"

enum { VSMR_REC_HARD = 1, VSMR_REC_SNAP = 2, VSMR_REC_ENTRY = 3 };
#define VSMR_REC_HDR          16u
#define VSMR_REC_ENTRY_FIXED  29u   /* index, term, aux, type, len */
#define VSMR_REC_HARD_LEN     20u   /* term, vote, commit */
#define VSMR_REC_SNAP_LEN     16u   /* index, term */

/* The checksum of a record whose header (type, len) is at rec. */
uint64_t vsmr_store_rec_checksum(const uint8_t *rec, uint32_t len);

/* What a file image holds, rebuilt record by record. */
struct vsmr_store_image {
    struct vsmr_log_persisted p;   /* p.entries points into entries */
    struct vsmr_entry *entries;    /* data points into the parsed bytes */
    size_t n_entries, cap_entries;
    uint64_t valid_end;   /* offset just after the last valid record */
    uint64_t garbage;     /* bytes after it up to the last non-zero one */
};

/* Parses the records of buf[0..size) into *img (zeroed first; free
 * img->entries afterwards). Stops at the first record that is torn,
 * corrupt or contradicts what came before; everything from there on is
 * not state. VSMR_OK or VSMR_ENOMEM. */
int vsmr_store_parse(const uint8_t *buf, uint64_t size,
                     struct vsmr_store_image *img);

#endif
