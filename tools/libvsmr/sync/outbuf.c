/*
 * outbuf.c - a FIFO of held outputs, each tagged with its epoch.
 */
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "sync/outbuf.h"

struct vsmr_outbuf {
    struct vsmr_output *items;
    size_t head, count, cap;
    size_t bytes, max_bytes;
};

int vsmr_outbuf_new(size_t max_bytes, struct vsmr_outbuf **out)
{
    struct vsmr_outbuf *b = calloc(1, sizeof *b);
    if (!b)
        return vsmr_fail(VSMR_ENOMEM, "output buffer: out of memory");
    b->max_bytes = max_bytes;
    *out = b;
    return VSMR_OK;
}

void vsmr_outbuf_free(struct vsmr_outbuf *b)
{
    if (!b)
        return;
    vsmr_outbuf_flush(b, UINT64_MAX, NULL, NULL);
    free(b->items);
    free(b);
}

static int grow(struct vsmr_outbuf *b)
{
    size_t cap = b->cap ? b->cap * 2 : 64;
    struct vsmr_output *items = malloc(cap * sizeof *items);
    if (!items)
        return vsmr_fail(VSMR_ENOMEM, "output buffer: out of memory");
    for (size_t i = 0; i < b->count; i++)
        items[i] = b->items[(b->head + i) % b->cap];
    free(b->items);
    b->items = items;
    b->cap = cap;
    b->head = 0;
    return VSMR_OK;
}

int vsmr_outbuf_hold(struct vsmr_outbuf *b, uint64_t epoch, const void *data,
                     size_t len)
{
    if (len > UINT32_MAX || (len && !data))
        return vsmr_fail(VSMR_EINVAL, "output of %zu bytes", len);
    if (b->max_bytes && b->bytes + len > b->max_bytes && b->count)
        return VSMR_EAGAIN;
    if (b->count == b->cap && grow(b) < 0)
        return VSMR_ENOMEM;
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return vsmr_fail(VSMR_ENOMEM, "output buffer: out of memory");
    memcpy(copy, data, len);
    b->items[(b->head + b->count) % b->cap] =
        (struct vsmr_output){.epoch = epoch, .len = (uint32_t)len, .data = copy};
    b->count++;
    b->bytes += len;
    return VSMR_OK;
}

size_t vsmr_outbuf_flush(struct vsmr_outbuf *b, uint64_t upto,
                         void (*fn)(void *ctx, const struct vsmr_output *o),
                         void *ctx)
{
    size_t n = 0;
    while (b->count && b->items[b->head].epoch <= upto) {
        struct vsmr_output *o = &b->items[b->head];
        if (fn)
            fn(ctx, o);
        b->bytes -= o->len;
        free(o->data);
        b->head = (b->head + 1) % b->cap;
        b->count--;
        n++;
    }
    return n;
}

size_t vsmr_outbuf_count(const struct vsmr_outbuf *b)
{
    return b->count;
}

size_t vsmr_outbuf_bytes(const struct vsmr_outbuf *b)
{
    return b->bytes;
}
