/*
 * auto_policy.c - the per-peer decision of the "auto" transport (see
 * auto_policy.h): which transport dials, which connection is in use, what
 * to drop, when to log. Pure: no I/O, the caller passes the clock.
 */
#include <string.h>

#include "transport/auto_policy.h"

const char *vsmr_path_name(enum vsmr_path p)
{
    return p == VSMR_PATH_RDMA ? "rdma" : p == VSMR_PATH_TCP ? "tcp"
                                                             : "none";
}

/* The dialing each transport should be doing in this state. */
static void set_dialing(const struct vsmr_auto_peer *p,
                        struct vsmr_auto_actions *out)
{
    if (!p->dialer) {
        out->dial_tcp = out->dial_rdma = false;
        return;
    }
    bool down = p->current == VSMR_PATH_NONE;
    out->dial_tcp = p->current == VSMR_PATH_TCP ||
                    (down && p->trying == VSMR_PATH_TCP);
    out->dial_rdma = p->current == VSMR_PATH_RDMA ||
                     (down && p->trying == VSMR_PATH_RDMA) || p->probing;
}

/* Dialer: begin an attempt window on rdma when this node has it. */
static void start_attempt(struct vsmr_auto_peer *p,
                          const struct vsmr_auto_timing *tm, int64_t now)
{
    p->probing = false;
    if (p->local_rdma) {
        p->trying = VSMR_PATH_RDMA;
        p->until_ms = now + tm->window_ms;
    } else {
        p->trying = VSMR_PATH_TCP;
        p->until_ms = -1;   /* nothing else to try */
    }
}

void vsmr_auto_init(struct vsmr_auto_peer *p, bool dialer, bool local_rdma,
                    const struct vsmr_auto_timing *tm, int64_t now,
                    struct vsmr_auto_actions *out)
{
    memset(p, 0, sizeof *p);
    memset(out, 0, sizeof *out);
    p->dialer = dialer;
    p->local_rdma = local_rdma;
    p->until_ms = p->probe_at_ms = -1;
    if (dialer)
        start_attempt(p, tm, now);
    set_dialing(p, out);
}

static enum vsmr_auto_why why_of(const struct vsmr_auto_peer *p,
                                 enum vsmr_path path)
{
    if (!p->dialer)
        return VSMR_WHY_PEER_CHOSE;
    if (path == VSMR_PATH_RDMA)
        return VSMR_WHY_RDMA_UP;
    return p->local_rdma ? VSMR_WHY_RDMA_TIMEOUT : VSMR_WHY_NO_LOCAL_RDMA;
}

static void link_up(struct vsmr_auto_peer *p, enum vsmr_path path,
                    const struct vsmr_auto_timing *tm, int64_t now,
                    struct vsmr_auto_actions *out)
{
    if (p->current == path)
        return;
    if (p->current != VSMR_PATH_NONE) {   /* newest wins: drop the older */
        out->drop = p->current;
        out->notify_down = true;
    }
    p->current = path;
    p->why = why_of(p, path);
    p->probing = false;
    p->until_ms = -1;
    p->probe_at_ms = p->dialer && p->local_rdma && path == VSMR_PATH_TCP
                         ? now + tm->probe_ms : -1;
    out->notify_up = true;
    if (p->logged != path) {
        out->log = true;
        p->logged = path;
    }
}

void vsmr_auto_link(struct vsmr_auto_peer *p, enum vsmr_path path, bool up,
                    const struct vsmr_auto_timing *tm, int64_t now,
                    struct vsmr_auto_actions *out)
{
    memset(out, 0, sizeof *out);
    if (up) {
        link_up(p, path, tm, now, out);
    } else if (path == p->current) {
        p->current = VSMR_PATH_NONE;
        p->probe_at_ms = -1;
        out->notify_down = true;
        if (p->dialer)
            start_attempt(p, tm, now);   /* re-decided at each reconnect */
    }
    set_dialing(p, out);
}

void vsmr_auto_tick(struct vsmr_auto_peer *p,
                    const struct vsmr_auto_timing *tm, int64_t now,
                    struct vsmr_auto_actions *out)
{
    memset(out, 0, sizeof *out);
    if (p->dialer && p->current == VSMR_PATH_NONE && p->until_ms >= 0 &&
        now >= p->until_ms) {
        if (p->trying == VSMR_PATH_RDMA) {   /* fall back to tcp */
            p->trying = VSMR_PATH_TCP;
            p->until_ms = now + tm->window_ms;
        } else {                             /* the peer may be back */
            start_attempt(p, tm, now);
        }
    }
    if (p->dialer && p->current == VSMR_PATH_TCP && p->local_rdma) {
        if (p->probing && now >= p->until_ms) {
            p->probing = false;
            p->until_ms = -1;
            p->probe_at_ms = now + tm->probe_ms;
        } else if (!p->probing && now >= p->probe_at_ms) {
            p->probing = true;
            p->until_ms = now + tm->window_ms;
        }
    }
    set_dialing(p, out);
}

int64_t vsmr_auto_deadline(const struct vsmr_auto_peer *p)
{
    if (!p->dialer)
        return -1;
    if (p->current == VSMR_PATH_NONE)
        return p->until_ms;
    if (p->current == VSMR_PATH_TCP && p->local_rdma)
        return p->probing ? p->until_ms : p->probe_at_ms;
    return -1;
}
