/*
 * transport.h - how replicas exchange messages: a table of operations
 * (like SQLite's VFS) that the tcp, rdma and auto (rdma or tcp, agreed
 * per peer) transports implement. A transport moves opaque messages (the
 * log's wire encoding) between peers numbered 1..VSMR_MAX_PEERS; it never
 * looks inside them and never includes the log core.
 *
 * Threading: one thread (the daemon's event loop) calls everything.
 * Delivery: in order per peer while a connection lasts; a message queued
 * while the peer is away may be lost (the log retransmits).
 */
#ifndef VSMR_TRANSPORT_TRANSPORT_H
#define VSMR_TRANSPORT_TRANSPORT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "vsmr/vsmr.h"

#define VSMR_MAX_PEERS 16

enum vsmr_log_level { VSMR_LOG_DEBUG, VSMR_LOG_INFO, VSMR_LOG_WARN,
                      VSMR_LOG_ERROR };

struct vsmr_peer_addr {
    uint32_t id;                      /* 1..VSMR_MAX_PEERS */
    struct sockaddr_storage addr;
    socklen_t addr_len;
};

/* Callbacks into the owner, made from inside ops->poll(). */
struct vsmr_transport_handler {
    /* One message from an authenticated peer; data is valid only during
     * the call. */
    void (*on_message)(void *ctx, uint32_t peer, const uint8_t *data,
                       size_t len);
    /* The connection to peer came up (true) or went down (false). */
    void (*on_peer)(void *ctx, uint32_t peer, bool up);
    /* A structured log line without timestamp or node, e.g.
     * "event=auth_refused peer=10.0.0.9:4431 reason=...". */
    void (*log)(void *ctx, enum vsmr_log_level level, const char *line);
    void *ctx;
};

/* Optional: the owner's event loop. A transport that supports it (tcp)
 * puts each of its sockets straight into the owner's epoll set instead of
 * a nested epoll fd, so a wake-up costs one epoll_wait, not two; fd() then
 * returns -1 and the owner calls fn(arg, events) for each event on fd (a
 * level-triggered set, as epoll's default). Others ignore it. */
struct vsmr_transport_loop {
    int (*add)(void *ctx, int fd, uint32_t events,
               void (*fn)(void *arg, uint32_t events), void *arg);
    int (*mod)(void *ctx, int fd, uint32_t events);
    void (*del)(void *ctx, int fd);
    void *ctx;
};

/* How frames are protected (config key `encrypt`, docs/transport.md).
 * OFF authenticates without encrypting (a trusted fabric); AUTO is
 * "on": AES-256-GCM where the CPU has AES-NI and PCLMUL (the cheaper
 * AEAD there), ChaCha20-Poly1305 elsewhere. Transports resolve AUTO at
 * open(); every node of a cluster must end up with the same cipher. */
enum vsmr_cipher {
    VSMR_CIPHER_OFF = 0,
    VSMR_CIPHER_CHACHA20POLY1305 = 1,
    VSMR_CIPHER_AES256GCM = 2,
    VSMR_CIPHER_AUTO = 3,
};

/* The cipher "want" means on this host: AUTO becomes AES256GCM where
 * libsodium has its AES-NI code (crypto_aead_aes256gcm_is_available()),
 * else CHACHA20POLY1305. VSMR_EINVAL for AES256GCM on a CPU without it
 * or an unknown value. Needs sodium_init(). */
int vsmr_cipher_resolve(enum vsmr_cipher want, enum vsmr_cipher *out);
/* "off", "chacha20poly1305", "aes256gcm" (and "on" for AUTO). */
const char *vsmr_cipher_name(enum vsmr_cipher c);

struct vsmr_transport_config {
    uint32_t self_id;
    uint64_t cluster_id;
    uint8_t key[32];                  /* the cluster key */
    enum vsmr_cipher cipher;          /* OFF (0): MAC only */
    struct sockaddr_storage listen_addr;
    socklen_t listen_len;
    struct vsmr_peer_addr peers[VSMR_MAX_PEERS]; /* self included or not */
    unsigned n_peers;
    size_t max_message;               /* largest message accepted/sent */
    size_t send_queue_limit;          /* bytes queued per peer before
                                         send() says VSMR_EAGAIN */
    unsigned idle_timeout_ms;         /* nothing heard: reset (0: 3000) */
    struct vsmr_transport_loop loop;  /* add == NULL: a nested epoll fd */
    /* true: dial no peer until set_dial() allows it (the auto transport
     * steers its tcp and rdma instances this way). */
    bool dial_on_demand;
    /* auto: how long one attempt on one transport lasts (0: 3000 ms) and
     * how often a peer on tcp is probed for rdma again (0: 30000 ms). */
    unsigned auto_window_ms, auto_probe_ms;
};

