/*
 * engine_xfer.c - the data side of a sync: dirty bitmaps, the union, its
 * hashes, divergent pages out of the primary and into the backup's
 * staging area, apply, verify. Frames follow docs/sync-protocol.md;
 * bitmaps and page batches go in zstd when that is on and saves bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "common/err.h"
#include "sync/engine_internal.h"
#include "wire/wire_sync.h"

#define PAGES_PER_FRAME 256u
#define RECORD (8u + VSMR_PAGE_SIZE)

static int send_msg(struct vsmr_engine *e, const struct vsmr_wire_sync *m)
{
    size_t len;
    int rc = e->cfg.compress == VSMR_SYNC_COMPRESS_ZSTD
        ? vsmr_wire_sync_encode_z(e->z, m, e->frame, VSMR_WIRE_MAX_FRAME, &len)
        : vsmr_wire_sync_encode(m, e->frame, VSMR_WIRE_MAX_FRAME, &len);
    if (rc < 0)
        return rc;
    rc = e->cfg.send(e->cfg.ctx, e->frame, len);
    if (rc == VSMR_OK) {
        e->cur.bytes_sent += len;
        e->cur.bytes_raw += vsmr_wire_sync_size(m);
    }
    return rc;
}

static uint64_t epoch_of(const struct vsmr_engine *e)
{
    struct vsmr_sync_status st;
    vsmr_sync_get_status(e->sync, &st);
    return st.epoch;
}

int engine_send_dirty(struct vsmr_engine *e)
{
    struct vsmr_wire_sync m = {.type = VSMR_WIRE_SYNC_DIRTY,
                               .epoch = epoch_of(e),
                               .guest_pages = e->pages,
                               .bitmap = (const uint8_t *)e->dirty_local};
    return send_msg(e, &m);
}

static void build_union(struct vsmr_engine *e)
{
    if (e->have_union)
        return;
    for (size_t w = 0; w < e->words; w++)
        e->dirty_peer[w] |= e->dirty_local[w];   /* peer buffer := union */
    e->n_union = vsmr_bitmap_to_pfns(e->dirty_peer, e->pages, e->union_pfns);
    e->have_union = true;
    e->cur.union_pages = e->n_union;
}

int engine_hash_union(struct vsmr_engine *e)
{
    build_union(e);
    return vsmr_hash_pages(e->pool, e->guest, e->union_pfns, e->n_union, 0,
                           e->hash_local);
}

int engine_send_hashes(struct vsmr_engine *e)
{
    size_t done = 0;
    do {
        size_t n = e->n_union - done;
        if (n > VSMR_WIRE_MAX_HASHES)
            n = VSMR_WIRE_MAX_HASHES;
        struct vsmr_wire_sync m = {.type = VSMR_WIRE_SYNC_HASHES,
                                   .epoch = epoch_of(e), .first = done,
                                   .count = (uint32_t)n,
                                   .hashes = (const uint8_t *)(e->hash_local + done)};
        int rc = send_msg(e, &m);
        if (rc < 0)
            return rc;
        done += n;
    } while (done < e->n_union);
    return VSMR_OK;
}

/* The pages to send: VSMR, where the hashes differ; Remus, every page
 * dirty on the primary. Written into union_pfns' tail-free prefix. */
static size_t pages_to_send(struct vsmr_engine *e)
{
    if (e->cfg.mode == VSMR_SYNC_MODE_REMUS)
        return vsmr_bitmap_to_pfns(e->dirty_local, e->pages, e->union_pfns);
    size_t n = 0;
    for (size_t i = 0; i < e->n_union; i++)
        if (e->hash_local[i].lo != e->hash_peer[i].lo ||
            e->hash_local[i].hi != e->hash_peer[i].hi)
            e->union_pfns[n++] = e->union_pfns[i];
    return n;
}

