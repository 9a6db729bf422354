/*
 * rdma_conn.c - one RDMA connection: its verbs resources (PD, completion
 * channel, CQ, QP, the receive ring MR with a fresh rkey, the staging MR),
 * the handshake over SEND/RECV (hello, key proof, sealed ring descriptor)
 * and completion handling. Ring records themselves are in rdma_data.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>

#include <sodium.h>

#include "common/bytes.h"
#include "common/err.h"
#include "transport/rdma_impl.h"

#define SEND_SLOT_HELLO 0u
#define SEND_SLOT_PROOF 1u
#define SEND_SLOT_DESC  2u
#define WR_RECV_BASE    (1ull << 32)   /* wr_id of RECV slot i: base + i */

struct rdma_conn *rdma_conn_new(struct vsmr_transport *t,
                                struct rdma_cm_id *id, bool dialer,
                                uint32_t peer_id, const char *addr)
{
    struct rdma_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->t = t;
    c->id = id;
    c->dialer = dialer;
    c->peer_id = peer_id;
    c->state = dialer ? RC_RESOLVING : RC_CONNECTING;
    snprintf(c->addr, sizeof c->addr, "%s", addr);
    c->deadline_ms = vsmr_now_ms() + RDMA_HANDSHAKE_MS;
    id->context = c;
    return c;
}

static uint8_t *send_slot(struct rdma_conn *c, unsigned i)
{
    return c->msg + (RDMA_RECV_DEPTH + i) * RDMA_MSG_SLOT;
}

static int post_recv(struct rdma_conn *c, unsigned slot)
{
    struct ibv_sge sge = {.addr = (uintptr_t)(c->msg + slot * RDMA_MSG_SLOT),
                          .length = RDMA_MSG_SLOT, .lkey = c->msg_mr->lkey};
    struct ibv_recv_wr wr = {.wr_id = WR_RECV_BASE + slot, .sg_list = &sge,
                             .num_sge = 1}, *bad;
    int rc = ibv_post_recv(c->id->qp, &wr, &bad);
    if (rc)
        return vsmr_fail(VSMR_ESYS, "ibv_post_recv: %s", strerror(rc));
    rdma_stats_of(c)->wr_posted++;
    return VSMR_OK;
}

