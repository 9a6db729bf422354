/*
 * store.c - vsmr_store: encodes what a ready batch asks to persist as
 * records (store_format.h), appends them to the mapped file
 * (store_file.c) and makes them durable before the daemon sends anything
 * that depends on them; loads the file back at start (store_load.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "store/store.h"
#include "store/store_file.h"
#include "store/store_format.h"

#define MAX_FILE_LOAD  (4ull << 30)

struct vsmr_store {
    struct vsmr_store_file f;
    uint64_t dropped;
    uint8_t *loaded;              /* file image while persisted is in use */
    struct vsmr_store_image img;
    uint8_t *wbuf;
    size_t wlen, wcap;
    uint64_t synced_term;         /* term and vote last made durable */
    uint32_t synced_vote;
};

static uint8_t *wbuf_add(vsmr_store *s, uint32_t type, uint32_t len)
{
    size_t need = s->wlen + VSMR_REC_HDR + len;
    if (need > s->wcap) {
        size_t cap = s->wcap ? s->wcap : 65536;
        while (cap < need)
            cap *= 2;
        uint8_t *b = realloc(s->wbuf, cap);
        if (!b)
            return NULL;
        s->wbuf = b;
        s->wcap = cap;
    }
    uint8_t *rec = s->wbuf + s->wlen;
    put_le32(rec, type);
    put_le32(rec + 4, len);
    s->wlen = need;
    return rec;
}

static void wbuf_seal(uint8_t *rec)
{
    put_le64(rec + 8, vsmr_store_rec_checksum(rec, get_le32(rec + 4)));
}

static int add_hard(vsmr_store *s, const struct vsmr_log_hard_state *hs)
{
    uint8_t *rec = wbuf_add(s, VSMR_REC_HARD, VSMR_REC_HARD_LEN);
    if (!rec)
        return vsmr_fail(VSMR_ENOMEM, "store write buffer");
    put_le64(rec + VSMR_REC_HDR, hs->term);
    put_le32(rec + VSMR_REC_HDR + 8, hs->vote);
    put_le64(rec + VSMR_REC_HDR + 12, hs->commit);
    wbuf_seal(rec);
    return VSMR_OK;
}

static int add_snap(vsmr_store *s, uint64_t index, uint64_t term)
{
    uint8_t *rec = wbuf_add(s, VSMR_REC_SNAP, VSMR_REC_SNAP_LEN);
    if (!rec)
        return vsmr_fail(VSMR_ENOMEM, "store write buffer");
    put_le64(rec + VSMR_REC_HDR, index);
    put_le64(rec + VSMR_REC_HDR + 8, term);
    wbuf_seal(rec);
    return VSMR_OK;
}

static int add_entry(vsmr_store *s, const struct vsmr_entry *e)
{
    uint8_t *rec = wbuf_add(s, VSMR_REC_ENTRY, VSMR_REC_ENTRY_FIXED + e->len);
    if (!rec)
        return vsmr_fail(VSMR_ENOMEM, "store write buffer");
    uint8_t *p = rec + VSMR_REC_HDR;
    put_le64(p, e->index);
    put_le64(p + 8, e->term);
    put_le64(p + 16, e->aux);
    p[24] = e->type;
    put_le32(p + 25, e->len);
    if (e->len)
        memcpy(p + VSMR_REC_ENTRY_FIXED, e->data, e->len);
    wbuf_seal(rec);
    return VSMR_OK;
}

/* Appends the buffered records and, if needed, makes them durable. */
static int commit_wbuf(vsmr_store *s, bool must_sync)
{
    int rc = vsmr_store_file_append(&s->f, s->wbuf, s->wlen);
    s->wlen = 0;
    if (rc == VSMR_OK && must_sync)
        rc = vsmr_store_file_sync(&s->f);
    return rc;
}

