/*
 * rdma_impl.h - internals shared by the RDMA transport's files: rdma.c
 * (peers, the rdma_cm event channel, dialing, accepting, timers), rdma_conn.c
 * (one connection's verbs resources and handshake) and rdma_data.c (the ring
 * data path: packing records, RDMA WRITEs, credits, reading the ring).
 */
#ifndef VSMR_TRANSPORT_RDMA_IMPL_H
#define VSMR_TRANSPORT_RDMA_IMPL_H

#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

#include "transport/frame.h"
#include "transport/rdma_ring.h"
#include "transport/transport.h"

#define RDMA_RING_SIZE      (2u << 20)   /* receive ring per connection */
#define RDMA_MAX_FRAME      (256u << 10) /* sealed frame per record: ring/8 */
#define RDMA_CTL_SIZE       64u          /* control block after the ring */
#define RDMA_RECV_DEPTH     32u          /* RECVs kept posted */
#define RDMA_MSG_SLOT       128u         /* one handshake SEND/RECV buffer */
#define RDMA_SQ_DEPTH       128u
#define RDMA_SIGNAL_EVERY   16u          /* one signalled WR in this many */
#define RDMA_HANDSHAKE_MS   5000
#define RDMA_RESOLVE_MS     2000
#define RDMA_MAX_PENDING    32
#define RDMA_BACKOFF_MIN_MS 50
#define RDMA_BACKOFF_MAX_MS 2000
#define RDMA_IMM_DOORBELL   1u           /* new records in your ring */
#define RDMA_IMM_CREDIT     2u           /* new credit in your control block */
#define RDMA_DESC_LEN       32u          /* body of the ring descriptor */

enum rconn_state { RC_RESOLVING, RC_CONNECTING, RC_HELLO, RC_PROOF,
                   RC_DESC, RC_UP };

struct rbuf {
    uint8_t *data;
    size_t len, off, cap;
};

struct rdma_conn {
    struct vsmr_transport *t;
    struct rdma_cm_id *id;
    enum rconn_state state;
    bool dialer;
    bool dead;                  /* reset; freed at the end of poll() */
    bool established;           /* rdma_cm said ESTABLISHED */
    uint32_t peer_id;           /* expected (dialer) or claimed (acceptor) */
    char addr[64];
    /* verbs resources, all owned by this connection */
    struct ibv_pd *pd;
    struct ibv_comp_channel *ch;
    struct ibv_cq *cq;
    uint8_t *ring;              /* peer writes here: ring + control block */
    struct ibv_mr *ring_mr;     /* fresh rkey per connection (fencing) */
    uint8_t *stage;             /* local image of the peer's ring + credit
                                   word we send from */
    struct ibv_mr *stage_mr;
    uint8_t *msg;               /* RECV slots, then 4 SEND slots */
    struct ibv_mr *msg_mr;
    /* handshake */
    struct vsmr_hello my_hello, peer_hello;
    struct vsmr_session sess;
    unsigned rx_stage;          /* 0 hello, 1 proof, 2 descriptor, 3 up */
    bool sent_desc;
    /* the peer's ring */
    uint64_t r_addr, r_ctl;
    uint32_t r_rkey;
    size_t r_size;
    struct vsmr_ring_marks tx_marks, rx_marks;
    /* sending into the peer's ring */
    uint64_t tx_seq;            /* ring sequence of the next record */
    size_t tx_pos;              /* offset of the next record */
    uint64_t tx_bytes;          /* ring bytes used so far, skips included */
    uint64_t tx_credit;         /* ring bytes the peer has consumed */
    struct rbuf pend;           /* u32 len | message, not yet in the ring */
    size_t pend_part;           /* bytes of the first message already sent */
    bool keepalive;             /* send an empty record at the next flush */
    unsigned sq_used;           /* WRs posted, not known complete */
    unsigned sq_unsignalled;
    /* reading our ring */
    uint64_t rx_seq;
    size_t rx_pos;
    uint64_t rx_bytes, rx_reported;
    uint8_t *asm_buf;           /* a large message being reassembled */
    size_t asm_len, asm_cap;
    int64_t deadline_ms, last_rx_ms, last_tx_ms;
    struct rdma_conn *next;
};

struct rdma_peer {
    struct vsmr_peer_addr addr;
    bool known;
    struct rdma_conn *conn;
    struct rdma_conn *dialing;
    bool dial_off;              /* set_dial(false) or dial_on_demand */
    int64_t next_dial_ms;
    unsigned backoff_ms;
    struct vsmr_peer_stats st;
};

struct vsmr_transport {
    struct vsmr_transport_config cfg;
    struct vsmr_transport_handler h;
    int epfd;
    struct rdma_event_channel *ec;
    struct rdma_cm_id *listen_id;
    int cm_tag;                 /* epoll data for the event channel */
    unsigned pending_inbound;
    struct rdma_peer peers[VSMR_MAX_PEERS + 1];
    struct rdma_conn *conns;
};

/* rdma.c */
void rdma_log(struct vsmr_transport *t, enum vsmr_log_level lvl,
              const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void rdma_conn_reset(struct rdma_conn *c, const char *event,
                     const char *reason);
void rdma_conn_up(struct rdma_conn *c);
struct vsmr_peer_stats *rdma_stats_of(struct rdma_conn *c);

/* rdma_conn.c */
struct rdma_conn *rdma_conn_new(struct vsmr_transport *t,
                                struct rdma_cm_id *id, bool dialer,
                                uint32_t peer_id, const char *addr);
int rdma_conn_setup_qp(struct rdma_conn *c);
void rdma_conn_teardown(struct rdma_conn *c);
void rdma_conn_free(struct rdma_conn *c);
void rdma_conn_on_established(struct rdma_conn *c);
void rdma_conn_on_cq(struct rdma_conn *c);
int rdma_conn_post(struct rdma_conn *c, struct ibv_send_wr *wr);
void rdma_conn_tick(struct rdma_conn *c, int64_t now);

/* rdma_data.c */
int rdma_data_queue(struct rdma_conn *c, const void *msg, size_t len);
void rdma_data_flush(struct rdma_conn *c);
void rdma_data_read_ring(struct rdma_conn *c);
void rdma_data_on_credit(struct rdma_conn *c);
size_t rdma_data_queued(const struct rdma_conn *c);
void rdma_data_free(struct rdma_conn *c);

#endif
