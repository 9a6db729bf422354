/*
 * rdma_data.c - the RDMA transport's data path: messages queued per peer
 * are cut into pieces, packed into sealed frames inside ring records laid
 * out in a local image of the peer's ring, and RDMA-WRITten there (the
 * last WRITE of a flush carries immediate data as a doorbell); credits come
 * back as a byte count the peer writes into our control block. The
 * receiving side only reads its ring memory (format: rdma_ring.h).
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/err.h"
#include "transport/rdma_impl.h"

size_t rdma_data_queued(const struct rdma_conn *c)
{
    return c->pend.len - c->pend.off;
}

void rdma_data_free(struct rdma_conn *c)
{
    free(c->pend.data);
    free(c->asm_buf);
    c->pend = (struct rbuf){0};
    c->asm_buf = NULL;
}

int rdma_data_queue(struct rdma_conn *c, const void *msg, size_t len)
{
    struct rbuf *b = &c->pend;
    if (b->off > 0 && b->off == b->len)
        b->off = b->len = 0;
    if (b->off > b->cap / 2) {   /* compact before growing */
        memmove(b->data, b->data + b->off, b->len - b->off);
        b->len -= b->off;
        b->off = 0;
    }
    if (b->cap - b->len < len + 4) {
        size_t cap = b->cap ? b->cap : 64 << 10;
        while (cap - b->len < len + 4)
            cap *= 2;
        uint8_t *p = realloc(b->data, cap);
        if (!p)
            return vsmr_fail(VSMR_ENOMEM, "send queue of %zu bytes", cap);
        b->data = p;
        b->cap = cap;
    }
    put_be32(b->data + b->len, (uint32_t)len);
    if (len)
        memcpy(b->data + b->len + 4, msg, len);
    b->len += len + 4;
    return VSMR_OK;
}

/* Credit the peer last wrote into our control block: the ring bytes it has
 * consumed. It must never go backwards or past what we wrote. */
static bool read_credit(struct rdma_conn *c)
{
    const volatile uint8_t *w = c->ring + RDMA_RING_SIZE;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | w[i];
    if (v < c->tx_credit || v > c->tx_bytes) {
        rdma_conn_reset(c, "frame_rejected", "credit outside the bytes sent");
        return false;
    }
    c->tx_credit = v;
    return true;
}

static int post_write(struct rdma_conn *c, size_t off, size_t len,
                      bool doorbell)
{
    struct ibv_sge sge = {.addr = (uintptr_t)(c->stage + off),
                          .length = (uint32_t)len,
                          .lkey = c->stage_mr->lkey};
    struct ibv_send_wr wr = {
        .sg_list = &sge, .num_sge = 1,
        .opcode = doorbell ? IBV_WR_RDMA_WRITE_WITH_IMM : IBV_WR_RDMA_WRITE,
        .imm_data = htonl(RDMA_IMM_DOORBELL),
        .wr.rdma = {.remote_addr = c->r_addr + off, .rkey = c->r_rkey},
    };
    return rdma_conn_post(c, &wr);
}

/* Bytes of the first queued message not yet packed, and where. */
static size_t first_left(const struct rdma_conn *c, const uint8_t **p)
{
    size_t n = get_be32(c->pend.data + c->pend.off);
    *p = c->pend.data + c->pend.off + 4 + c->pend_part;
    return n - c->pend_part;
}

/* Packs queued messages into a frame body of at most cap bytes at body. */
static size_t pack_body(struct rdma_conn *c, uint8_t *body, size_t cap)
{
    size_t used = 0;
    while (rdma_data_queued(c) > 0 && cap - used >= VSMR_RING_PIECE_HDR) {
        const uint8_t *src;
        size_t left = first_left(c, &src);
        size_t room = cap - used - VSMR_RING_PIECE_HDR;
        if (room == 0 && left > 0)
            break;
        size_t n = left < room ? left : room;
        bool more = n < left;
        put_be32(body + used, (uint32_t)n | (more ? VSMR_RING_PIECE_MORE : 0));
        memcpy(body + used + VSMR_RING_PIECE_HDR, src, n);
        used += VSMR_RING_PIECE_HDR + n;
        if (more) {
            c->pend_part += n;
            break;
        }
        c->pend.off += 4 + c->pend_part + n;
        c->pend_part = 0;
    }
    return used;
}

