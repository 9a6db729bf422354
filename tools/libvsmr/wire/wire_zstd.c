/*
 * wire_zstd.c - the zstd codec behind SYNC_DIRTY_Z and PAGES_Z frames
 * (docs/sync-protocol.md). Decompression trusts nothing from the peer:
 * exactly one standard zstd frame whose declared content size is the
 * size the message's own fields imply, into a buffer the receiver sized
 * once; anything else is refused before a byte is decompressed.
 */
#include <stdlib.h>
#include <zstd.h>

#include "common/bytes.h"
#include "common/err.h"
#include "wire/wire_zstd.h"

/* No frame of ours needs a window over 8 MiB (the largest content). */
#define WINDOW_LOG_MAX 23

struct vsmr_wire_z {
    ZSTD_CCtx *cctx;
    ZSTD_DCtx *dctx;
    int level;
    uint8_t *buf;        /* decompressed content of the last frame */
    size_t cap;
};

void vsmr_wire_z_free(struct vsmr_wire_z *z)
{
    if (!z)
        return;
    ZSTD_freeCCtx(z->cctx);
    ZSTD_freeDCtx(z->dctx);
    free(z->buf);
    free(z);
}

int vsmr_wire_z_new(int level, size_t max_content, struct vsmr_wire_z **out)
{
    if (!out || max_content == 0 || max_content > VSMR_WIRE_MAX_INFLATED ||
        level < ZSTD_minCLevel() || level > ZSTD_maxCLevel())
        return vsmr_fail(VSMR_EINVAL, "zstd codec: level %d must be in "
                         "%d..%d and the content limit, %zu bytes, in "
                         "1..%llu", level, ZSTD_minCLevel(), ZSTD_maxCLevel(),
                         max_content,
                         (unsigned long long)VSMR_WIRE_MAX_INFLATED);
    struct vsmr_wire_z *z = calloc(1, sizeof *z);
    if (z) {
        z->cctx = ZSTD_createCCtx();
        z->dctx = ZSTD_createDCtx();
        z->buf = malloc(max_content);
        z->cap = max_content;
        z->level = level;
    }
    if (!z || !z->cctx || !z->dctx || !z->buf ||
        ZSTD_isError(ZSTD_DCtx_setParameter(z->dctx, ZSTD_d_windowLogMax,
                                            WINDOW_LOG_MAX))) {
        vsmr_wire_z_free(z);
        return vsmr_fail(VSMR_ENOMEM, "zstd codec: out of memory for its "
                         "contexts and a %zu-byte buffer", max_content);
    }
    *out = z;
    return VSMR_OK;
}

int vsmr_wire_z_inflate(struct vsmr_wire_z *z, const uint8_t *src, size_t n,
                        size_t want, const char *what, const uint8_t **out)
{
    if (want > z->cap)
        return vsmr_fail(VSMR_EPROTO, "%s: %zu bytes of content, more than "
                         "this receiver takes (%zu)", what, want, z->cap);
    /* The standard frame only: no skippable or legacy-format frames. */
    if (n < 4 || get_le32(src) != ZSTD_MAGICNUMBER)
        return vsmr_fail(VSMR_EPROTO, "%s: compressed data of %zu bytes is "
                         "not a zstd frame (magic 0x%08x)", what, n,
                         n < 4 ? 0 : get_le32(src));
    unsigned long long declared = ZSTD_getFrameContentSize(src, n);
    if (declared == ZSTD_CONTENTSIZE_ERROR)
        return vsmr_fail(VSMR_EPROTO, "%s: zstd frame header is truncated "
                         "or corrupted", what);
    if (declared == ZSTD_CONTENTSIZE_UNKNOWN)
        return vsmr_fail(VSMR_EPROTO, "%s: zstd frame does not declare its "
                         "content size", what);
    if (declared != want)
        return vsmr_fail(VSMR_EPROTO, "%s: zstd frame declares %llu bytes "
                         "of content, expected exactly %zu", what, declared,
                         want);
    size_t frame = ZSTD_findFrameCompressedSize(src, n);
    if (ZSTD_isError(frame))
        return vsmr_fail(VSMR_EPROTO, "%s: zstd frame of %zu bytes is "
                         "truncated or corrupted (%s)", what, n,
                         ZSTD_getErrorName(frame));
    if (frame != n)
        return vsmr_fail(VSMR_EPROTO, "%s: %zu bytes follow the %zu-byte "
                         "zstd frame", what, n - frame, frame);
    size_t got = ZSTD_decompressDCtx(z->dctx, z->buf, want, src, n);
    if (ZSTD_isError(got))
        return vsmr_fail(VSMR_EPROTO, "%s: corrupted zstd data (%s)", what,
                         ZSTD_getErrorName(got));
    if (got != want)
        return vsmr_fail(VSMR_EPROTO, "%s: zstd frame decompressed to %zu "
                         "bytes, expected %zu", what, got, want);
    *out = z->buf;
    return VSMR_OK;
}

size_t vsmr_wire_z_deflate(struct vsmr_wire_z *z, const uint8_t *src,
                           size_t n, uint8_t *dst, size_t cap)
{
    if (n < 2 || cap == 0)
        return 0;
    /* One byte short of the plain size: a frame that does not fit there
     * would save nothing. */
    size_t room = cap < n - 1 ? cap : n - 1;
    size_t r = ZSTD_compressCCtx(z->cctx, dst, room, src, n, z->level);
    return ZSTD_isError(r) ? 0 : r;
}