static int send_page_batch(struct vsmr_engine *e, const uint64_t *pfns,
                           size_t n)
{
    void *pages[PAGES_PER_FRAME], *cookie;
    int rc = vsmr_guest_map(e->guest, pfns, n, VSMR_MAP_READ, pages, &cookie);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        uint8_t *rec = e->scratch + i * RECORD;
        put_le64(rec, pfns[i]);
        memcpy(rec + 8, pages[i], VSMR_PAGE_SIZE);
    }
    vsmr_guest_unmap(e->guest, cookie, pages, n);
    struct vsmr_wire_sync m = {.type = VSMR_WIRE_PAGES, .epoch = epoch_of(e),
                               .count = (uint32_t)n, .pages = e->scratch};
    return send_msg(e, &m);
}

int engine_send_pages(struct vsmr_engine *e)
{
    size_t n = pages_to_send(e);
    e->cur.divergent = n;
    for (size_t done = 0; done < n; done += PAGES_PER_FRAME) {
        size_t k = n - done < PAGES_PER_FRAME ? n - done : PAGES_PER_FRAME;
        int rc = send_page_batch(e, e->union_pfns + done, k);
        if (rc < 0)
            return rc;
    }
    size_t clen = 0;
    int rc = vsmr_guest_context_get(e->guest, NULL, 0, &clen);
    if (rc == VSMR_OK && clen > VSMR_WIRE_MAX_CONTEXT)
        rc = vsmr_fail(VSMR_ERANGE, "guest context of %zu bytes is larger "
                       "than the wire allows", clen);
    uint8_t *ctx = rc == VSMR_OK ? malloc(clen ? clen : 1) : NULL;
    if (rc == VSMR_OK && !ctx)
        rc = vsmr_fail(VSMR_ENOMEM, "out of memory for the guest context");
    if (rc == VSMR_OK)
        rc = vsmr_guest_context_get(e->guest, ctx, clen, &clen);
    if (rc == VSMR_OK) {
        struct vsmr_wire_sync m = {.type = VSMR_WIRE_SYNC_DONE,
                                   .epoch = epoch_of(e), .pages_sent = n,
                                   .context = ctx,
                                   .context_len = (uint32_t)clen};
        rc = send_msg(e, &m);
    }
    free(ctx);
    return rc;
}

int engine_apply(struct vsmr_engine *e)
{
    void *pages[PAGES_PER_FRAME], *cookie;
    for (size_t done = 0; done < e->staged; done += PAGES_PER_FRAME) {
        size_t n = e->staged - done < PAGES_PER_FRAME ? e->staged - done
                                                      : PAGES_PER_FRAME;
        int rc = vsmr_guest_map(e->guest, e->stage_pfns + done, n,
                                VSMR_MAP_WRITE, pages, &cookie);
        if (rc < 0)
            return rc;
        for (size_t i = 0; i < n; i++)
            memcpy(pages[i], e->stage_data + (done + i) * VSMR_PAGE_SIZE,
                   VSMR_PAGE_SIZE);
        vsmr_guest_unmap(e->guest, cookie, pages, n);
    }
    e->cur.divergent = e->staged;
    return vsmr_guest_context_set(e->guest, e->peer_context,
                                  e->peer_context_len);
}

int engine_verify(struct vsmr_engine *e, uint64_t *lo, uint64_t *hi)
{
    vsmr_page_hash *all = malloc(e->pages * sizeof *all);
    uint64_t *pfns = malloc(e->pages * sizeof *pfns);
    int rc = all && pfns ? VSMR_OK
                         : vsmr_fail(VSMR_ENOMEM, "verify: out of memory");
    /* Every page that maps (a Xen guest's frame range has holes). */
    if (rc == VSMR_OK)
        rc = vsmr_guest_mappable(e->guest, e->fetched, e->words);
    size_t n = rc == VSMR_OK ? vsmr_bitmap_to_pfns(e->fetched, e->pages, pfns)
                             : 0;
    if (rc == VSMR_OK)
        rc = vsmr_hash_pages(e->pool, e->guest, pfns, n, 0, all);
    if (rc == VSMR_OK) {
        XXH128_hash_t d = XXH3_128bits(all, n * sizeof *all);
        *lo = d.low64;
        *hi = d.high64;
    }
    free(all);
    free(pfns);
    return rc;
}