void rdma_data_flush(struct rdma_conn *c)
{
    if (c->dead || c->state != RC_UP || !read_credit(c))
        return;
    struct vsmr_peer_stats *st = rdma_stats_of(c);
    const size_t size = c->r_size;
    const size_t min_rec = vsmr_ring_data_len(VSMR_FRAME_OVERHEAD +
                                              VSMR_RING_PIECE_HDR + 64);
    size_t run = c->tx_pos, run_len = 0;   /* records not yet written */
    bool wrote = false;
    while ((rdma_data_queued(c) > 0 || c->keepalive) &&
           c->sq_used + 3 < RDMA_SQ_DEPTH) {
        size_t free_b = size - (size_t)(c->tx_bytes - c->tx_credit);
        size_t contig = size - c->tx_pos;
        if (vsmr_ring_place(size, c->tx_pos) == 0 && c->tx_pos != 0) {
            if (free_b < contig)
                break;
            /* both sides skip a tail too small for a record */
        } else {
            size_t room = contig < free_b ? contig : free_b;
            size_t max_rec = vsmr_ring_data_len(RDMA_MAX_FRAME);
            if (room > max_rec)
                room = max_rec;
            room &= ~(size_t)7;
            if (room >= min_rec || (room >= contig && contig >= min_rec)) {
                size_t frame_cap = room - VSMR_RING_HDR_LEN -
                                   VSMR_RING_TRAILER_LEN;
                uint8_t *rec = c->stage + c->tx_pos;
                uint8_t *frame = rec + VSMR_RING_HDR_LEN;
                size_t blen = pack_body(c, frame + VSMR_FRAME_HDR_LEN,
                                        frame_cap - VSMR_FRAME_OVERHEAD);
                long flen = vsmr_frame_seal(&c->sess, frame, blen);
                if (flen < 0) {
                    rdma_conn_reset(c, "conn_error", vsmr_errmsg());
                    return;
                }
                vsmr_ring_put_data(rec, (size_t)flen, c->tx_seq++,
                                   &c->tx_marks);
                size_t rl = vsmr_ring_data_len((size_t)flen);
                c->tx_pos += rl;
                c->tx_bytes += rl;
                run_len += rl;
                c->keepalive = false;
                st->frames_sent++;
                st->bytes_sent += rl;
                continue;
            }
            if (contig > free_b)
                break;   /* wait for credit */
            vsmr_ring_put_wrap(c->stage + c->tx_pos, c->tx_seq++,
                               &c->tx_marks);
            run_len += VSMR_RING_WRAP_LEN;
        }
        /* wrap: write what lies before the end (with a doorbell, in case
         * credit stops this flush before anything more), restart at 0 */
        if (run_len && post_write(c, run, run_len, true) < 0) {
            rdma_conn_reset(c, "conn_error", vsmr_errmsg());
            return;
        }
        wrote = wrote || run_len;
        c->tx_bytes += contig;
        c->tx_pos = 0;
        run = 0;
        run_len = 0;
    }
    if (run_len) {
        if (post_write(c, run, run_len, true) < 0) {
            rdma_conn_reset(c, "conn_error", vsmr_errmsg());
            return;
        }
        wrote = true;
    }
    if (wrote)
        c->last_tx_ms = vsmr_now_ms();
}

/* Tells the peer how many ring bytes we consumed: an 8-byte RDMA WRITE into
 * its control block, with immediate data so a blocked sender wakes up. */
static void send_credit(struct rdma_conn *c)
{
    uint8_t *w = c->stage + RDMA_RING_SIZE;
    put_be64(w, c->rx_bytes);
    struct ibv_sge sge = {.addr = (uintptr_t)w, .length = 8,
                          .lkey = c->stage_mr->lkey};
    struct ibv_send_wr wr = {
        .sg_list = &sge, .num_sge = 1,
        .opcode = IBV_WR_RDMA_WRITE_WITH_IMM,
        .imm_data = htonl(RDMA_IMM_CREDIT),
        .wr.rdma = {.remote_addr = c->r_ctl, .rkey = c->r_rkey},
    };
    if (c->sq_used + 1 >= RDMA_SQ_DEPTH)
        return;   /* retried after the next completion */
    if (rdma_conn_post(c, &wr) < 0) {
        rdma_conn_reset(c, "conn_error", vsmr_errmsg());
        return;
    }
    c->rx_reported = c->rx_bytes;
}

