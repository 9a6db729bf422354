/*
 * wire_bytes.h - little-endian load/store helpers and a bounds-checked
 * reader cursor for the wire decoders (internal to wire/).
 */
#ifndef VSMR_WIRE_BYTES_H
#define VSMR_WIRE_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/bytes.h"

/* A read cursor: every take checks the remaining length first. */
struct wire_reader {
    const uint8_t *p;
    size_t left;
};

static inline const uint8_t *wire_take(struct wire_reader *r, size_t n)
{
    if (r->left < n)
        return NULL;
    const uint8_t *at = r->p;
    r->p += n;
    r->left -= n;
    return at;
}

static inline bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

#endif
