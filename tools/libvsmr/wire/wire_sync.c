/*
 * wire_sync.c - encoder and decoder of the sync protocol's messages and
 * of page batches (docs/sync-protocol.md, "Wire messages"). Every length
 * and count is checked against the frame and the limits before use; the
 * compressed types are checked the same way, then their content against
 * those fields (wire_zstd.c).
 */
#include <string.h>

#include "common/err.h"
#include "wire/wire_bytes.h"
#include "wire/wire_sync.h"
#include "wire/wire_zstd.h"

#define PAGE_RECORD VSMR_WIRE_PAGE_RECORD

static uint64_t bitmap_bytes(uint64_t pages)
{
    return (pages + 63) / 64 * 8;
}

/* Payload size after the header, or 0 for an unknown type. */
static size_t payload_size(const struct vsmr_wire_sync *m)
{
    switch (m->type) {
    case VSMR_WIRE_SYNC_DIRTY:  return 16 + bitmap_bytes(m->guest_pages);
    case VSMR_WIRE_SYNC_HASHES: return 24 + (size_t)m->count * 16;
    case VSMR_WIRE_SYNC_DONE:   return 24 + m->context_len;
    case VSMR_WIRE_SYNC_ACK:    return 32;
    case VSMR_WIRE_SYNC_ABORT:  return 16 + m->reason_len;
    case VSMR_WIRE_SYNC_READY:  return 16;
    case VSMR_WIRE_PAGES:       return 16 + (size_t)m->count * PAGE_RECORD;
    case VSMR_WIRE_SYNC_DIRTY_Z:
    case VSMR_WIRE_PAGES_Z:     return 16 + (size_t)m->zlen;
    default:                    return 0;
    }
}

size_t vsmr_wire_sync_size(const struct vsmr_wire_sync *m)
{
    return VSMR_WIRE_HEADER_SIZE + payload_size(m);
}

/* The message's name in errors. */
static const char *type_name(uint16_t type)
{
    switch (type) {
    case VSMR_WIRE_SYNC_DIRTY_Z: return "sync dirty (zstd)";
    case VSMR_WIRE_PAGES_Z:      return "pages (zstd)";
    case VSMR_WIRE_PAGES:        return "pages";
    default:                     return "sync dirty";
    }
}

static int check_limits(const struct vsmr_wire_sync *m)
{
    switch (m->type) {
    case VSMR_WIRE_SYNC_DIRTY:
    case VSMR_WIRE_SYNC_DIRTY_Z:
        if (m->guest_pages == 0 || m->guest_pages > VSMR_WIRE_MAX_GUEST_PAGES)
            return vsmr_fail(VSMR_EPROTO, "%s: %llu guest pages (1..%llu)",
                             type_name(m->type),
                             (unsigned long long)m->guest_pages,
                             (unsigned long long)VSMR_WIRE_MAX_GUEST_PAGES);
        return VSMR_OK;
    case VSMR_WIRE_SYNC_HASHES:
        if (m->count > VSMR_WIRE_MAX_HASHES ||
            m->first > VSMR_WIRE_MAX_GUEST_PAGES)
            return vsmr_fail(VSMR_EPROTO, "sync hashes: %u hashes from %llu "
                             "(at most %u per frame)", m->count,
                             (unsigned long long)m->first,
                             VSMR_WIRE_MAX_HASHES);
        return VSMR_OK;
    case VSMR_WIRE_SYNC_DONE:
        if (m->context_len > VSMR_WIRE_MAX_CONTEXT ||
            m->pages_sent > VSMR_WIRE_MAX_GUEST_PAGES)
            return vsmr_fail(VSMR_EPROTO, "sync done: context of %u bytes "
                             "(at most %u)", m->context_len,
                             VSMR_WIRE_MAX_CONTEXT);
        return VSMR_OK;
    case VSMR_WIRE_SYNC_ABORT:
        if (m->reason_len > VSMR_WIRE_MAX_REASON)
            return vsmr_fail(VSMR_EPROTO, "sync abort: reason of %u bytes "
                             "(at most %u)", m->reason_len,
                             VSMR_WIRE_MAX_REASON);
        return VSMR_OK;
    case VSMR_WIRE_PAGES:
    case VSMR_WIRE_PAGES_Z:
        if (m->count == 0 || m->count > VSMR_WIRE_MAX_PAGES)
            return vsmr_fail(VSMR_EPROTO, "%s: %u pages in one frame "
                             "(1..%u)", type_name(m->type), m->count,
                             VSMR_WIRE_MAX_PAGES);
        return VSMR_OK;
    case VSMR_WIRE_SYNC_ACK:
    case VSMR_WIRE_SYNC_READY:
        return VSMR_OK;
    default:
        return vsmr_fail(VSMR_EPROTO, "frame type 0x%04x is not a sync "
                         "message", m->type);
    }
}