/* Pinned, page-aligned, zeroed memory for an MR. */
static uint8_t *region(size_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

int rdma_conn_setup_qp(struct rdma_conn *c)
{
    struct ibv_context *ctx = c->id->verbs;
    size_t msg_len = (RDMA_RECV_DEPTH + 4) * RDMA_MSG_SLOT;
    if (!(c->pd = ibv_alloc_pd(ctx)))
        return vsmr_fail_errno(VSMR_ESYS, "ibv_alloc_pd");
    if (!(c->ch = ibv_create_comp_channel(ctx)))
        return vsmr_fail_errno(VSMR_ESYS, "ibv_create_comp_channel");
    int fl = fcntl(c->ch->fd, F_GETFL);
    if (fl < 0 || fcntl(c->ch->fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return vsmr_fail_errno(VSMR_ESYS, "non-blocking completion channel");
    int cqe = (int)(RDMA_SQ_DEPTH + RDMA_RECV_DEPTH + 8);
    if (!(c->cq = ibv_create_cq(ctx, cqe, c, c->ch, 0)))
        return vsmr_fail_errno(VSMR_ESYS, "ibv_create_cq of %d entries", cqe);
    if (ibv_req_notify_cq(c->cq, 0))
        return vsmr_fail_errno(VSMR_ESYS, "ibv_req_notify_cq");
    struct ibv_qp_init_attr qa = {
        .send_cq = c->cq, .recv_cq = c->cq, .qp_type = IBV_QPT_RC,
        .cap = {.max_send_wr = RDMA_SQ_DEPTH, .max_recv_wr = RDMA_RECV_DEPTH,
                .max_send_sge = 1, .max_recv_sge = 1},
        .sq_sig_all = 0,
    };
    if (rdma_create_qp(c->id, c->pd, &qa))
        return vsmr_fail_errno(VSMR_ESYS, "rdma_create_qp");
    size_t ring_len = RDMA_RING_SIZE + RDMA_CTL_SIZE;
    if (!(c->ring = region(ring_len)) || !(c->stage = region(ring_len)) ||
        !(c->msg = region(msg_len)))
        return vsmr_fail_errno(VSMR_ENOMEM, "ring memory");
    c->ring_mr = ibv_reg_mr(c->pd, c->ring, ring_len,
                            IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE);
    c->stage_mr = ibv_reg_mr(c->pd, c->stage, ring_len,
                             IBV_ACCESS_LOCAL_WRITE);
    c->msg_mr = ibv_reg_mr(c->pd, c->msg, msg_len, IBV_ACCESS_LOCAL_WRITE);
    if (!c->ring_mr || !c->stage_mr || !c->msg_mr)
        return vsmr_fail_errno(VSMR_ESYS, "ibv_reg_mr (is the locked-memory "
                               "limit, ulimit -l, large enough?)");
    for (unsigned i = 0; i < RDMA_RECV_DEPTH; i++) {
        int rc = post_recv(c, i);
        if (rc < 0)
            return rc;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(c->t->epfd, EPOLL_CTL_ADD, c->ch->fd, &ev) < 0)
        return vsmr_fail_errno(VSMR_ESYS, "epoll_ctl on a completion channel");
    return VSMR_OK;
}

/* Fencing: once this returns the peer's old rkey names no memory, its QP
 * is gone, and nothing it still sends can land in our ring. */
void rdma_conn_teardown(struct rdma_conn *c)
{
    if (c->id && c->established)
        rdma_disconnect(c->id);
    if (c->ring_mr)
        ibv_dereg_mr(c->ring_mr);
    c->ring_mr = NULL;
    if (c->id && c->id->qp)
        rdma_destroy_qp(c->id);
    if (c->stage_mr)
        ibv_dereg_mr(c->stage_mr);
    if (c->msg_mr)
        ibv_dereg_mr(c->msg_mr);
    c->stage_mr = c->msg_mr = NULL;
    if (c->cq)
        ibv_destroy_cq(c->cq);
    c->cq = NULL;
    if (c->ch) {
        epoll_ctl(c->t->epfd, EPOLL_CTL_DEL, c->ch->fd, NULL);
        ibv_destroy_comp_channel(c->ch);
    }
    c->ch = NULL;
    if (c->pd)
        ibv_dealloc_pd(c->pd);
    c->pd = NULL;
    if (c->id)
        rdma_destroy_id(c->id);
    c->id = NULL;
    vsmr_session_wipe(&c->sess);
}

void rdma_conn_free(struct rdma_conn *c)
{
    size_t ring_len = RDMA_RING_SIZE + RDMA_CTL_SIZE;
    if (c->ring)
        munmap(c->ring, ring_len);
    if (c->stage)
        munmap(c->stage, ring_len);
    if (c->msg)
        munmap(c->msg, (RDMA_RECV_DEPTH + 4) * RDMA_MSG_SLOT);
    rdma_data_free(c);
    free(c);
}

int rdma_conn_post(struct rdma_conn *c, struct ibv_send_wr *wr)
{
    /* A signalled completion's wr_id is the number of WRs it retires:
     * itself and the unsignalled ones posted before it. */
    c->sq_unsignalled++;
    if ((wr->send_flags & IBV_SEND_SIGNALED) ||
        c->sq_unsignalled >= RDMA_SIGNAL_EVERY) {
        wr->send_flags |= IBV_SEND_SIGNALED;
        wr->wr_id = c->sq_unsignalled;
        c->sq_unsignalled = 0;
    } else {
        wr->wr_id = 0;
    }
    struct ibv_send_wr *bad;
    int rc = ibv_post_send(c->id->qp, wr, &bad);
    if (rc)
        return vsmr_fail(VSMR_ESYS, "ibv_post_send: %s", strerror(rc));
    c->sq_used++;
    rdma_stats_of(c)->wr_posted++;
    return VSMR_OK;
}

static int send_msg(struct rdma_conn *c, unsigned slot, size_t len)
{
    struct ibv_sge sge = {.addr = (uintptr_t)send_slot(c, slot),
                          .length = (uint32_t)len, .lkey = c->msg_mr->lkey};
    struct ibv_send_wr wr = {.sg_list = &sge, .num_sge = 1,
                             .opcode = IBV_WR_SEND,
                             .send_flags = IBV_SEND_SIGNALED};
    int rc = rdma_conn_post(c, &wr);
    if (rc < 0)
        rdma_conn_reset(c, "conn_error", vsmr_errmsg());
    return rc;
}

void rdma_conn_on_established(struct rdma_conn *c)
{
    if (c->established)
        return;   /* a RECV completion came before the rdma_cm event */
    c->established = true;
    c->state = RC_HELLO;
    vsmr_hello_init(&c->my_hello, c->t->cfg.cluster_id, c->t->cfg.self_id,
                    c->t->cfg.cipher);
    vsmr_hello_encode(&c->my_hello, send_slot(c, SEND_SLOT_HELLO));
    send_msg(c, SEND_SLOT_HELLO, VSMR_HELLO_WIRE_LEN);
}

static void derive_marks(struct vsmr_ring_marks *m, const uint8_t key[32])
{
    static const char label[] = "vsmr-rdma-ring-marks";
    uint8_t out[16];
    crypto_generichash(out, sizeof out, (const uint8_t *)label,
                       sizeof label - 1, key, 32);
    m->head_salt = get_be64(out);
    m->tail_salt = get_be64(out + 8);
    sodium_memzero(out, sizeof out);
}

static void on_hello(struct rdma_conn *c, const uint8_t *buf, size_t len)
{
    struct vsmr_transport *t = c->t;
    struct vsmr_hello h;
    if (vsmr_hello_decode(buf, len, &h) < 0) {
        rdma_conn_reset(c, "auth_refused", vsmr_errmsg());
        return;
    }
    if (h.cluster_id != t->cfg.cluster_id) {
        rdma_conn_reset(c, "auth_refused", "different cluster id");
        return;
    }
    if (c->dialer ? h.node_id != c->peer_id
                  : (h.node_id < 1 || h.node_id > VSMR_MAX_PEERS ||
                     !t->peers[h.node_id].known ||
                     h.node_id >= t->cfg.self_id)) {
        rdma_conn_reset(c, "auth_refused", c->dialer
                        ? "the node there has another id"
                        : "unknown node id, or one that should accept");
        return;
    }
    c->peer_id = h.node_id;
    c->peer_hello = h;
    const struct vsmr_hello *d = c->dialer ? &c->my_hello : &h;
    const struct vsmr_hello *a = c->dialer ? &h : &c->my_hello;
    if (vsmr_session_derive(&c->sess, t->cfg.key, d, a, c->dialer) < 0) {
        rdma_conn_reset(c, "auth_refused", vsmr_errmsg());
        return;
    }
    derive_marks(&c->tx_marks, c->sess.tx_key);
    derive_marks(&c->rx_marks, c->sess.rx_key);
    c->state = RC_PROOF;
    vsmr_session_auth_encode(&c->sess, send_slot(c, SEND_SLOT_PROOF));
    send_msg(c, SEND_SLOT_PROOF, VSMR_AUTH_WIRE_LEN);
}

/* The ring descriptor, sealed: only a peer holding the session keys can
 * learn where our ring is, and only after it proved the cluster key. */
static void send_desc(struct rdma_conn *c)
{
    uint8_t *f = send_slot(c, SEND_SLOT_DESC);
    uint8_t *b = f + VSMR_FRAME_HDR_LEN;
    put_be64(b, (uintptr_t)c->ring);
    put_be32(b + 8, c->ring_mr->rkey);
    put_be32(b + 12, RDMA_RING_SIZE);
    put_be64(b + 16, (uintptr_t)(c->ring + RDMA_RING_SIZE));
    put_be64(b + 24, 0);
    long n = vsmr_frame_seal(&c->sess, f, RDMA_DESC_LEN);
    if (n < 0) {
        rdma_conn_reset(c, "conn_error", vsmr_errmsg());
        return;
    }
    c->sent_desc = true;
    c->state = RC_DESC;
    send_msg(c, SEND_SLOT_DESC, (size_t)n);
}

static void on_desc(struct rdma_conn *c, uint8_t *buf, size_t len)
{
    uint8_t *body;
    size_t blen;
    if (vsmr_frame_open(&c->sess, buf, len, &body, &blen) < 0) {
        rdma_conn_reset(c, "auth_refused", vsmr_errmsg());
        return;
    }
    if (blen != RDMA_DESC_LEN || get_be64(body + 24) != 0) {
        rdma_conn_reset(c, "auth_refused", "malformed ring descriptor");
        return;
    }
    c->r_addr = get_be64(body);
    c->r_rkey = get_be32(body + 8);
    c->r_size = get_be32(body + 12);
    c->r_ctl = get_be64(body + 16);
    if (c->r_size < VSMR_RING_MIN_SIZE || c->r_size % 8 ||
        c->r_size > RDMA_RING_SIZE ||
        vsmr_ring_data_len(RDMA_MAX_FRAME) > c->r_size / 4) {
        rdma_conn_reset(c, "auth_refused", "ring size not usable");
        return;
    }
    rdma_conn_up(c);
}

/* One SEND from the peer, in handshake order. */
static void on_recv(struct rdma_conn *c, uint8_t *buf, size_t len)
{
    /* The peer's first SEND can complete before our ESTABLISHED event is
     * read: the QP is up, so send our hello first. */
    rdma_conn_on_established(c);
    if (c->dead)
        return;
    switch (c->rx_stage) {
    case 0:
        c->rx_stage = 1;
        on_hello(c, buf, len);
        return;
    case 1:
        if (vsmr_session_auth_check(&c->sess, buf, len) < 0) {
            rdma_conn_reset(c, "auth_refused", vsmr_errmsg());
            return;
        }
        c->rx_stage = 2;
        send_desc(c);
        return;
    case 2:
        c->rx_stage = 3;
        on_desc(c, buf, len);
        return;
    default:
        rdma_conn_reset(c, "frame_rejected", "a SEND after the handshake");
    }
}

static void on_wc(struct rdma_conn *c, const struct ibv_wc *wc)
{
    struct vsmr_peer_stats *st = rdma_stats_of(c);
    st->cqe_polled++;
    if (wc->status != IBV_WC_SUCCESS) {
        char why[96];
        snprintf(why, sizeof why, "completion status %s (%d)",
                 ibv_wc_status_str(wc->status), wc->status);
        rdma_conn_reset(c, "conn_closed", why);
        return;
    }
    if (!(wc->opcode & IBV_WC_RECV)) {   /* our own signalled WR */
        unsigned n = (unsigned)wc->wr_id;
        c->sq_used = n > c->sq_used ? 0 : c->sq_used - n;
        return;
    }
    st->cqe_remote++;
    c->last_rx_ms = vsmr_now_ms();
    uint64_t slot = wc->wr_id - WR_RECV_BASE;
    if (wc->wr_id < WR_RECV_BASE || slot >= RDMA_RECV_DEPTH) {
        rdma_conn_reset(c, "conn_error", "completion for an unknown RECV");
        return;
    }
    if (wc->opcode == IBV_WC_RECV_RDMA_WITH_IMM) {
        uint32_t imm = ntohl(wc->imm_data);
        if (c->state != RC_UP ||
            (imm != RDMA_IMM_DOORBELL && imm != RDMA_IMM_CREDIT)) {
            rdma_conn_reset(c, "frame_rejected", "unexpected immediate data");
            return;
        }
        /* Only a wake-up: the ring and the credit word are read anyway. */
    } else {
        on_recv(c, c->msg + slot * RDMA_MSG_SLOT,
                wc->byte_len > RDMA_MSG_SLOT ? RDMA_MSG_SLOT : wc->byte_len);
    }
    if (!c->dead && post_recv(c, (unsigned)slot) < 0)
        rdma_conn_reset(c, "conn_error", vsmr_errmsg());
}

void rdma_conn_on_cq(struct rdma_conn *c)
{
    if (c->dead || !c->cq)
        return;
    struct ibv_cq *ev_cq;
    void *ev_ctx;
    struct vsmr_peer_stats *st = rdma_stats_of(c);
    st->syscalls++;   /* the read() of the completion channel */
    while (ibv_get_cq_event(c->ch, &ev_cq, &ev_ctx) == 0) {
        ibv_ack_cq_events(ev_cq, 1);
        st->syscalls++;
    }
    if (ibv_req_notify_cq(c->cq, 0)) {
        rdma_conn_reset(c, "conn_error", "ibv_req_notify_cq failed");
        return;
    }
    struct ibv_wc wc[16];
    int n = 0;
    while (!c->dead && (n = ibv_poll_cq(c->cq, 16, wc)) > 0)
        for (int i = 0; i < n && !c->dead; i++)
            on_wc(c, &wc[i]);
    if (n < 0 && !c->dead)
        rdma_conn_reset(c, "conn_error", "ibv_poll_cq failed");
}

void rdma_conn_tick(struct rdma_conn *c, int64_t now)
{
    if (c->state != RC_UP) {
        if (now >= c->deadline_ms)
            rdma_conn_reset(c, "handshake_timeout",
                            "no handshake within 5 s");
        return;
    }
    unsigned idle = c->t->cfg.idle_timeout_ms;
    if (now - c->last_rx_ms >= idle) {
        rdma_conn_reset(c, "idle_timeout", "nothing heard from the peer");
        return;
    }
    if (now - c->last_tx_ms >= idle / 4 && rdma_data_queued(c) == 0)
        c->keepalive = true;   /* an empty record at the next flush */
}
