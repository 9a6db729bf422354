/*
 * wire_sync.h - wire messages of the sync protocol (types 0x0101-0x01ff)
 * and page batches (0x0201-0x02ff), specified in docs/sync-protocol.md.
 * Decoded messages point into the frame buffer they came from, or, for
 * the zstd-compressed types, into the decompressor's buffer.
 */
#ifndef VSMR_WIRE_SYNC_H
#define VSMR_WIRE_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "common/bytes.h"
#include "wire/wire.h"

enum vsmr_wire_sync_type {
    VSMR_WIRE_SYNC_DIRTY  = 0x0101,  /* a replica's dirty bitmap */
    VSMR_WIRE_SYNC_HASHES = 0x0102,  /* backup -> primary, union's hashes */
    VSMR_WIRE_SYNC_DONE   = 0x0103,  /* primary -> backup, + context */
    VSMR_WIRE_SYNC_ACK    = 0x0104,  /* backup -> primary */
    VSMR_WIRE_SYNC_ABORT  = 0x0105,  /* either way: epoch abandoned */
    VSMR_WIRE_SYNC_DIRTY_Z = 0x0106, /* SYNC_DIRTY, bitmap in zstd */
    VSMR_WIRE_SYNC_READY  = 0x0107,  /* backup -> primary: running again */
    VSMR_WIRE_PAGES       = 0x0201,  /* primary -> backup, page contents */
    VSMR_WIRE_PAGES_Z     = 0x0202,  /* PAGES, records in zstd */
};

#define VSMR_WIRE_MAX_GUEST_PAGES   (UINT64_C(1) << 26)   /* 256 GiB */
#define VSMR_WIRE_MAX_HASHES        65536u   /* per SYNC_HASHES frame */
#define VSMR_WIRE_MAX_PAGES         1024u    /* per PAGES frame */
#define VSMR_WIRE_MAX_CONTEXT       (1u << 20)
#define VSMR_WIRE_MAX_REASON        200u
#define VSMR_WIRE_PAGE_RECORD       (8u + 4096u)   /* pfn, content */
/* Largest decompressed content: the bitmap of VSMR_WIRE_MAX_GUEST_PAGES. */
#define VSMR_WIRE_MAX_INFLATED      (VSMR_WIRE_MAX_GUEST_PAGES / 8)

struct vsmr_wire_sync {
    uint16_t type;
    uint64_t epoch;
    /* DIRTY, DIRTY_Z */
    uint64_t guest_pages;            /* bitmap has (guest_pages+63)/64 words */
    const uint8_t *bitmap;           /* little-endian 64-bit words */
    /* DIRTY_Z, PAGES_Z: the zstd frame as on the wire; decoded, bitmap or
     * pages hold its content */
    const uint8_t *zdata;
    uint32_t zlen;
    /* HASHES: hashes[i] is the hash of union entry first + i */
    uint64_t first;
    uint32_t count;                  /* HASHES, PAGES, PAGES_Z */
    const uint8_t *hashes;           /* count x 16 bytes (lo, hi LE) */
    /* PAGES, PAGES_Z: count x (pfn LE64, 4096 bytes) */
    const uint8_t *pages;
    /* DONE */
    uint64_t pages_sent;
    const uint8_t *context;
    uint32_t context_len;
    /* ACK */
    uint32_t status;                 /* 0: applied */
    uint64_t digest_lo, digest_hi;   /* all memory, verify mode; else 0 */
    /* READY: epoch = the committed epoch the backup runs on from */
    /* ABORT */
    const char *reason;              /* not NUL-terminated */
    uint32_t reason_len;
};

/* The zstd compressor and decompressor of DIRTY_Z and PAGES_Z frames
 * (wire_zstd.c); one per replica, used from one thread at a time. */
struct vsmr_wire_z;
/* level: zstd's compression level. max_content: the largest content it
 * decompresses (a frame declaring more is refused), at most
 * VSMR_WIRE_MAX_INFLATED; its buffer is allocated here, once. */
int vsmr_wire_z_new(int level, size_t max_content, struct vsmr_wire_z **out);
void vsmr_wire_z_free(struct vsmr_wire_z *z);

/* Size of the frame that encodes m (header included). */
size_t vsmr_wire_sync_size(const struct vsmr_wire_sync *m);
/* Encodes m into buf[cap]; *written = frame size. DIRTY_Z and PAGES_Z
 * carry m->zdata as given (vsmr_wire_sync_encode_z makes it). VSMR_EINVAL
 * when m breaks a limit, VSMR_ERANGE when cap is too small. */
int vsmr_wire_sync_encode(const struct vsmr_wire_sync *m, uint8_t *buf,
                          size_t cap, size_t *written);
/* Encodes a DIRTY or PAGES message as DIRTY_Z or PAGES_Z when the zstd
 * frame is smaller than the plain content, else as itself (as does any
 * other message); *written = frame size. */
int vsmr_wire_sync_encode_z(struct vsmr_wire_z *z,
                            const struct vsmr_wire_sync *m, uint8_t *buf,
                            size_t cap, size_t *written);
/* Decodes one whole frame of len bytes; VSMR_EPROTO naming the field for
 * anything malformed. DIRTY_Z and PAGES_Z are decompressed with z into
 * its buffer (valid until its next use); without z they are refused. */
int vsmr_wire_sync_decode(const uint8_t *buf, size_t len,
                          struct vsmr_wire_sync *m, struct vsmr_wire_z *z);

/* Page i of a decoded PAGES or PAGES_Z message. */
static inline uint64_t vsmr_wire_page_pfn(const struct vsmr_wire_sync *m,
                                          uint32_t i)
{
    return get_le64(m->pages + (size_t)i * VSMR_WIRE_PAGE_RECORD);
}
static inline const uint8_t *vsmr_wire_page_data(const struct vsmr_wire_sync *m,
                                                 uint32_t i)
{
    return m->pages + (size_t)i * VSMR_WIRE_PAGE_RECORD + 8;
}

#endif
