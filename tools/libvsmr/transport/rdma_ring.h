/*
 * rdma_ring.h - the record format of the RDMA transport's receive ring: how
 * a sender lays out records that it RDMA-WRITEs into the peer's ring, and
 * how the receiver decides, by reading memory only, that a record is
 * complete, torn or malformed. Pure functions: no verbs, no I/O, no crypto.
 *
 * A record (all integers big-endian, every record 8-byte aligned):
 *   u32 rec_len | u16 kind | u16 reserved=0 | u64 head mark |
 *   DATA: sealed frame (frame.h) | zero pad to 8 | u64 tail mark
 *   WRAP: u64 tail mark           (rec_len = 24; the ring restarts at 0)
 * head mark = ring seq ^ head salt, tail mark = ring seq ^ tail salt; the
 * salts come from the connection's keys, so stale or guest-chosen bytes
 * cannot pose as the next record. The tail mark is written last.
 */
#ifndef VSMR_TRANSPORT_RDMA_RING_H
#define VSMR_TRANSPORT_RDMA_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vsmr/vsmr.h"

#define VSMR_RING_HDR_LEN      16u
#define VSMR_RING_TRAILER_LEN  8u
#define VSMR_RING_WRAP_LEN     24u     /* header + tail mark */
/* Space left at the ring's end below which both sides skip to offset 0
 * without a record (too small even for a WRAP record). */
#define VSMR_RING_MIN_TAIL     VSMR_RING_WRAP_LEN
#define VSMR_RING_MIN_SIZE     4096u

enum vsmr_ring_kind { VSMR_RING_DATA = 1, VSMR_RING_WRAP = 2 };

/* A piece of a message inside a DATA record's frame body:
 * u32 (more << 31 | length) | length bytes. more = the message continues
 * in the next piece (large messages are cut into pieces). */
#define VSMR_RING_PIECE_HDR    4u
#define VSMR_RING_PIECE_MORE   0x80000000u
#define VSMR_RING_PIECE_MAXLEN 0x7fffffffu

struct vsmr_ring_marks {
    uint64_t head_salt, tail_salt;
};

/* A complete record found at the head of the ring. */
struct vsmr_ring_view {
    enum vsmr_ring_kind kind;
    size_t rec_len;            /* bytes of the record */
    size_t advance;            /* bytes the head moves (WRAP: to the end) */
    uint8_t *frame;            /* DATA: the sealed frame inside the ring */
    size_t frame_len;
};

/* Bytes a DATA record takes for a sealed frame of frame_len bytes. */
size_t vsmr_ring_data_len(size_t frame_len);
/* Where a record may start at or after pos: pos, or 0 when fewer than
 * VSMR_RING_MIN_TAIL bytes remain before the end. */
size_t vsmr_ring_place(size_t ring_size, size_t pos);

/* Writes the header, padding and tail mark of a DATA record at rec whose
 * sealed frame of frame_len bytes is already at rec + VSMR_RING_HDR_LEN. */
void vsmr_ring_put_data(uint8_t *rec, size_t frame_len, uint64_t seq,
                        const struct vsmr_ring_marks *m);
/* Writes a WRAP record (VSMR_RING_WRAP_LEN bytes) at rec. */
void vsmr_ring_put_wrap(uint8_t *rec, uint64_t seq,
                        const struct vsmr_ring_marks *m);

/*
 * Looks at the ring at head for the record with sequence seq.
 * VSMR_OK: complete (*out filled). VSMR_EAGAIN: not there yet, or still
 * being written (head or tail mark not yet seq's). VSMR_EPROTO: the marks
 * say it is the sender's record but its header or frame length is wrong:
 * the sender is broken or hostile and the connection must be reset.
 * ring_size and head must be multiples of 8, head a place vsmr_ring_place
 * returns. The frame is not authenticated here (vsmr_frame_open does it).
 */
int vsmr_ring_check(uint8_t *ring, size_t ring_size, size_t head,
                    uint64_t seq, const struct vsmr_ring_marks *m,
                    size_t max_frame, struct vsmr_ring_view *out);

/*
 * Reads the piece at *off of a frame body: VSMR_OK with *data, *len, *more
 * and *off moved past it; VSMR_ENOENT at the end of the body; VSMR_EPROTO
 * if the piece overruns the body.
 */
int vsmr_ring_piece_next(const uint8_t *body, size_t body_len, size_t *off,
                         const uint8_t **data, size_t *len, bool *more);

#endif
