/*
 * auto_policy.h - the per-peer decision of the "auto" transport, as a pure
 * state machine (no I/O, no clock: the caller passes "now"), so that the
 * agreement rules are unit-tested without an RDMA device.
 *
 * The rules: the node that dials a peer (the lower id) tries rdma first
 * for a bounded window, then tcp for a window, alternating until one comes
 * up; while on tcp it probes rdma again now and then. The node that
 * accepts never chooses: it uses whichever connection arrived last. On
 * both ends the newest connection wins and the other one is dropped, so
 * the two ends agree by construction.
 */
#ifndef VSMR_TRANSPORT_AUTO_POLICY_H
#define VSMR_TRANSPORT_AUTO_POLICY_H

#include <stdbool.h>
#include <stdint.h>

enum vsmr_path { VSMR_PATH_NONE, VSMR_PATH_TCP, VSMR_PATH_RDMA };

/* Why the current path was chosen (for the log line). */
enum vsmr_auto_why {
    VSMR_WHY_NONE,
    VSMR_WHY_RDMA_UP,        /* we dialed rdma and it came up */
    VSMR_WHY_RDMA_TIMEOUT,   /* we dialed rdma, nothing within the window */
    VSMR_WHY_NO_LOCAL_RDMA,  /* this node runs no rdma instance */
    VSMR_WHY_PEER_CHOSE,     /* we accept: the dialer's connection arrived */
};

struct vsmr_auto_timing {
    unsigned window_ms;      /* one attempt on one transport */
    unsigned probe_ms;       /* on tcp after a timeout: try rdma again */
};

struct vsmr_auto_peer {
    bool dialer;             /* we dial this peer (lower id) */
    bool local_rdma;         /* this node has a working rdma instance */
    enum vsmr_path trying;   /* dialer: the transport dialing now */
    bool probing;            /* dialer on tcp: an rdma attempt runs too */
    int64_t until_ms;        /* end of the attempt window (or probe) */
    int64_t probe_at_ms;     /* dialer on tcp: next rdma probe */
    enum vsmr_path current;  /* the connection in use; NONE: peer down */
    enum vsmr_path logged;   /* the path last logged for this peer */
    enum vsmr_auto_why why;  /* why current was chosen */
};

/* What the caller must do after a step, in this order: drop, dial
 * settings, owner notifications, log. */
struct vsmr_auto_actions {
    enum vsmr_path drop;     /* close this path's connection to the peer */
    bool dial_tcp, dial_rdma;/* desired dialing state of each transport */
    bool notify_down;        /* tell the owner the peer went down */
    bool notify_up;          /* tell the owner the peer is up */
    bool log;                /* log "transport_selected" for current */
};

void vsmr_auto_init(struct vsmr_auto_peer *p, bool dialer, bool local_rdma,
                    const struct vsmr_auto_timing *tm, int64_t now,
                    struct vsmr_auto_actions *out);
/* A connection over `path` came up (up) or went down. */
void vsmr_auto_link(struct vsmr_auto_peer *p, enum vsmr_path path, bool up,
                    const struct vsmr_auto_timing *tm, int64_t now,
                    struct vsmr_auto_actions *out);
/* Time passed: windows end, probes start. */
void vsmr_auto_tick(struct vsmr_auto_peer *p,
                    const struct vsmr_auto_timing *tm, int64_t now,
                    struct vsmr_auto_actions *out);
/* The next time tick() has something to do; -1 if none. */
int64_t vsmr_auto_deadline(const struct vsmr_auto_peer *p);

const char *vsmr_path_name(enum vsmr_path p);

#endif