int engine_send_ack(struct vsmr_engine *e, uint64_t lo, uint64_t hi)
{
    struct vsmr_wire_sync m = {.type = VSMR_WIRE_SYNC_ACK,
                               .epoch = epoch_of(e), .digest_lo = lo,
                               .digest_hi = hi};
    return send_msg(e, &m);
}

int engine_send_abort(struct vsmr_engine *e, const char *reason)
{
    return engine_send_abort_epoch(e, epoch_of(e), reason);
}

int engine_send_abort_epoch(struct vsmr_engine *e, uint64_t epoch,
                            const char *reason)
{
    size_t n = strlen(reason);
    struct vsmr_wire_sync m = {.type = VSMR_WIRE_SYNC_ABORT,
                               .epoch = epoch, .reason = reason,
                               .reason_len = (uint32_t)(n > VSMR_WIRE_MAX_REASON
                                                        ? VSMR_WIRE_MAX_REASON : n)};
    return send_msg(e, &m);
}

void engine_clear_epoch(struct vsmr_engine *e)
{
    e->have_union = false;
    e->n_union = 0;
    e->peer_hashes_received = 0;
    e->staged = 0;
    e->peer_context_len = 0;
    memset(e->dirty_peer, 0, e->words * 8);
}

/* --- frames from the peer ------------------------------------------------ */

/* The peer stopped for an epoch this side left behind (a backup that
 * replayed a stale SYNC entry while catching up). A primary sends
 * nothing of its own epoch until the backup's bitmap for it arrives, so
 * the backup would wait for that epoch's frames until its timeout:
 * an ABORT for it lets the backup move on at once. */
static void tell_epoch_over(struct vsmr_engine *e, uint64_t stale,
                            uint64_t ours)
{
    char why[96];
    snprintf(why, sizeof why, "epoch %llu is over, the other side is at "
             "epoch %llu", (unsigned long long)stale,
             (unsigned long long)ours);
    engine_send_abort_epoch(e, stale, why);
}

static int on_dirty(struct vsmr_engine *e, const struct vsmr_wire_sync *m)
{
    if (m->guest_pages != e->pages)
        return vsmr_fail(VSMR_EPROTO, "peer's guest has %llu pages, ours "
                         "%llu", (unsigned long long)m->guest_pages,
                         (unsigned long long)e->pages);
    struct vsmr_sync_status st;
    vsmr_sync_get_status(e->sync, &st);
    int rc = vsmr_sync_peer_dirty(e->sync, m->epoch);
    if (rc < 0 && m->epoch < st.epoch)
        tell_epoch_over(e, m->epoch, st.epoch);
    if (rc < 0)
        return rc;
    /* Early (next epoch) bitmaps land in the same buffer: clear_epoch ran
     * when the previous epoch ended. */
    memcpy(e->dirty_peer, m->bitmap, e->words * 8);
    e->cur.dirty_peer = vsmr_bitmap_count(e->dirty_peer, e->pages);
    return VSMR_OK;
}

static int on_hashes(struct vsmr_engine *e, const struct vsmr_wire_sync *m)
{
    if (m->epoch != epoch_of(e))
        return vsmr_fail(VSMR_EPROTO, "hashes for epoch %llu, we are at %llu",
                         (unsigned long long)m->epoch,
                         (unsigned long long)epoch_of(e));
    build_union(e);
    if (m->first != e->peer_hashes_received ||
        m->first + m->count > e->n_union)
        return vsmr_fail(VSMR_EPROTO, "hashes %llu..%llu do not follow the "
                         "%zu received of %zu",
                         (unsigned long long)m->first,
                         (unsigned long long)(m->first + m->count),
                         e->peer_hashes_received, e->n_union);
    memcpy(e->hash_peer + m->first, m->hashes, (size_t)m->count * 16);
    e->peer_hashes_received += m->count;
    if (e->peer_hashes_received == e->n_union)
        return vsmr_sync_peer_hashes(e->sync, m->epoch);
    return VSMR_OK;
}

