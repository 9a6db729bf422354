/*
 * wire_bytes.h - little-endian load/store helpers and a bounds-checked
 * reader cursor for the wire decoders (internal to wire/).
 */
#ifndef VSMR_WIRE_BYTES_H
#define VSMR_WIRE_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline void put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t get_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t get_le32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static inline uint64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

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
