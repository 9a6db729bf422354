/*
 * frame.c - splitting a byte stream into length-prefixed frames, and
 * writing one. Never reads past len, never trusts the length field.
 */
#include <string.h>

#include "frame.h"

static uint32_t frame_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

int frame_next(const uint8_t *buf, size_t len, size_t max,
               const uint8_t **body, size_t *blen, size_t *used)
{
    if (len < FRAME_HEADER)
        return FRAME_MORE;
    uint32_t n = frame_get_u32(buf);
    if (n == 0)
        return FRAME_EMPTY;
    if (n > max)
        return FRAME_TOOLONG;
    if (len - FRAME_HEADER < n)
        return FRAME_MORE;
    *body = buf + FRAME_HEADER;
    *blen = n;
    *used = FRAME_HEADER + (size_t)n;
    return FRAME_OK;
}

size_t frame_put(uint8_t *out, size_t cap, const void *body, size_t blen)
{
    if (blen == 0 || blen > FRAME_MAX_REQUEST || cap < FRAME_HEADER + blen)
        return 0;
    for (int i = 0; i < 4; i++)
        out[i] = (uint8_t)(blen >> (8 * i));
    memcpy(out + FRAME_HEADER, body, blen);
    return FRAME_HEADER + blen;
}
