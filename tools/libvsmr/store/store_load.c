/*
 * store_load.c - rebuilds the persisted state from the bytes of dir/log
 * (format: store_format.h). Pure: no file access, so the fuzz target
 * (tests/fuzz/fuzz_store_load.c) feeds it arbitrary images.
 */
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "common/err.h"
#include "store/store_format.h"

uint64_t vsmr_store_rec_checksum(const uint8_t *rec, uint32_t len)
{
    /* type and len go in through the seed */
    uint64_t seed = ((uint64_t)get_le32(rec) << 32) | len;
    return XXH3_64bits_withSeed(rec + VSMR_REC_HDR, len, seed);
}

static int push_entry(struct vsmr_store_image *img, const struct vsmr_entry *e)
{
    if (img->n_entries == img->cap_entries) {
        size_t cap = img->cap_entries ? img->cap_entries * 2 : 1024;
        struct vsmr_entry *n = realloc(img->entries, cap * sizeof *n);
        if (!n)
            return vsmr_fail(VSMR_ENOMEM, "loading the store: no memory "
                             "for %zu log entries", cap);
        img->entries = n;
        img->cap_entries = cap;
    }
    img->entries[img->n_entries++] = *e;
    return VSMR_OK;
}

/* Applies one checksummed record to the state being rebuilt: 1 if used,
 * 0 if it contradicts what came before (treated like corruption). */
static int replay(struct vsmr_store_image *img, const uint8_t *rec)
{
    struct vsmr_log_persisted *p = &img->p;
    uint32_t type = get_le32(rec), len = get_le32(rec + 4);
    const uint8_t *b = rec + VSMR_REC_HDR;
    if (type == VSMR_REC_HARD && len == VSMR_REC_HARD_LEN) {
        p->hs.term = get_le64(b);
        p->hs.vote = get_le32(b + 8);
        p->hs.commit = get_le64(b + 12);
        return 1;
    }
    if (type == VSMR_REC_SNAP && len == VSMR_REC_SNAP_LEN) {
        uint64_t idx = get_le64(b);
        size_t keep = 0;   /* entries after the compaction point survive */
        for (size_t i = 0; i < img->n_entries; i++)
            if (img->entries[i].index > idx)
                img->entries[keep++] = img->entries[i];
        if (keep && img->entries[0].index != idx + 1)
            keep = 0;
        img->n_entries = keep;
        p->snap_index = idx;
        p->snap_term = get_le64(b + 8);
        return 1;
    }
    if (type != VSMR_REC_ENTRY || len < VSMR_REC_ENTRY_FIXED ||
        get_le32(b + 25) != len - VSMR_REC_ENTRY_FIXED)
        return 0;
    struct vsmr_entry e = {
        .index = get_le64(b), .term = get_le64(b + 8),
        .aux = get_le64(b + 16), .type = b[24],
        .len = len - VSMR_REC_ENTRY_FIXED,
        .data = len > VSMR_REC_ENTRY_FIXED ? b + VSMR_REC_ENTRY_FIXED : NULL};
    uint64_t first = p->snap_index + 1;
    if (e.index < first || e.index - first > img->n_entries)
        return 0;   /* a gap: the file is not one we wrote */
    img->n_entries = e.index - first;   /* truncate a replaced suffix */
    int rc = push_entry(img, &e);
    return rc < 0 ? rc : 1;
}

int vsmr_store_parse(const uint8_t *buf, uint64_t size,
                     struct vsmr_store_image *img)
{
    memset(img, 0, sizeof *img);
    uint64_t off = 0;
    while (size - off >= VSMR_REC_HDR) {
        const uint8_t *rec = buf + off;
        uint32_t len = get_le32(rec + 4);
        if (len > size - off - VSMR_REC_HDR ||
            get_le64(rec + 8) != vsmr_store_rec_checksum(rec, len))
            break;
        int used = replay(img, rec);
        if (used < 0) {
            free(img->entries);
            memset(img, 0, sizeof *img);
            return used;
        }
        if (!used)
            break;
        off += VSMR_REC_HDR + len;
    }
    img->valid_end = off;
    uint64_t last = size;   /* zeros after the records are free space */
    while (last > off && buf[last - 1] == 0)
        last--;
    img->garbage = last - off;
    img->p.entries = img->entries;
    img->p.n_entries = img->n_entries;
    img->p.applied = img->p.snap_index;
    return VSMR_OK;
}
