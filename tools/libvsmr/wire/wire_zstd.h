/*
 * wire_zstd.h - the zstd steps of the compressed sync frames, for
 * wire_sync.c (internal to wire/): one bounded decompression, one
 * compression that gives up when it would not save a byte.
 */
#ifndef VSMR_WIRE_ZSTD_H
#define VSMR_WIRE_ZSTD_H

#include <stddef.h>
#include <stdint.h>

#include "wire/wire_sync.h"

/* Decompresses src[n], which must be exactly one zstd frame declaring
 * want bytes of content, into z's buffer: *out = want bytes. Anything
 * else is VSMR_EPROTO with a message starting with what. */
int vsmr_wire_z_inflate(struct vsmr_wire_z *z, const uint8_t *src, size_t n,
                        size_t want, const char *what, const uint8_t **out);
/* Compresses src[n] into dst[cap] as one zstd frame; returns its size,
 * or 0 when it would not be smaller than n, would not fit cap, or zstd
 * failed: the message then goes plain. */
size_t vsmr_wire_z_deflate(struct vsmr_wire_z *z, const uint8_t *src,
                           size_t n, uint8_t *dst, size_t cap);

#endif
