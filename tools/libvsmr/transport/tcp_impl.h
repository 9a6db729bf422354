/*
 * tcp_impl.h - internals shared by the TCP transport's two files:
 * tcp.c (peers, epoll, dialing, accepting, timers) and tcp_conn.c (one
 * connection: handshake, frame reassembly, batching and writing).
 */
#ifndef VSMR_TRANSPORT_TCP_IMPL_H
#define VSMR_TRANSPORT_TCP_IMPL_H

#include "transport/frame.h"
#include "transport/transport.h"

/* A frame being built collects messages until it reaches this size, then
 * it is sealed and a new one starts: large enough to amortise the AEAD
 * and syscall, small enough for a reader's buffer. */
#define TCP_BATCH_SOFT_MAX (256u << 10)
#define TCP_HANDSHAKE_MS   3000
#define TCP_MAX_PENDING    32      /* unauthenticated inbound connections */
#define TCP_BACKOFF_MIN_MS 50
#define TCP_BACKOFF_MAX_MS 2000

enum conn_state { CONN_CONNECTING, CONN_HELLO, CONN_AUTH, CONN_UP };

struct buf {
    uint8_t *data;
    size_t len, off, cap;
};

struct tcp_conn {
    struct vsmr_transport *t;
    int fd;
    enum conn_state state;
    bool dialer;
    bool dead;                 /* reset; freed at the end of poll() */
    bool want_write;           /* EPOLLOUT registered (edge-triggered in
                                  the owner's loop: see conn_events) */
    bool busy;                 /* its input is being dispatched: a nested
                                  poll() must neither read nor free it */
    uint32_t peer_id;          /* expected (dialer) or claimed (acceptor) */
    char addr[64];
    struct vsmr_hello my_hello;
    struct vsmr_session sess;
    struct buf in;             /* bytes read, not yet parsed */
    struct buf out;            /* sealed bytes not yet written */
    size_t open_frame;         /* offset of the frame being built, or
                                  SIZE_MAX if none */
    int64_t deadline_ms;       /* handshake must finish by then */
    int64_t last_rx_ms, last_tx_ms;
    struct tcp_conn *next;     /* every connection of the transport */
};

struct tcp_peer {
    struct vsmr_peer_addr addr;
    bool known;
    struct tcp_conn *conn;     /* established connection, or NULL */
    struct tcp_conn *dialing;  /* outbound attempt not yet up */
    bool dial_off;             /* set_dial(false) or dial_on_demand */
    int64_t next_dial_ms;
    unsigned backoff_ms;
    struct vsmr_peer_stats st;
};

struct vsmr_transport {
    struct vsmr_transport_config cfg;
    struct vsmr_transport_handler h;
    int epfd;                  /* nested epoll, or -1 with cfg.loop */
    int listen_fd;
    size_t max_body;           /* largest frame body accepted */
    unsigned pending_inbound;
    struct tcp_peer peers[VSMR_MAX_PEERS + 1];  /* by id */
    struct tcp_conn *conns;
};

/* tcp.c */
void tcp_log(struct vsmr_transport *t, enum vsmr_log_level lvl,
             const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void tcp_conn_reset(struct tcp_conn *c, const char *event,
                    const char *reason);
int tcp_conn_established(struct tcp_conn *c);
int tcp_set_events(struct tcp_conn *c, bool want_write);
/* Reports the connection's readiness again: after a reader stopped with
 * bytes left in the socket (edge-triggered, nothing else would). */
void tcp_conn_rearm(struct tcp_conn *c);

/* tcp_conn.c */
struct tcp_conn *tcp_conn_new(struct vsmr_transport *t, int fd, bool dialer,
                              uint32_t peer_id, const char *addr);
void tcp_conn_free(struct tcp_conn *c);
void tcp_conn_start_handshake(struct tcp_conn *c);
void tcp_conn_on_readable(struct tcp_conn *c);
void tcp_conn_on_writable(struct tcp_conn *c);
int tcp_conn_queue(struct tcp_conn *c, const void *msg, size_t len);
int tcp_conn_flush(struct tcp_conn *c);
size_t tcp_conn_queued(const struct tcp_conn *c);
/* Handshake deadline, idle timeout and keepalive checks. */
void tcp_conn_tick(struct tcp_conn *c, int64_t now);

#endif