int vsmr_store_save_ready(vsmr_store *s, const struct vsmr_log_ready *rd)
{
    int rc = VSMR_OK;
    if (rd->snapshot_changed)
        rc = add_snap(s, rd->snap_index, rd->snap_term);
    for (size_t i = 0; rc == VSMR_OK && i < rd->n_entries; i++)
        rc = add_entry(s, &rd->entries[i]);
    if (rc == VSMR_OK && rd->hard_state_changed)
        rc = add_hard(s, &rd->hard_state);
    if (rc < 0) {
        s->wlen = 0;
        return rc;
    }
    /* Entries, term and vote must be durable before anything is sent; a
     * commit index alone need not be (it is learned again from the
     * leader), which keeps an fsync off the leader's commit path. */
    const struct vsmr_log_hard_state *hs = &rd->hard_state;
    bool must_sync = rd->n_entries || rd->snapshot_changed ||
                     (rd->hard_state_changed && (hs->term != s->synced_term ||
                                                 hs->vote != s->synced_vote));
    if (must_sync && rd->hard_state_changed) {
        s->synced_term = hs->term;
        s->synced_vote = hs->vote;
    }
    return s->wlen ? commit_wbuf(s, must_sync) : VSMR_OK;
}

int vsmr_store_save_compaction(vsmr_store *s, uint64_t index, uint64_t term)
{
    int rc = add_snap(s, index, term);
    return rc < 0 ? rc : commit_wbuf(s, true);
}

/* --- loading ----------------------------------------------------------- */

static int read_all(vsmr_store *s, uint64_t size)
{
    if (size > MAX_FILE_LOAD)
        return vsmr_fail(VSMR_ERANGE, "%s is %llu bytes: too large to load",
                         s->f.path, (unsigned long long)size);
    s->loaded = malloc(size ? size : 1);
    if (!s->loaded)
        return vsmr_fail(VSMR_ENOMEM, "loading %s", s->f.path);
    uint64_t off = 0;
    while (off < size) {
        ssize_t n = pread(s->f.fd, s->loaded + off, size - off, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return vsmr_fail_errno(VSMR_EIO, "reading %s", s->f.path);
        off += (uint64_t)n;
    }
    return VSMR_OK;
}

static int load(vsmr_store *s, struct vsmr_log_persisted *p)
{
    uint64_t size;
    int rc = vsmr_store_file_size(&s->f, &size);
    if (rc == VSMR_OK)
        rc = read_all(s, size);
    if (rc == VSMR_OK)
        rc = vsmr_store_parse(s->loaded, size, &s->img);
    if (rc < 0)
        return rc;
    /* Zeros after the records are space the mapping preallocated; any
     * other byte there is a torn write at a crash, or corruption: cut. */
    if (s->img.garbage) {
        s->dropped = s->img.garbage;
        if ((rc = vsmr_store_file_cut(&s->f, s->img.valid_end)) < 0)
            return rc;
    }
    if ((rc = vsmr_store_file_map(&s->f, s->img.valid_end)) < 0)
        return rc;
    *p = s->img.p;
    s->synced_term = p->hs.term;
    s->synced_vote = p->hs.vote;
    return VSMR_OK;
}

int vsmr_store_open(const char *dir, bool fsync, vsmr_store **out,
                    struct vsmr_log_persisted *p, bool *fresh)
{
    memset(p, 0, sizeof *p);
    vsmr_store *s = calloc(1, sizeof *s);
    if (!s)
        return vsmr_fail(VSMR_ENOMEM, "store");
    s->f.fd = s->f.dir_fd = -1;
    int rc = vsmr_store_file_open(&s->f, dir, fsync);
    if (rc == VSMR_OK)
        rc = load(s, p);
    if (rc < 0) {
        vsmr_store_close(s);
        return rc;
    }
    *fresh = s->f.end == 0;
    *out = s;
    return VSMR_OK;
}

void vsmr_store_loaded_free(vsmr_store *s)
{
    free(s->loaded);
    free(s->img.entries);
    s->loaded = NULL;
    memset(&s->img, 0, sizeof s->img);
}

uint64_t vsmr_store_size(const vsmr_store *s)
{
    return s->f.end;
}

uint64_t vsmr_store_dropped_tail(const vsmr_store *s)
{
    return s->dropped;
}

void vsmr_store_close(vsmr_store *s)
{
    if (!s)
        return;
    vsmr_store_loaded_free(s);
    vsmr_store_file_close(&s->f);
    free(s->wbuf);
    free(s);
}

const char *vsmr_store_sync_mode(const vsmr_store *s, const char **fs,
                                 const char **why)
{
    *fs = s->f.fs;
    *why = vsmr_store_file_sync_text(&s->f);
    return s->f.sync == VSMR_STORE_SYNC_FDATASYNC ? "fdatasync"
           : s->f.sync == VSMR_STORE_SYNC_MEMORY  ? "none" : "off";
}
