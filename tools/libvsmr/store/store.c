/*
 * store.c - the append-only record file behind vsmr_store: records are
 * [u32 type][u32 len][u64 XXH3 of type, len and payload][payload], little
 * endian. A later entry record with an index already present replaces it
 * and everything after (the log was truncated by a new leader).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "common/err.h"
#include "store/store.h"

enum { REC_HARD = 1, REC_SNAP = 2, REC_ENTRY = 3 };
#define REC_HDR        16u
#define ENTRY_FIXED    29u   /* index, term, aux, type, len */
#define MAX_FILE_LOAD  (4ull << 30)

struct vsmr_store {
    int fd, dir_fd;
    bool fsync;
    char path[512];
    uint64_t size;
    uint64_t dropped;
    uint8_t *loaded;              /* file image while persisted is in use */
    struct vsmr_entry *entries;
    size_t n_entries, cap_entries;
    uint8_t *wbuf;
    size_t wlen, wcap;
    uint64_t synced_term;         /* term and vote last made durable */
    uint32_t synced_vote;
};

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static uint64_t rec_checksum(const uint8_t *rec, uint32_t len)
{
    /* type and len go in through the seed */
    uint64_t seed = ((uint64_t)get32(rec) << 32) | len;
    return XXH3_64bits_withSeed(rec + REC_HDR, len, seed);
}

static uint8_t *wbuf_add(vsmr_store *s, uint32_t type, uint32_t len)
{
    size_t need = s->wlen + REC_HDR + len;
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
    put32(rec, type);
    put32(rec + 4, len);
    s->wlen = need;
    return rec;
}

static void wbuf_seal(uint8_t *rec)
{
    put64(rec + 8, rec_checksum(rec, get32(rec + 4)));
}

static int add_hard(vsmr_store *s, const struct vsmr_log_hard_state *hs)
{
    uint8_t *rec = wbuf_add(s, REC_HARD, 20);
    if (!rec)
        return vsmr_fail(VSMR_ENOMEM, "store write buffer");
    put64(rec + REC_HDR, hs->term);
    put32(rec + REC_HDR + 8, hs->vote);
    put64(rec + REC_HDR + 12, hs->commit);
    wbuf_seal(rec);
    return VSMR_OK;
}

static int add_snap(vsmr_store *s, uint64_t index, uint64_t term)
{
    uint8_t *rec = wbuf_add(s, REC_SNAP, 16);
    if (!rec)
        return vsmr_fail(VSMR_ENOMEM, "store write buffer");
    put64(rec + REC_HDR, index);
    put64(rec + REC_HDR + 8, term);
    wbuf_seal(rec);
    return VSMR_OK;
}

static int add_entry(vsmr_store *s, const struct vsmr_entry *e)
{
    uint8_t *rec = wbuf_add(s, REC_ENTRY, ENTRY_FIXED + e->len);
    if (!rec)
        return vsmr_fail(VSMR_ENOMEM, "store write buffer");
    uint8_t *p = rec + REC_HDR;
    put64(p, e->index);
    put64(p + 8, e->term);
    put64(p + 16, e->aux);
    p[24] = e->type;
    put32(p + 25, e->len);
    if (e->len)
        memcpy(p + ENTRY_FIXED, e->data, e->len);
    wbuf_seal(rec);
    return VSMR_OK;
}

/* Writes the buffered records and, if configured and needed, waits for
 * the disk. */
