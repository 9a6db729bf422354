/*
 * frame.h - the service's framing on TCP: a u32 little-endian length, then
 * that many bytes of sim request or response. Pure parsing of untrusted
 * bytes; the caller owns the buffers.
 */
#ifndef VSMR_CLIENT_FRAME_H
#define VSMR_CLIENT_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_HEADER       4u
#define FRAME_MAX_REQUEST  4096u
#define FRAME_MAX_RESPONSE (4096u + 8u)

enum frame_rc {
    FRAME_MORE    = 0,      /* not a whole frame yet */
    FRAME_OK      = 1,
    FRAME_TOOLONG = -1,     /* the length field exceeds max */
    FRAME_EMPTY   = -2,     /* the length field is zero */
};

/* Looks at the front of buf[len]: on FRAME_OK, body[blen] is the frame's
 * payload and *used the bytes it takes, header included. */
int frame_next(const uint8_t *buf, size_t len, size_t max,
               const uint8_t **body, size_t *blen, size_t *used);
/* Writes a frame holding body[blen] into out[cap]; returns its size, or 0
 * if it does not fit or blen is 0 or above FRAME_MAX_REQUEST. */
size_t frame_put(uint8_t *out, size_t cap, const void *body, size_t blen);

#endif