static int on_pages(struct vsmr_engine *e, const struct vsmr_wire_sync *m)
{
    struct vsmr_sync_status st;
    vsmr_sync_get_status(e->sync, &st);
    bool remus_early = e->cfg.mode == VSMR_SYNC_MODE_REMUS &&
                       st.phase == VSMR_SYNC_RUNNING && m->epoch > st.epoch;
    if (!remus_early && (m->epoch != st.epoch || st.phase != VSMR_SYNC_TRANSFER))
        return vsmr_fail(VSMR_EPROTO, "pages for epoch %llu out of turn",
                         (unsigned long long)m->epoch);
    if (e->staged + m->count > e->pages)
        return vsmr_fail(VSMR_EPROTO, "peer sent more pages than the guest "
                         "has (%llu)", (unsigned long long)e->pages);
    for (uint32_t i = 0; i < m->count; i++) {
        uint64_t pfn = vsmr_wire_page_pfn(m, i);
        if (pfn >= e->pages)
            return vsmr_fail(VSMR_EPROTO, "peer sent page %llu, past the "
                             "guest's %llu", (unsigned long long)pfn,
                             (unsigned long long)e->pages);
        e->stage_pfns[e->staged] = pfn;
        memcpy(e->stage_data + e->staged * VSMR_PAGE_SIZE,
               vsmr_wire_page_data(m, i), VSMR_PAGE_SIZE);
        e->staged++;
    }
    return VSMR_OK;
}

static int on_done(struct vsmr_engine *e, const struct vsmr_wire_sync *m)
{
    if (m->pages_sent != e->staged)
        return vsmr_fail(VSMR_EPROTO, "peer says it sent %llu pages, %zu "
                         "arrived", (unsigned long long)m->pages_sent,
                         e->staged);
    uint8_t *ctx = realloc(e->peer_context, m->context_len ? m->context_len : 1);
    if (!ctx)
        return vsmr_fail(VSMR_ENOMEM, "out of memory for the context");
    e->peer_context = ctx;
    memcpy(ctx, m->context, m->context_len);
    e->peer_context_len = m->context_len;
    vsmr_engine_mark(e, &e->cur.ms_transfer);
    return vsmr_sync_peer_done(e->sync, m->epoch);
}

int engine_on_frame(struct vsmr_engine *e, const uint8_t *frame, size_t len)
{
    struct vsmr_wire_sync m;
    int rc = vsmr_wire_sync_decode(frame, len, &m, e->z);
    if (rc < 0)
        return rc;
    switch (m.type) {
    case VSMR_WIRE_SYNC_DIRTY:
    case VSMR_WIRE_SYNC_DIRTY_Z: return on_dirty(e, &m);
    case VSMR_WIRE_SYNC_HASHES: return on_hashes(e, &m);
    case VSMR_WIRE_PAGES:
    case VSMR_WIRE_PAGES_Z:     return on_pages(e, &m);
    case VSMR_WIRE_SYNC_DONE:   return on_done(e, &m);
    case VSMR_WIRE_SYNC_ACK:
        if (m.status != 0)
            return vsmr_fail(VSMR_EIO, "backup failed to apply epoch %llu",
                             (unsigned long long)m.epoch);
        return vsmr_sync_peer_ack(e->sync, m.epoch, m.digest_lo, m.digest_hi);
    case VSMR_WIRE_SYNC_READY:
        engine_on_ready(e, m.epoch);
        return VSMR_OK;
    case VSMR_WIRE_SYNC_ABORT: {
        char why[VSMR_WIRE_MAX_REASON + 32];
        snprintf(why, sizeof why, "peer aborted: %.*s", (int)m.reason_len,
                 m.reason);
        if (m.epoch == epoch_of(e))
            vsmr_sync_abort(e->sync, why);
        return VSMR_OK;
    }
    }
    return vsmr_fail(VSMR_EPROTO, "unexpected sync frame 0x%04x", m.type);
}