int vsmr_wire_sync_encode(const struct vsmr_wire_sync *m, uint8_t *buf,
                          size_t cap, size_t *written)
{
    int rc = check_limits(m);
    if (rc < 0)
        return vsmr_fail(VSMR_EINVAL, "%s", vsmr_errmsg());
    size_t size = vsmr_wire_sync_size(m);
    if (size > VSMR_WIRE_MAX_FRAME)
        return vsmr_fail(VSMR_EINVAL, "sync message of %zu bytes exceeds the "
                         "frame limit", size);
    if (size > cap)
        return vsmr_fail(VSMR_ERANGE, "sync message of %zu bytes does not "
                         "fit %zu", size, cap);
    vsmr_wire_header_encode(buf, m->type,
                            (uint32_t)(size - VSMR_WIRE_HEADER_SIZE));
    uint8_t *p = buf + VSMR_WIRE_HEADER_SIZE;
    put_le64(p, m->epoch);
    switch (m->type) {
    case VSMR_WIRE_SYNC_DIRTY:
        put_le64(p + 8, m->guest_pages);
        memcpy(p + 16, m->bitmap, bitmap_bytes(m->guest_pages));
        break;
    case VSMR_WIRE_SYNC_HASHES:
        put_le64(p + 8, m->first);
        put_le32(p + 16, m->count);
        put_le32(p + 20, 0);
        if (m->count)
            memcpy(p + 24, m->hashes, (size_t)m->count * 16);
        break;
    case VSMR_WIRE_SYNC_DONE:
        put_le64(p + 8, m->pages_sent);
        put_le32(p + 16, m->context_len);
        put_le32(p + 20, 0);
        if (m->context_len)
            memcpy(p + 24, m->context, m->context_len);
        break;
    case VSMR_WIRE_SYNC_ACK:
        put_le32(p + 8, m->status);
        put_le32(p + 12, 0);
        put_le64(p + 16, m->digest_lo);
        put_le64(p + 24, m->digest_hi);
        break;
    case VSMR_WIRE_SYNC_ABORT:
        put_le32(p + 8, m->reason_len);
        put_le32(p + 12, 0);
        if (m->reason_len)
            memcpy(p + 16, m->reason, m->reason_len);
        break;
    case VSMR_WIRE_PAGES:
        put_le32(p + 8, m->count);
        put_le32(p + 12, 0);
        memcpy(p + 16, m->pages, (size_t)m->count * PAGE_RECORD);
        break;
    case VSMR_WIRE_SYNC_READY:
        put_le32(p + 8, 0);
        put_le32(p + 12, 0);
        break;
    case VSMR_WIRE_SYNC_DIRTY_Z:
    case VSMR_WIRE_PAGES_Z:
        if (m->type == VSMR_WIRE_SYNC_DIRTY_Z) {
            put_le64(p + 8, m->guest_pages);
        } else {
            put_le32(p + 8, m->count);
            put_le32(p + 12, 0);
        }
        if (m->zlen)     /* in place when vsmr_wire_sync_encode_z made it */
            memmove(p + 16, m->zdata, m->zlen);
        break;
    }
    *written = size;
    return VSMR_OK;
}