struct vsmr_peer_stats {
    bool connected;
    uint64_t connects;                /* connections established so far */
    uint64_t msgs_sent, msgs_received;
    uint64_t bytes_sent, bytes_received;   /* on the wire */
    uint64_t frames_sent, frames_received;
    uint64_t auth_failures;           /* refused handshakes and frames */
    uint64_t queue_full;              /* sends refused for backpressure */
    size_t queued_bytes;
    int64_t last_contact_ms;          /* monotonic ms, -1 if never */
    /* Work counts for benchmarks; zero where a transport has no such
     * thing. tcp: system calls on the connection (reads and writes).
     * rdma: work requests posted (WRITE, SEND, RECV), completions polled
     * (all, and those a peer's operation caused: doorbells, credits,
     * handshake messages), and ring records read. */
    uint64_t syscalls;
    uint64_t wr_posted;
    uint64_t cqe_polled;
    uint64_t cqe_remote;
    uint64_t ring_records;
    const char *transport;            /* "tcp", "rdma"; auto: the one in
                                         use for this peer, or "none" */
};

typedef struct vsmr_transport vsmr_transport;

struct vsmr_transport_ops {
    const char *name;
    /* Validates cfg, binds and listens, starts dialing the peers this node
     * dials. cfg is copied. */
    int (*open)(const struct vsmr_transport_config *cfg,
                const struct vsmr_transport_handler *h, vsmr_transport **out);
    /* Queues one message for peer. VSMR_ECLOSED if the peer is not
     * connected, VSMR_EAGAIN if its queue is full (backpressure: retry
     * after poll()), VSMR_ERANGE if longer than max_message. Queued
     * messages go out, coalesced, at the next flush(). */
    int (*send)(vsmr_transport *t, uint32_t peer, const void *msg,
                size_t len);
    /* Writes out everything queued, as few frames and syscalls as possible.
     * Call once per event-loop iteration, after the core's output. */
    int (*flush)(vsmr_transport *t);
    /* Does whatever is ready without blocking: accepts, handshakes, reads
     * and dispatches messages, reconnects, idle checks. */
    int (*poll)(vsmr_transport *t);
    /* An fd that becomes readable when poll() has work (for epoll); -1
     * when the sockets sit in the owner's loop (cfg.loop). */
    int (*fd)(const vsmr_transport *t);
    /* Milliseconds until poll() must run again even without fd activity
     * (reconnect backoff, keepalives); -1 if none. */
    int (*next_timeout_ms)(const vsmr_transport *t);
    void (*stats)(const vsmr_transport *t, uint32_t peer,
                  struct vsmr_peer_stats *out);
    void (*close)(vsmr_transport *t);
    /* Used by the auto transport (tcp and rdma have them; NULL elsewhere).
     * set_dial: whether to dial peer (only peers this node dials, the
     * higher ids); turning it off abandons an attempt not yet up, never an
     * established connection; turning it on dials now. Idempotent. */
    void (*set_dial)(vsmr_transport *t, uint32_t peer, bool on);
    /* Closes the established connection to peer, if any (on_peer(false)
     * follows); reason goes into the log line. */
    void (*drop)(vsmr_transport *t, uint32_t peer, const char *reason);
};

extern const struct vsmr_transport_ops vsmr_transport_tcp_ops;
extern const struct vsmr_transport_ops vsmr_transport_rdma_ops;
/* Per peer: rdma when both ends have it and the connection comes up, tcp
 * otherwise; both ends agree (docs/transport.md, "Selection"). */
extern const struct vsmr_transport_ops vsmr_transport_auto_ops;

/* How many RDMA devices this host has (ibv_get_device_list); 0 if none. */
int vsmr_rdma_device_count(void);

/* Picks the implementation for a configured name: "tcp", "rdma" (fails
 * with a plain message when the host has no RDMA device) or "auto" (the
 * auto transport, which decides per peer, when a device is present; plain
 * tcp otherwise). why gets one log-ready sentence ("transport=tcp
 * reason=..."). */
int vsmr_transport_select(const char *name,
                          const struct vsmr_transport_ops **out, char *why,
                          size_t why_len);

/* The transport implementation called name ("tcp", "rdma"), or NULL. */
const struct vsmr_transport_ops *vsmr_transport_find(const char *name);

/* Parses "a.b.c.d:port" or "[v6]:port" (numeric only, no DNS). */
int vsmr_parse_addr(const char *text, struct sockaddr_storage *out,
                    socklen_t *len);
/* Formats an address as the parser accepts it. */
void vsmr_format_addr(const struct sockaddr_storage *a, char *buf,
                      size_t size);
/* For tcp's and rdma's set_dial: sets *off to !on; turning dialing on
 * makes the next dial now, with the shortest backoff. True if it changed
 * (then an attempt in progress is abandoned with VSMR_DIAL_ABANDONED). */
bool vsmr_dial_switch(bool *off, bool on, int64_t *next_dial_ms,
                      unsigned *backoff_ms, unsigned min_backoff_ms);
#define VSMR_DIAL_ABANDONED "the auto transport is trying the other transport"

/* Formats one log line (at most 511 bytes) for h->log, if it is set. */
void vsmr_transport_vlogf(const struct vsmr_transport_handler *h,
                          enum vsmr_log_level lvl, const char *fmt,
                          va_list ap);

/* Monotonic clock in milliseconds. */
int64_t vsmr_now_ms(void);

#endif
