/*
 * fuzz_wire_sync.c - libFuzzer target: the sync/pages decoder, the zstd
 * types included, must reject malformed frames and never read out of
 * bounds nor decompress past the declared content; what it accepts must
 * re-encode to the same bytes, and its content must survive a round trip
 * through the other encoding (plain <-> zstd) unchanged.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire_sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vsmr_wire_z *z, *z2;
static uint8_t *frame;           /* VSMR_WIRE_MAX_FRAME bytes */

/* The content (bitmap or page records) of a decoded DIRTY(_Z)/PAGES(_Z). */
static size_t content(const struct vsmr_wire_sync *m, const uint8_t **p)
{
    bool dirty = m->type == VSMR_WIRE_SYNC_DIRTY ||
                 m->type == VSMR_WIRE_SYNC_DIRTY_Z;
    *p = dirty ? m->bitmap : m->pages;
    return dirty ? (m->guest_pages + 63) / 64 * 8
                 : (size_t)m->count * VSMR_WIRE_PAGE_RECORD;
}

/* Re-encodes m's content the other way (plain as zstd where that is
 * smaller, zstd as plain) and checks that it decodes to the same. */
static void cross_check(const struct vsmr_wire_sync *m)
{
    const uint8_t *a, *b;
    size_t n = content(m, &a);
    struct vsmr_wire_sync plain = *m, back;
    plain.type = m->type == VSMR_WIRE_SYNC_DIRTY_Z ? VSMR_WIRE_SYNC_DIRTY
               : m->type == VSMR_WIRE_PAGES_Z ? VSMR_WIRE_PAGES : m->type;
    plain.zdata = NULL;
    plain.zlen = 0;
    if (vsmr_wire_sync_size(&plain) > VSMR_WIRE_MAX_FRAME)
        return;          /* only compressed does it fit a frame */
    size_t len = 0;
    int rc = plain.type == m->type
        ? vsmr_wire_sync_encode_z(z2, &plain, frame, VSMR_WIRE_MAX_FRAME, &len)
        : vsmr_wire_sync_encode(&plain, frame, VSMR_WIRE_MAX_FRAME, &len);
    if (rc != 0 || vsmr_wire_sync_decode(frame, len, &back, z2) != 0 ||
        content(&back, &b) != n || memcmp(a, b, n) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!z && (vsmr_wire_z_new(1, VSMR_WIRE_MAX_INFLATED, &z) != 0 ||
               vsmr_wire_z_new(1, VSMR_WIRE_MAX_INFLATED, &z2) != 0 ||
               !(frame = malloc(VSMR_WIRE_MAX_FRAME))))
        abort();
    struct vsmr_wire_sync m;
    if (vsmr_wire_sync_decode(data, size, &m, z) != 0)
        return 0;
    uint8_t *out = malloc(size);
    size_t n = 0;
    if (!out)
        return 0;
    if (vsmr_wire_sync_encode(&m, out, size, &n) != 0 || n != size ||
        memcmp(out, data, size) != 0)
        abort();
    free(out);
    if (m.type == VSMR_WIRE_SYNC_DIRTY || m.type == VSMR_WIRE_SYNC_DIRTY_Z ||
        m.type == VSMR_WIRE_PAGES || m.type == VSMR_WIRE_PAGES_Z)
        cross_check(&m);
    return 0;
}
