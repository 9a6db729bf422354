/*
 * wire_frame.c - the 16-byte frame header shared by every VSMR message:
 * magic, version, type, payload length (docs/wire-protocol.md, "Frame").
 */
#include "common/err.h"
#include "wire/wire.h"
#include "wire/wire_bytes.h"

void vsmr_wire_header_encode(uint8_t *buf, uint16_t type, uint32_t length)
{
    put_le32(buf, VSMR_WIRE_MAGIC);
    put_le16(buf + 4, VSMR_WIRE_VERSION);
    put_le16(buf + 6, type);
    put_le32(buf + 8, length);
    put_le32(buf + 12, 0);
}

int vsmr_wire_header_decode(const uint8_t *buf, size_t len,
                            struct vsmr_wire_header *h)
{
    if (len < VSMR_WIRE_HEADER_SIZE)
        return vsmr_fail(VSMR_EPROTO, "frame of %zu bytes is shorter than "
                         "the %u-byte header", len, VSMR_WIRE_HEADER_SIZE);
    h->magic = get_le32(buf);
    h->version = get_le16(buf + 4);
    h->type = get_le16(buf + 6);
    h->length = get_le32(buf + 8);
    h->reserved = get_le32(buf + 12);
    if (h->magic != VSMR_WIRE_MAGIC)
        return vsmr_fail(VSMR_EPROTO, "bad frame magic 0x%08x", h->magic);
    if (h->version != VSMR_WIRE_VERSION)
        return vsmr_fail(VSMR_EPROTO, "unsupported wire version %u (this "
                         "side speaks %u)", h->version, VSMR_WIRE_VERSION);
    if (h->type == 0)
        return vsmr_fail(VSMR_EPROTO, "frame type 0 is reserved");
    if (h->reserved != 0)
        return vsmr_fail(VSMR_EPROTO, "frame reserved field is 0x%x, not 0",
                         h->reserved);
    if (h->length > VSMR_WIRE_MAX_FRAME - VSMR_WIRE_HEADER_SIZE)
        return vsmr_fail(VSMR_EPROTO, "frame payload of %u bytes exceeds "
                         "the %u-byte limit", h->length,
                         VSMR_WIRE_MAX_FRAME - VSMR_WIRE_HEADER_SIZE);
    return VSMR_OK;
}