static int commit_wbuf(vsmr_store *s, bool must_sync)
{
    size_t off = 0;
    while (off < s->wlen) {
        ssize_t n = write(s->fd, s->wbuf + off, s->wlen - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return vsmr_fail_errno(VSMR_EIO, "write to %s", s->path);
        off += (size_t)n;
    }
    s->size += s->wlen;
    s->wlen = 0;
    if (s->fsync && must_sync && fdatasync(s->fd) < 0)
        return vsmr_fail_errno(VSMR_EIO, "fdatasync of %s", s->path);
    return VSMR_OK;
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

static int push_entry(vsmr_store *s, const struct vsmr_entry *e)
{
    if (s->n_entries == s->cap_entries) {
        size_t cap = s->cap_entries ? s->cap_entries * 2 : 1024;
        struct vsmr_entry *n = realloc(s->entries, cap * sizeof *n);
        if (!n)
            return vsmr_fail(VSMR_ENOMEM, "loading %s", s->path);
        s->entries = n;
        s->cap_entries = cap;
    }
    s->entries[s->n_entries++] = *e;
    return VSMR_OK;
}

/* Applies one valid record to the state being rebuilt; false if the
 * record contradicts what came before (treated like corruption). */
static bool replay(vsmr_store *s, const uint8_t *rec,
                   struct vsmr_log_persisted *p)
{
    uint32_t type = get32(rec), len = get32(rec + 4);
    const uint8_t *b = rec + REC_HDR;
    if (type == REC_HARD && len == 20) {
        p->hs.term = get64(b);
        p->hs.vote = get32(b + 8);
        p->hs.commit = get64(b + 12);
        return true;
    }
    if (type == REC_SNAP && len == 16) {
        uint64_t idx = get64(b);
        size_t keep = 0;   /* entries after the compaction point survive */
        for (size_t i = 0; i < s->n_entries; i++)
            if (s->entries[i].index > idx)
                s->entries[keep++] = s->entries[i];
        if (keep && s->entries[0].index != idx + 1)
            keep = 0;
        s->n_entries = keep;
        p->snap_index = idx;
        p->snap_term = get64(b + 8);
        return true;
    }
    if (type != REC_ENTRY || len < ENTRY_FIXED ||
        get32(b + 25) != len - ENTRY_FIXED)
        return false;
    struct vsmr_entry e = {.index = get64(b), .term = get64(b + 8),
                           .aux = get64(b + 16), .type = b[24],
                           .len = len - ENTRY_FIXED,
                           .data = len > ENTRY_FIXED ? b + ENTRY_FIXED : NULL};
    uint64_t first = p->snap_index + 1;
    if (e.index < first || e.index > first + s->n_entries)
        return false;   /* a gap: the file is not one we wrote */
    s->n_entries = e.index - first;   /* truncate a replaced suffix */
    return push_entry(s, &e) == VSMR_OK;
}

static int read_all(vsmr_store *s, uint64_t size)
{
    if (size > MAX_FILE_LOAD)
        return vsmr_fail(VSMR_ERANGE, "%s is %llu bytes: too large to load",
                         s->path, (unsigned long long)size);
    s->loaded = malloc(size ? size : 1);
    if (!s->loaded)
        return vsmr_fail(VSMR_ENOMEM, "loading %s", s->path);
    uint64_t off = 0;
    while (off < size) {
        ssize_t n = pread(s->fd, s->loaded + off, size - off, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return vsmr_fail_errno(VSMR_EIO, "reading %s", s->path);
        off += (uint64_t)n;
    }
    return VSMR_OK;
}

static int load(vsmr_store *s, struct vsmr_log_persisted *p)
{
    struct stat st;
    if (fstat(s->fd, &st) < 0)
        return vsmr_fail_errno(VSMR_ESYS, "fstat %s", s->path);
    int rc = read_all(s, (uint64_t)st.st_size);
    if (rc < 0)
        return rc;
    uint64_t off = 0, size = (uint64_t)st.st_size;
    while (size - off >= REC_HDR) {
        const uint8_t *rec = s->loaded + off;
        uint32_t len = get32(rec + 4);
        if (len > size - off - REC_HDR ||
            get64(rec + 8) != rec_checksum(rec, len) || !replay(s, rec, p))
            break;
        off += REC_HDR + len;
    }
    if (off < size) {   /* torn write at a crash, or corruption: cut it */
        s->dropped = size - off;
        if (ftruncate(s->fd, (off_t)off) < 0 || fsync(s->fd) < 0)
            return vsmr_fail_errno(VSMR_EIO, "truncating %s", s->path);
    }
    s->size = off;
    p->entries = s->entries;
    p->n_entries = s->n_entries;
    p->applied = p->snap_index;
    s->synced_term = p->hs.term;
    s->synced_vote = p->hs.vote;
    return VSMR_OK;
}

static int open_files(vsmr_store *s, const char *dir)
{
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return vsmr_fail_errno(VSMR_EIO, "cannot create data_dir %s", dir);
    s->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->dir_fd < 0)
        return vsmr_fail_errno(VSMR_EIO, "cannot open data_dir %s", dir);
    if (flock(s->dir_fd, LOCK_EX | LOCK_NB) < 0)
        return vsmr_fail_errno(VSMR_ESTATE, "data_dir %s is in use by "
                               "another vsmrd", dir);
    snprintf(s->path, sizeof s->path, "%s/log", dir);
    s->fd = open(s->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (s->fd < 0)
        return vsmr_fail_errno(VSMR_EIO, "cannot open %s", s->path);
    /* The new file's directory entry must survive a crash too. */
    if (fsync(s->dir_fd) < 0)
        return vsmr_fail_errno(VSMR_EIO, "fsync of %s", dir);
    return VSMR_OK;
}

int vsmr_store_open(const char *dir, bool fsync, vsmr_store **out,
                    struct vsmr_log_persisted *p, bool *fresh)
{
    memset(p, 0, sizeof *p);
    vsmr_store *s = calloc(1, sizeof *s);
    if (!s)
        return vsmr_fail(VSMR_ENOMEM, "store");
    s->fd = s->dir_fd = -1;
    s->fsync = fsync;
    int rc = open_files(s, dir);
    if (rc == VSMR_OK)
        rc = load(s, p);
    if (rc < 0) {
        vsmr_store_close(s);
        return rc;
    }
    *fresh = s->size == 0;
    *out = s;
    return VSMR_OK;
}

void vsmr_store_loaded_free(vsmr_store *s)
{
    free(s->loaded);
    free(s->entries);
    s->loaded = NULL;
    s->entries = NULL;
    s->n_entries = s->cap_entries = 0;
}

uint64_t vsmr_store_size(const vsmr_store *s)
{
    return s->size;
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
    if (s->fd >= 0)
        close(s->fd);
    if (s->dir_fd >= 0)
        close(s->dir_fd);
    free(s->wbuf);
    free(s);
}
