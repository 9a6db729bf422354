/*
 * outbuf.h - outputs of a guest held per epoch until a sync commits them
 * (primary: then released) or makes them moot (backup: then dropped).
 */
#ifndef VSMR_SYNC_OUTBUF_H
#define VSMR_SYNC_OUTBUF_H

#include <stddef.h>
#include <stdint.h>

struct vsmr_outbuf;

struct vsmr_output {
    uint64_t epoch;          /* released when this epoch commits */
    uint32_t len;
    uint8_t *data;
};

int vsmr_outbuf_new(size_t max_bytes, struct vsmr_outbuf **out);
void vsmr_outbuf_free(struct vsmr_outbuf *b);
/* Holds a copy of data for epoch; VSMR_EAGAIN when max_bytes would be
 * exceeded (the caller syncs, then retries). */
int vsmr_outbuf_hold(struct vsmr_outbuf *b, uint64_t epoch, const void *data,
                     size_t len);
/* Calls fn for every output of epoch <= upto, oldest first, and forgets
 * them; fn may be NULL to drop them. Returns how many. */
size_t vsmr_outbuf_flush(struct vsmr_outbuf *b, uint64_t upto,
                         void (*fn)(void *ctx, const struct vsmr_output *o),
                         void *ctx);
size_t vsmr_outbuf_count(const struct vsmr_outbuf *b);
size_t vsmr_outbuf_bytes(const struct vsmr_outbuf *b);

#endif
