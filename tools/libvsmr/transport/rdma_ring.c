/*
 * rdma_ring.c - encoding and checking of the records the RDMA transport
 * writes into a peer's receive ring (format in rdma_ring.h and
 * docs/transport.md). Reads ring memory that a NIC may be writing at the
 * same moment: each field is read once, marks with acquire ordering.
 */
#include <string.h>

#include "common/bytes.h"
#include "common/err.h"
#include "transport/frame.h"
#include "transport/rdma_ring.h"

/* A mark, read once from memory another agent writes, then ordered before
 * every later read of the record. */
static uint64_t load_mark(const uint8_t *p)
{
    uint64_t v = 0;
    const volatile uint8_t *q = p;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | q[i];
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    return v;
}

size_t vsmr_ring_data_len(size_t frame_len)
{
    return ((VSMR_RING_HDR_LEN + frame_len + 7u) & ~(size_t)7u) +
           VSMR_RING_TRAILER_LEN;
}

size_t vsmr_ring_place(size_t ring_size, size_t pos)
{
    return ring_size - pos < VSMR_RING_MIN_TAIL ? 0 : pos;
}

static void put_header(uint8_t *rec, size_t rec_len, enum vsmr_ring_kind k,
                       uint64_t seq, const struct vsmr_ring_marks *m)
{
    put_be32(rec, (uint32_t)rec_len);
    put_be16(rec + 4, (uint16_t)k);
    put_be16(rec + 6, 0);
    put_be64(rec + 8, seq ^ m->head_salt);
}

void vsmr_ring_put_data(uint8_t *rec, size_t frame_len, uint64_t seq,
                        const struct vsmr_ring_marks *m)
{
    size_t rec_len = vsmr_ring_data_len(frame_len);
    size_t end = VSMR_RING_HDR_LEN + frame_len;
    memset(rec + end, 0, rec_len - VSMR_RING_TRAILER_LEN - end);
    put_header(rec, rec_len, VSMR_RING_DATA, seq, m);
    put_be64(rec + rec_len - VSMR_RING_TRAILER_LEN, seq ^ m->tail_salt);
}

void vsmr_ring_put_wrap(uint8_t *rec, uint64_t seq,
                        const struct vsmr_ring_marks *m)
{
    put_header(rec, VSMR_RING_WRAP_LEN, VSMR_RING_WRAP, seq, m);
    put_be64(rec + VSMR_RING_HDR_LEN, seq ^ m->tail_salt);
}

int vsmr_ring_check(uint8_t *ring, size_t ring_size, size_t head,
                    uint64_t seq, const struct vsmr_ring_marks *m,
                    size_t max_frame, struct vsmr_ring_view *out)
{
    if (ring_size % 8 || head % 8 || head >= ring_size ||
        ring_size - head < VSMR_RING_MIN_TAIL)
        return vsmr_fail(VSMR_EINVAL, "ring head %zu of %zu is not a "
                         "record place", head, ring_size);
    uint8_t *rec = ring + head;
    if (load_mark(rec + 8) != (seq ^ m->head_salt))
        return VSMR_EAGAIN;            /* nothing new written here yet */
    /* The header precedes the head mark in the write, so it is final. */
    uint8_t hdr[8];
    memcpy(hdr, rec, 8);
    size_t rec_len = get_be32(hdr);
    unsigned kind = (unsigned)(hdr[4] << 8 | hdr[5]);
    if (hdr[6] || hdr[7])
        return vsmr_fail(VSMR_EPROTO, "ring record %llu has reserved bits "
                         "set", (unsigned long long)seq);
    if (kind == VSMR_RING_WRAP) {
        if (rec_len != VSMR_RING_WRAP_LEN)
            return vsmr_fail(VSMR_EPROTO, "wrap record %llu of %zu bytes",
                             (unsigned long long)seq, rec_len);
        if (load_mark(rec + VSMR_RING_HDR_LEN) != (seq ^ m->tail_salt))
            return VSMR_EAGAIN;
        *out = (struct vsmr_ring_view){.kind = VSMR_RING_WRAP,
                                       .rec_len = rec_len,
                                       .advance = ring_size - head};
        return VSMR_OK;
    }
    if (kind != VSMR_RING_DATA)
        return vsmr_fail(VSMR_EPROTO, "ring record %llu of unknown kind %u",
                         (unsigned long long)seq, kind);
    size_t min_len = vsmr_ring_data_len(VSMR_FRAME_OVERHEAD);
    if (rec_len % 8 || rec_len < min_len || rec_len > ring_size - head ||
        rec_len > vsmr_ring_data_len(max_frame))
        return vsmr_fail(VSMR_EPROTO, "ring record %llu claims %zu bytes "
                         "(at %zu of a %zu-byte ring, frames up to %zu)",
                         (unsigned long long)seq, rec_len, head, ring_size,
                         max_frame);
    if (load_mark(rec + rec_len - VSMR_RING_TRAILER_LEN) !=
        (seq ^ m->tail_salt))
        return VSMR_EAGAIN;            /* still being written: torn */
    size_t frame_len;
    uint8_t *frame = rec + VSMR_RING_HDR_LEN;
    size_t room = rec_len - VSMR_RING_HDR_LEN - VSMR_RING_TRAILER_LEN;
    if (vsmr_frame_peek(frame, room, max_frame, &frame_len) < 0 ||
        frame_len > room || vsmr_ring_data_len(frame_len) != rec_len)
        return vsmr_fail(VSMR_EPROTO, "ring record %llu: its frame does not "
                         "fill its %zu bytes", (unsigned long long)seq,
                         rec_len);
    *out = (struct vsmr_ring_view){.kind = VSMR_RING_DATA,
                                   .rec_len = rec_len, .advance = rec_len,
                                   .frame = frame, .frame_len = frame_len};
    return VSMR_OK;
}

int vsmr_ring_piece_next(const uint8_t *body, size_t body_len, size_t *off,
                         const uint8_t **data, size_t *len, bool *more)
{
    if (*off == body_len)
        return VSMR_ENOENT;
    if (*off > body_len || body_len - *off < VSMR_RING_PIECE_HDR)
        return vsmr_fail(VSMR_EPROTO, "piece header overruns the frame");
    uint32_t h = get_be32(body + *off);
    size_t n = h & VSMR_RING_PIECE_MAXLEN;
    if (n > body_len - *off - VSMR_RING_PIECE_HDR)
        return vsmr_fail(VSMR_EPROTO, "piece of %zu bytes overruns the "
                         "frame", n);
    *data = body + *off + VSMR_RING_PIECE_HDR;
    *len = n;
    *more = (h & VSMR_RING_PIECE_MORE) != 0;
    *off += VSMR_RING_PIECE_HDR + n;
    return VSMR_OK;
}