static void deliver(struct rdma_conn *c, const uint8_t *data, size_t len)
{
    struct vsmr_peer_stats *st = rdma_stats_of(c);
    st->msgs_received++;
    if (c->t->h.on_message)
        c->t->h.on_message(c->t->h.ctx, c->peer_id, data, len);
}

/* The pieces of one authenticated frame body. */
static void on_body(struct rdma_conn *c, const uint8_t *body, size_t blen)
{
    size_t off = 0, max = c->t->cfg.max_message;
    for (;;) {
        const uint8_t *d;
        size_t n;
        bool more;
        int rc = vsmr_ring_piece_next(body, blen, &off, &d, &n, &more);
        if (rc == VSMR_ENOENT)
            return;
        if (rc < 0 || n > max - c->asm_len) {
            rdma_conn_reset(c, "frame_rejected", rc < 0 ? vsmr_errmsg()
                            : "message longer than max_message");
            return;
        }
        if (!more && c->asm_len == 0) {
            deliver(c, d, n);   /* straight from the ring */
        } else {
            if (c->asm_cap < c->asm_len + n) {
                size_t cap = c->asm_len + n > (1u << 20) ? max : (1u << 20);
                uint8_t *p = realloc(c->asm_buf, cap);
                if (!p) {
                    rdma_conn_reset(c, "conn_error", "out of memory");
                    return;
                }
                c->asm_buf = p;
                c->asm_cap = cap;
            }
            memcpy(c->asm_buf + c->asm_len, d, n);
            c->asm_len += n;
            if (!more) {
                size_t total = c->asm_len;
                c->asm_len = 0;
                deliver(c, c->asm_buf, total);
            }
        }
        if (c->dead)
            return;
    }
}

void rdma_data_read_ring(struct rdma_conn *c)
{
    if (c->dead || c->state != RC_UP)
        return;
    struct vsmr_peer_stats *st = rdma_stats_of(c);
    const size_t size = RDMA_RING_SIZE;
    while (!c->dead) {
        if (vsmr_ring_place(size, c->rx_pos) == 0 && c->rx_pos != 0) {
            c->rx_bytes += size - c->rx_pos;
            c->rx_pos = 0;
        }
        struct vsmr_ring_view v;
        int rc = vsmr_ring_check(c->ring, size, c->rx_pos, c->rx_seq,
                                 &c->rx_marks, RDMA_MAX_FRAME, &v);
        if (rc == VSMR_EAGAIN)
            break;
        if (rc < 0) {
            rdma_conn_reset(c, "frame_rejected", vsmr_errmsg());
            return;
        }
        st->ring_records++;
        c->last_rx_ms = vsmr_now_ms();
        st->last_contact_ms = c->last_rx_ms;
        if (v.kind == VSMR_RING_DATA) {
            uint8_t *body;
            size_t blen;
            if (vsmr_frame_open(&c->sess, v.frame, v.frame_len, &body,
                                &blen) < 0) {
                rdma_conn_reset(c, "frame_rejected", vsmr_errmsg());
                return;
            }
            st->frames_received++;
            st->bytes_received += v.rec_len;
            c->rx_seq++;
            c->rx_pos += v.advance;
            c->rx_bytes += v.advance;
            on_body(c, body, blen);
        } else {
            c->rx_seq++;
            c->rx_pos = 0;
            c->rx_bytes += v.advance;
        }
        if (c->rx_bytes - c->rx_reported >= size / 4)
            send_credit(c);
    }
    if (!c->dead && c->rx_bytes - c->rx_reported >= size / 4)
        send_credit(c);
}

void rdma_data_on_credit(struct rdma_conn *c)
{
    if (!c->dead && c->state == RC_UP && rdma_data_queued(c) > 0)
        rdma_data_flush(c);
}