int vsmr_wire_sync_encode_z(struct vsmr_wire_z *z,
                            const struct vsmr_wire_sync *m, uint8_t *buf,
                            size_t cap, size_t *written)
{
    const uint8_t *raw = NULL;
    size_t n = 0;
    struct vsmr_wire_sync zm = *m;
    if (m->type == VSMR_WIRE_SYNC_DIRTY && check_limits(m) == VSMR_OK) {
        raw = m->bitmap;
        n = bitmap_bytes(m->guest_pages);
        zm.type = VSMR_WIRE_SYNC_DIRTY_Z;
    } else if (m->type == VSMR_WIRE_PAGES && check_limits(m) == VSMR_OK) {
        raw = m->pages;
        n = (size_t)m->count * PAGE_RECORD;
        zm.type = VSMR_WIRE_PAGES_Z;
    }
    size_t at = VSMR_WIRE_HEADER_SIZE + 16;
    size_t room = cap > at ? cap - at : 0;
    if (room > VSMR_WIRE_MAX_FRAME - at)
        room = VSMR_WIRE_MAX_FRAME - at;
    zm.zlen = z && raw ? (uint32_t)vsmr_wire_z_deflate(z, raw, n, buf + at,
                                                       room)
                       : 0;
    if (!zm.zlen)        /* not smaller, or not compressible here */
        return vsmr_wire_sync_encode(m, buf, cap, written);
    zm.zdata = buf + at;
    return vsmr_wire_sync_encode(&zm, buf, cap, written);
}

static int need(size_t have, size_t want, const char *what)
{
    if (have != want)
        return vsmr_fail(VSMR_EPROTO, "%s: payload of %zu bytes, expected "
                         "%zu", what, have, want);
    return VSMR_OK;
}

/* Reserved fields are zero: a frame that sets one is not one we wrote
 * (and would not re-encode to the same bytes). */
static int reserved_zero(const uint8_t *field, const char *what)
{
    if (get_le32(field) != 0)
        return vsmr_fail(VSMR_EPROTO, "%s: reserved field is 0x%08x, not 0",
                         what, get_le32(field));
    return VSMR_OK;
}

/* DIRTY_Z, PAGES_Z: the fields of DIRTY or PAGES, then one zstd frame
 * whose content is exactly what those fields make the plain message
 * carry. */
static int decode_z(const uint8_t *p, size_t n, struct vsmr_wire_sync *m,
                    struct vsmr_wire_z *z)
{
    const char *what = type_name(m->type);
    bool dirty = m->type == VSMR_WIRE_SYNC_DIRTY_Z;
    if (n < 16)
        return need(n, 16, what);
    if (dirty) {
        m->guest_pages = get_le64(p + 8);
    } else {
        m->count = get_le32(p + 8);
        if (reserved_zero(p + 12, what) < 0)
            return VSMR_EPROTO;
    }
    if (check_limits(m) < 0)
        return VSMR_EPROTO;
    m->zdata = p + 16;
    m->zlen = (uint32_t)(n - 16);
    if (!z)
        return vsmr_fail(VSMR_EPROTO, "%s: this receiver has no zstd "
                         "decompressor", what);
    size_t want = dirty ? bitmap_bytes(m->guest_pages)
                        : (size_t)m->count * PAGE_RECORD;
    const uint8_t *content;
    int rc = vsmr_wire_z_inflate(z, m->zdata, m->zlen, want, what, &content);
    if (rc < 0)
        return rc;
    if (dirty)
        m->bitmap = content;
    else
        m->pages = content;
    return VSMR_OK;
}

