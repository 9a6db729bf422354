/*
 * xenio.c - a Xen guest's network as vsmrd's guest I/O (xenio.h), on the
 * netio module: capture ring -> log proposals (primary), committed entry
 * -> injection, sch_plug output buffer -> epochs; at promotion, the vif
 * onto the production bridge.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include "common/err.h"
#include "common/mac.h"
#include "log/log.h"
#include "logline.h"
#include "vsmr/netio.h"
#include "xenio.h"

/* How long one entry's injection may wait for room in the socket (the
 * guest's rx ring is full); it runs on vsmrd's loop, so the bound is per
 * entry, not per frame. A frame that still does not go is lost, as a frame
 * lost on the wire: the guest's protocols recover, and a backup that
 * missed it differs only in pages the next sync copies. */
#define INJECT_WAIT_NS (5 * 1000 * 1000L)

struct xenio {
    char vif[VSMR_NETIO_IFNAMSIZ];
    char bridge[VSMR_NETIO_IFNAMSIZ];   /* joined at promotion; "" = none */
    uint8_t mac[VSMR_MAC_LEN];          /* the guest's, on vif */
    struct loop *loop;
    struct node *node;
    struct vsmr_netcap *cap;
    struct vsmr_netinj *inj;
    struct vsmr_netbuf *buf;
    xenio_may_propose_fn may_propose;
    void *ctx;
    bool proposing;              /* this drain's frames go to the log */
    struct vsmr_netio_frame batch[VSMR_NETIO_ENTRY_MAX_FRAMES];
    size_t nbatch, batch_bytes;
    struct vsmr_netio_frame in[VSMR_NETIO_ENTRY_MAX_FRAMES];  /* injecting */
    uint8_t entry[VSMR_LOG_MAX_ENTRY_DATA];
    struct xenio_stats st;
};

/* --- input: capture and proposal ------------------------------------------ */

static void propose_batch(struct xenio *x)
{
    size_t len = 0;
    if (x->nbatch == 0)
        return;
    int rc = vsmr_netio_entry_encode(x->batch, x->nbatch, x->entry,
                                     sizeof x->entry, &len);
    if (rc == VSMR_OK) {
        struct vsmr_entry e = {.type = VSMR_ENTRY_NORMAL,
                               .data = x->entry, .len = (uint32_t)len};
        uint64_t index, term;
        rc = node_propose(x->node, &e, 1, &index, &term);
    }
    if (rc == VSMR_OK)
        x->st.proposed_entries++;
    else
        logline(VSMR_LOG_WARN, "input_dropped", "vif=%s frames=%zu "
                "reason=\"%s\"", x->vif, x->nbatch, vsmr_errmsg());
    x->nbatch = 0;
    x->batch_bytes = 0;
}

/* Frames point into the capture ring, valid until the drain returns: the
 * batch is encoded (copied) before that. */
static void on_frame(void *arg, const struct vsmr_netio_frame *f)
{
    struct xenio *x = arg;
    x->st.captured++;
    if (!x->proposing) {
        x->st.not_leader_drops++;
        return;
    }
    size_t need = vsmr_netio_entry_size(f, 1);
    if (need > sizeof x->entry) {
        if (x->st.oversize_drops++ == 0)
            logline(VSMR_LOG_WARN, "input_oversize", "vif=%s len=%u "
                    "reason=\"a frame larger than a log entry (%u bytes) "
                    "is dropped; turn off GRO on the bridge's ports\"",
                    x->vif, f->len, VSMR_LOG_MAX_ENTRY_DATA);
        return;
    }
    if (x->nbatch == VSMR_NETIO_ENTRY_MAX_FRAMES ||
        x->batch_bytes + need > sizeof x->entry)
        propose_batch(x);
    x->batch[x->nbatch++] = *f;
    x->batch_bytes += need;
}

static void on_capture(void *ctx, uint32_t events)
{
    struct xenio *x = ctx;
    (void)events;
    /* A backup, or a primary that is not serving, drains and drops: on the
     * backup only committed entries may reach the guest. */
    x->proposing = x->may_propose(x->ctx);
    vsmr_netcap_drain(x->cap, on_frame, x, 0);
    propose_batch(x);
}

/* --- the engine's guest I/O ------------------------------------------------ */

static long elapsed_ns(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - since->tv_sec) * 1000000000L +
           (now.tv_nsec - since->tv_nsec);
}

/* Sends f, waiting for room until INJECT_WAIT_NS after start. */
static int send_waiting(struct xenio *x, const struct vsmr_netio_frame *f,
                        const struct timespec *start)
{
    for (;;) {
        int rc = vsmr_netinj_send(x->inj, f);
        if (rc != VSMR_EAGAIN || elapsed_ns(start) > INJECT_WAIT_NS)
            return rc;
        struct timespec pause = {0, 100 * 1000};
        nanosleep(&pause, NULL);
    }
}

