/*
 * entry.c - the log entry payload that carries captured input frames
 * (layout in docs/netio.md, "Entry format"): encode, and an all-or-nothing
 * decoder for untrusted bytes. Pure: no I/O, no allocation.
 */
#include <string.h>

#include "common/err.h"
#include "vsmr/netio.h"

#define ENTRY_MAGIC 0x4e56u      /* "VN" little-endian */
#define ENTRY_VERSION 1u
#define ENTRY_HDR 8u
#define FRAME_HDR 24u

/* virtio_net_hdr values (linux/virtio_net.h), spelled out: this file
 * checks untrusted input and must not depend on a header's version. */
#define VNET_F_NEEDS_CSUM 1u
#define VNET_F_DATA_VALID 2u
#define VNET_GSO_NONE 0u
#define VNET_GSO_TCPV4 1u
#define VNET_GSO_UDP 3u
#define VNET_GSO_TCPV6 4u
#define VNET_GSO_UDP_L4 5u
#define VNET_GSO_ECN 0x80u

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

static uint16_t ethertype(const uint8_t *frame)
{
    return (uint16_t)(frame[12] << 8 | frame[13]);
}

/* NULL if the frame is acceptable, else why not. */
static const char *frame_problem(const struct vsmr_netio_frame *f)
{
    const struct vsmr_netio_vnet *v = &f->vnet;
    if (f->len < VSMR_NETIO_FRAME_MIN || f->len > VSMR_NETIO_FRAME_MAX)
        return "frame length out of range";
    if (v->flags & ~(VNET_F_NEEDS_CSUM | VNET_F_DATA_VALID))
        return "unknown virtio_net_hdr flags";
    if ((v->flags & VNET_F_NEEDS_CSUM) &&
        (uint32_t)v->csum_start + v->csum_offset + 2u > f->len)
        return "checksum position past the frame";
    uint8_t gso = v->gso_type & (uint8_t)~VNET_GSO_ECN;
    if (gso != VNET_GSO_NONE && gso != VNET_GSO_TCPV4 &&
        gso != VNET_GSO_UDP && gso != VNET_GSO_TCPV6 && gso != VNET_GSO_UDP_L4)
        return "unknown GSO type";
    if (gso == VNET_GSO_NONE && (v->gso_type & VNET_GSO_ECN))
        return "ECN flag without GSO";
    if (gso != VNET_GSO_NONE && (v->gso_size == 0 || v->hdr_len > f->len))
        return "GSO fields out of range";
    return NULL;
}

size_t vsmr_netio_entry_size(const struct vsmr_netio_frame *frames, size_t n)
{
    size_t total = ENTRY_HDR;
    for (size_t i = 0; i < n; i++)
        total += FRAME_HDR + frames[i].len;
    return total;
}

int vsmr_netio_entry_encode(const struct vsmr_netio_frame *frames, size_t n,
                            uint8_t *buf, size_t cap, size_t *out_len)
{
    if (n == 0 || n > VSMR_NETIO_ENTRY_MAX_FRAMES)
        return vsmr_fail(VSMR_EINVAL, "an entry carries 1 to %u frames, "
                         "not %zu", VSMR_NETIO_ENTRY_MAX_FRAMES, n);
    for (size_t i = 0; i < n; i++) {
        const char *why = frames[i].data ? frame_problem(&frames[i])
                                         : "no frame data";
        if (why)
            return vsmr_fail(VSMR_EINVAL, "frame %zu of %zu: %s", i, n, why);
    }
    size_t need = vsmr_netio_entry_size(frames, n);
    if (need > cap)
        return vsmr_fail(VSMR_ERANGE, "entry of %zu bytes does not fit in "
                         "%zu", need, cap);
    put16(buf, ENTRY_MAGIC);
    buf[2] = ENTRY_VERSION;
    buf[3] = 0;
    put16(buf + 4, (uint16_t)n);
    put16(buf + 6, 0);
    uint8_t *p = buf + ENTRY_HDR;
    for (size_t i = 0; i < n; i++) {
        const struct vsmr_netio_frame *f = &frames[i];
        put32(p, f->len);
        put16(p + 4, ethertype(f->data));
        p[6] = f->vnet.flags;
        p[7] = f->vnet.gso_type;
        put64(p + 8, f->ts_ns);
        put16(p + 16, f->vnet.hdr_len);
        put16(p + 18, f->vnet.gso_size);
        put16(p + 20, f->vnet.csum_start);
        put16(p + 22, f->vnet.csum_offset);
        memcpy(p + FRAME_HDR, f->data, f->len);
        p += FRAME_HDR + f->len;
    }
    *out_len = need;
    return 0;
}

int vsmr_netio_entry_decode(const uint8_t *buf, size_t len,
                            struct vsmr_netio_frame *frames, size_t max,
                            size_t *n)
{
    *n = 0;
    if (!buf || len < ENTRY_HDR)
        return vsmr_fail(VSMR_EPROTO, "frame entry of %zu bytes is shorter "
                         "than its header", len);
    if (get16(buf) != ENTRY_MAGIC)
        return vsmr_fail(VSMR_EPROTO, "frame entry has a bad magic %#x",
                         get16(buf));
    if (buf[2] != ENTRY_VERSION)
        return vsmr_fail(VSMR_EPROTO, "frame entry version %u (this build "
                         "reads %u)", buf[2], ENTRY_VERSION);
    if (buf[3] != 0 || get16(buf + 6) != 0)
        return vsmr_fail(VSMR_EPROTO, "frame entry has reserved bits set");
    size_t count = get16(buf + 4);
    if (count == 0 || count > VSMR_NETIO_ENTRY_MAX_FRAMES)
        return vsmr_fail(VSMR_EPROTO, "frame entry claims %zu frames (1 to "
                         "%u allowed)", count, VSMR_NETIO_ENTRY_MAX_FRAMES);
    if (count > max)
        return vsmr_fail(VSMR_ERANGE, "frame entry holds %zu frames, room "
                         "for %zu", count, max);
    size_t off = ENTRY_HDR;
    for (size_t i = 0; i < count; i++) {
        if (len - off < FRAME_HDR)
            return vsmr_fail(VSMR_EPROTO, "frame %zu of %zu: header cut "
                             "short at byte %zu", i, count, off);
        const uint8_t *p = buf + off;
        struct vsmr_netio_frame f = {
            .len = get32(p),
            .ts_ns = get64(p + 8),
            .vnet = {
                .flags = p[6], .gso_type = p[7],
                .hdr_len = get16(p + 16), .gso_size = get16(p + 18),
                .csum_start = get16(p + 20), .csum_offset = get16(p + 22),
            },
        };
        if (f.len > len - off - FRAME_HDR)
            return vsmr_fail(VSMR_EPROTO, "frame %zu of %zu: %u bytes "
                             "claimed, %zu left", i, count, f.len,
                             len - off - FRAME_HDR);
        f.data = p + FRAME_HDR;
        const char *why = frame_problem(&f);
        if (why)
            return vsmr_fail(VSMR_EPROTO, "frame %zu of %zu: %s", i, count,
                             why);
        if (get16(p + 4) != ethertype(f.data))
            return vsmr_fail(VSMR_EPROTO, "frame %zu of %zu: protocol field "
                             "%#06x differs from the frame's %#06x", i, count,
                             get16(p + 4), ethertype(f.data));
        frames[i] = f;
        off += FRAME_HDR + f.len;
    }
    if (off != len)
        return vsmr_fail(VSMR_EPROTO, "frame entry has %zu trailing bytes",
                         len - off);
    *n = count;
    return 0;
}
