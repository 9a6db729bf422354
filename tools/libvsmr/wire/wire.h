/*
 * wire.h - VSMR's binary wire format: a framed, versioned, little-endian
 * encoding of every message between replicas (docs/wire-protocol.md).
 * Decoders never trust a length or a count and never read out of bounds.
 */
#ifndef VSMR_WIRE_WIRE_H
#define VSMR_WIRE_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "log/log.h"

#define VSMR_WIRE_MAGIC        0x524d5356u   /* "VSMR" as LE bytes */
#define VSMR_WIRE_VERSION      1u
#define VSMR_WIRE_HEADER_SIZE  16u
#define VSMR_WIRE_MAX_FRAME    (8u * 1024 * 1024)  /* header + payload */

/* Type ranges: a module owns a range and adds types inside it. */
#define VSMR_WIRE_TYPE_LOG_FIRST   0x0001u  /* consensus log (log.h) */
#define VSMR_WIRE_TYPE_LOG_LAST    0x00ffu
#define VSMR_WIRE_TYPE_SYNC_FIRST  0x0100u  /* sync protocol */
#define VSMR_WIRE_TYPE_SYNC_LAST   0x01ffu
#define VSMR_WIRE_TYPE_PAGES_FIRST 0x0200u  /* page and state batches */
#define VSMR_WIRE_TYPE_PAGES_LAST  0x02ffu
#define VSMR_WIRE_TYPE_CTRL_FIRST  0x0300u  /* transport: hello, auth */
#define VSMR_WIRE_TYPE_CTRL_LAST   0x03ffu

/* Sizes of the fixed parts of log messages (after the frame header). */
#define VSMR_WIRE_LOG_COMMON_SIZE  16u   /* from, to, flags, pad, term */
#define VSMR_WIRE_ENTRY_HDR_SIZE   24u   /* term, aux, type, pad, len */

struct vsmr_wire_header {
    uint32_t magic;
    uint16_t version;
    uint16_t type;
    uint32_t length;   /* payload bytes after the header */
    uint32_t reserved; /* 0 */
};

/* Parses and checks a frame header from the first 16 bytes of buf. A
 * transport reads 16 bytes, calls this, then reads h->length more. */
int vsmr_wire_header_decode(const uint8_t *buf, size_t len,
                            struct vsmr_wire_header *h);
/* Writes a 16-byte header. */
void vsmr_wire_header_encode(uint8_t *buf, uint16_t type, uint32_t length);

/* Bytes that vsmr_wire_log_encode() will write for m, header included. */
size_t vsmr_wire_log_size(const struct vsmr_msg *m);
/* Encodes a log message into buf[cap]; *written gets the frame size.
 * VSMR_ERANGE when cap is too small, VSMR_EINVAL for a message that
 * breaks the limits (it could not be decoded by a peer). */
int vsmr_wire_log_encode(const struct vsmr_msg *m, uint8_t *buf, size_t cap,
                         size_t *written);
/* Decodes one whole frame (exactly len bytes) holding a log message.
 * Entries go into ents[max_ents] (VSMR_LOG_MAX_MSG_ENTRIES is always
 * enough); their data points into buf, so buf must outlive m. Anything
 * malformed gives VSMR_EPROTO with a message naming the field. */
int vsmr_wire_log_decode(const uint8_t *buf, size_t len, struct vsmr_msg *m,
                         struct vsmr_entry *ents, size_t max_ents);

#endif