int xenio_inject(void *ctx, const void *entry, size_t len)
{
    struct xenio *x = ctx;
    size_t n = 0;
    int rc = vsmr_netio_entry_decode(entry, len, x->in,
                                     VSMR_NETIO_ENTRY_MAX_FRAMES, &n);
    if (rc < 0)
        return rc;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (size_t i = 0; i < n; i++) {
        if (send_waiting(x, &x->in[i], &start) < 0) {
            if (x->st.inject_failures++ == 0)
                logline(VSMR_LOG_WARN, "inject_failed", "vif=%s "
                        "reason=\"%s\"", x->vif, vsmr_errmsg());
            continue;
        }
        x->st.injected++;
    }
    return VSMR_OK;
}

/* The guest's outputs never pass through vsmrd: the kernel holds them. */
int xenio_collect(void *ctx, void *buf, size_t cap, size_t *len)
{
    (void)ctx; (void)buf; (void)cap; (void)len;
    return VSMR_EAGAIN;
}

/* dom0 cannot see whether the guest has consumed an input; the sync does
 * not need it (a page the backup has not caught up on is copied). */
int xenio_served(void *ctx, bool *all)
{
    (void)ctx;
    *all = true;
    return VSMR_OK;
}

/* --- output buffer ------------------------------------------------------------ */

int xenio_epoch_end(struct xenio *x, uint64_t epoch)
{
    return vsmr_netbuf_epoch_end(x->buf, epoch);
}

int xenio_commit(struct xenio *x, uint64_t epoch)
{
    return vsmr_netbuf_commit(x->buf, epoch);
}

int xenio_drop_held(struct xenio *x)
{
    return vsmr_netbuf_drop(x->buf);
}

int xenio_release_all(struct xenio *x)
{
    return vsmr_netbuf_unplug(x->buf);
}

int xenio_hold(struct xenio *x)
{
    return vsmr_netbuf_plug(x->buf);
}

/* --- failover: the production bridge ------------------------------------------ */

int xenio_set_bridge(struct xenio *x, vsmr_guest *g, const char *bridge)
{
    if (!bridge || strlen(bridge) >= sizeof x->bridge)
        return vsmr_fail(VSMR_EINVAL, "guest_bridge '%s' is not an interface "
                         "name", bridge ? bridge : "(null)");
    char msg[384], text[VSMR_MAC_TEXT];
    int rc = vsmr_guest_vif_mac(g, x->vif, x->mac);
    if (rc < 0) {
        snprintf(msg, sizeof msg, "%s", vsmr_errmsg());
        return vsmr_fail(rc, "guest_bridge %s: the guest's MAC on %s is "
                         "needed to move it there at a failover: %s", bridge,
                         x->vif, msg);
    }
    snprintf(x->bridge, sizeof x->bridge, "%s", bridge);
    vsmr_mac_format(x->mac, text);
    logline(VSMR_LOG_INFO, "guest_bridge", "vif=%s bridge=%s mac=%s "
            "reason=\"the vif joins the bridge if this replica is "
            "promoted\"", x->vif, x->bridge, text);
    /* The bridge may yet be made before a failover: a warning now. */
    if (vsmr_netio_bridge_check(x->bridge) < 0)
        logline(VSMR_LOG_WARN, "guest_bridge_missing", "bridge=%s "
                "reason=\"%s; a promotion would leave the guest off the "
                "network\"", x->bridge, vsmr_errmsg());
    return VSMR_OK;
}

int xenio_takeover(struct xenio *x)
{
    if (!x->bridge[0])
        return VSMR_OK;
    return vsmr_netio_bridge_takeover(x->vif, x->bridge, x->mac);
}

void xenio_stats(const struct xenio *x, struct xenio_stats *st)
{
    *st = x->st;
}

/* --- open and close ------------------------------------------------------------- */

int xenio_open(const char *vif, struct loop *l, struct node *n,
               xenio_may_propose_fn may_propose, void *ctx,
               struct xenio **out)
{
    struct xenio *x = calloc(1, sizeof *x);
    if (!x)
        return vsmr_fail(VSMR_ENOMEM, "xenio: out of memory");
    snprintf(x->vif, sizeof x->vif, "%s", vif);
    x->loop = l;
    x->node = n;
    x->may_propose = may_propose;
    x->ctx = ctx;
    int rc = vsmr_netio_setup(vif, VSMR_NETIO_BOTH, 0);
    if (rc == VSMR_OK)
        rc = vsmr_netcap_open(vif, 0, &x->cap);
    if (rc == VSMR_OK)
        rc = vsmr_netinj_open(vif, &x->inj);
    if (rc == VSMR_OK)
        rc = vsmr_netbuf_open(vif, &x->buf);
    if (rc == VSMR_OK)
        rc = loop_add(l, vsmr_netcap_fd(x->cap), EPOLLIN, on_capture, x);
    if (rc < 0) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", vsmr_errmsg());
        xenio_close(x);
        return vsmr_fail(rc, "guest network on %s: %s", vif, msg);
    }
    *out = x;
    return VSMR_OK;
}

void xenio_close(struct xenio *x)
{
    if (!x)
        return;
    if (x->cap && x->loop)
        loop_del(x->loop, vsmr_netcap_fd(x->cap));
    vsmr_netbuf_close(x->buf);
    vsmr_netinj_close(x->inj);
    vsmr_netcap_close(x->cap);
    /* The plain vif again; held frames are dropped with the qdisc (on a
     * primary they were not yet covered by a sync). */
    vsmr_netio_teardown(x->vif);
    free(x);
}