static int decode_body(const uint8_t *p, size_t n, struct vsmr_wire_sync *m,
                       struct vsmr_wire_z *z)
{
    switch (m->type) {
    case VSMR_WIRE_SYNC_DIRTY:
        if (n < 16)
            return need(n, 16, "sync dirty");
        m->guest_pages = get_le64(p + 8);
        if (check_limits(m) < 0)
            return VSMR_EPROTO;
        m->bitmap = p + 16;
        return need(n, 16 + bitmap_bytes(m->guest_pages), "sync dirty");
    case VSMR_WIRE_SYNC_HASHES:
        if (n < 24)
            return need(n, 24, "sync hashes");
        m->first = get_le64(p + 8);
        m->count = get_le32(p + 16);
        if (reserved_zero(p + 20, "sync hashes") < 0 || check_limits(m) < 0)
            return VSMR_EPROTO;
        m->hashes = p + 24;
        return need(n, 24 + (size_t)m->count * 16, "sync hashes");
    case VSMR_WIRE_SYNC_DONE:
        if (n < 24)
            return need(n, 24, "sync done");
        m->pages_sent = get_le64(p + 8);
        m->context_len = get_le32(p + 16);
        if (reserved_zero(p + 20, "sync done") < 0 || check_limits(m) < 0)
            return VSMR_EPROTO;
        m->context = p + 24;
        return need(n, 24 + (size_t)m->context_len, "sync done");
    case VSMR_WIRE_SYNC_ACK:
        if (need(n, 32, "sync ack") < 0 || reserved_zero(p + 12, "sync ack") < 0)
            return VSMR_EPROTO;
        m->status = get_le32(p + 8);
        m->digest_lo = get_le64(p + 16);
        m->digest_hi = get_le64(p + 24);
        return VSMR_OK;
    case VSMR_WIRE_SYNC_ABORT:
        if (n < 16)
            return need(n, 16, "sync abort");
        m->reason_len = get_le32(p + 8);
        if (reserved_zero(p + 12, "sync abort") < 0 || check_limits(m) < 0)
            return VSMR_EPROTO;
        m->reason = (const char *)p + 16;
        return need(n, 16 + (size_t)m->reason_len, "sync abort");
    case VSMR_WIRE_PAGES:
        if (n < 16)
            return need(n, 16, "pages");
        m->count = get_le32(p + 8);
        if (reserved_zero(p + 12, "pages") < 0 || check_limits(m) < 0)
            return VSMR_EPROTO;
        m->pages = p + 16;
        return need(n, 16 + (size_t)m->count * PAGE_RECORD, "pages");
    case VSMR_WIRE_SYNC_READY:
        if (need(n, 16, "sync ready") < 0 ||
            reserved_zero(p + 8, "sync ready") < 0 ||
            reserved_zero(p + 12, "sync ready") < 0)
            return VSMR_EPROTO;
        return VSMR_OK;
    case VSMR_WIRE_SYNC_DIRTY_Z:
    case VSMR_WIRE_PAGES_Z:
        return decode_z(p, n, m, z);
    default:
        return vsmr_fail(VSMR_EPROTO, "frame type 0x%04x is not a sync "
                         "message", m->type);
    }
}

int vsmr_wire_sync_decode(const uint8_t *buf, size_t len,
                          struct vsmr_wire_sync *m, struct vsmr_wire_z *z)
{
    struct vsmr_wire_header h;
    memset(m, 0, sizeof *m);
    if (!buf)
        return vsmr_fail(VSMR_EPROTO, "sync message: no buffer");
    int rc = vsmr_wire_header_decode(buf, len, &h);
    if (rc < 0)
        return rc;
    if (h.length != len - VSMR_WIRE_HEADER_SIZE)
        return vsmr_fail(VSMR_EPROTO, "sync message: header says %u payload "
                         "bytes, frame has %zu", h.length,
                         len - VSMR_WIRE_HEADER_SIZE);
    m->type = h.type;
    const uint8_t *p = buf + VSMR_WIRE_HEADER_SIZE;
    if (h.length < 8)
        return vsmr_fail(VSMR_EPROTO, "sync message of type 0x%04x: payload "
                         "of %u bytes has no epoch", h.type, h.length);
    m->epoch = get_le64(p);
    return decode_body(p, h.length, m, z);
}
