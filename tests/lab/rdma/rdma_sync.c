/*
 * rdma_sync.c - lab program: the sync engine of two sim guests (primary and
 * backup, in one process) with every sync frame - dirty bitmaps, hashes,
 * the divergent pages - carried by a real transport ("rdma" or "tcp") over
 * two addresses. Verify mode: each epoch commits only if both guests'
 * memory hashes equal; the program also compares all pages itself.
 * Prints per-epoch figures and transport work per MiB of sync traffic.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync/engine.h"
#include "transport/transport.h"
#include "vsmr/guest.h"
#include "vsmr/hash.h"
#include "vsmr/sim.h"

#define SPEC "pages=4096,workers=4"

struct side {
    uint32_t id;
    vsmr_guest *g;
    struct vsmr_engine *e;
    const struct vsmr_transport_ops *ops;
    vsmr_transport *t;
    struct side *peer;
    bool up;
    uint64_t released;
};

static struct side P, B;
static int failures;

static void pump(int ms)
{
    struct pollfd p[2] = {{.fd = P.ops->fd(P.t), .events = POLLIN},
                          {.fd = B.ops->fd(B.t), .events = POLLIN}};
    poll(p, 2, ms);
    P.ops->poll(P.t);
    B.ops->poll(B.t);
    P.ops->flush(P.t);
    B.ops->flush(B.t);
}

static int sim_inject(void *ctx, const void *in, size_t len)
{
    return vsmr_sim_send(ctx, in, len);
}
static int sim_collect(void *ctx, void *buf, size_t cap, size_t *len)
{
    return vsmr_sim_recv(ctx, buf, cap, len, 0);
}
static int sim_served(void *ctx, bool *all)
{
    *all = vsmr_sim_completed(ctx) == vsmr_sim_sent(ctx);
    return VSMR_OK;
}

static int send_to_peer(void *ctx, const uint8_t *frame, size_t len)
{
    struct side *s = ctx;
    int rc;
    while ((rc = s->ops->send(s->t, s->peer->id, frame, len)) == VSMR_EAGAIN)
        pump(1);
    return rc;
}

static void on_release(void *ctx, const struct vsmr_output *o)
{
    ((struct side *)ctx)->released++;
}

static void on_msg(void *ctx, uint32_t peer, const uint8_t *d, size_t len)
{
    struct side *s = ctx;
    int rc = vsmr_engine_message(s->e, d, len);
    if (rc < 0)
        printf("  [node %u] engine refused a frame: %s\n", s->id,
               vsmr_errmsg());
}

static void on_peer(void *ctx, uint32_t peer, bool up)
{
    ((struct side *)ctx)->up = up;
}

static void on_log(void *ctx, enum vsmr_log_level l, const char *line)
{
    if (l >= VSMR_LOG_INFO)
        printf("  [node %u] %s\n", ((struct side *)ctx)->id, line);
}

static void open_side(struct side *s, uint32_t id, enum vsmr_sync_role role,
                      const char *kind, const char *self, const char *other)
{
    s->id = id;
    if (vsmr_guest_open("sim", SPEC, &s->g) < 0) {
        printf("FAIL: sim guest: %s\n", vsmr_errmsg());
        exit(1);
    }
    struct vsmr_engine_config c = {
        .role = role, .mode = VSMR_SYNC_MODE_VSMR, .verify = true,
        .hash_threads = 2, .io = {sim_inject, sim_collect, sim_served, s->g},
        .send = send_to_peer, .release = on_release, .ctx = s,
    };
    if (vsmr_engine_new(&c, s->g, &s->e) < 0) {
        printf("FAIL: engine: %s\n", vsmr_errmsg());
        exit(1);
    }
    struct vsmr_transport_config tc = {.self_id = id, .cluster_id = 5,
                                       .max_message = 8u << 20,
                                       .cipher = VSMR_CIPHER_AUTO};
    memset(tc.key, 9, sizeof tc.key);
    vsmr_parse_addr(self, &tc.listen_addr, &tc.listen_len);
    tc.peers[0].id = id == 1 ? 2 : 1;
    vsmr_parse_addr(other, &tc.peers[0].addr, &tc.peers[0].addr_len);
    tc.n_peers = 1;
    struct vsmr_transport_handler h = {.on_message = on_msg,
                                       .on_peer = on_peer, .log = on_log,
                                       .ctx = s};
    s->ops = vsmr_transport_find(kind);
    if (!s->ops || s->ops->open(&tc, &h, &s->t) < 0) {
        printf("FAIL: transport %s: %s\n", kind, vsmr_errmsg());
        exit(1);
    }
}

static uint64_t next_index = 1;

static void feed(uint64_t seed, int n)
{
    uint8_t buf[VSMR_SIM_MAX_MSG], val[300];
    uint64_t s = seed;
    for (int i = 0; i < n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        char key[24];
        snprintf(key, sizeof key, "k%llu",
                 (unsigned long long)(s >> 33) % 3000);
        size_t vlen = 10 + (s >> 20) % 250;
        memset(val, (int)i, vlen);
        int op = (s >> 40) % 4 ? VSMR_SIM_SET : VSMR_SIM_GET;
        size_t len = vsmr_sim_encode_request(buf, sizeof buf, (uint32_t)i,
                                             op, key, strlen(key), val,
                                             op == VSMR_SIM_SET ? vlen : 0,
                                             0);
        uint64_t index = next_index++;
        vsmr_engine_input(P.e, index, buf, len);
        vsmr_engine_input(B.e, index, buf, len);
    }
}

static size_t memory_differs(void)
{
    uint64_t pages = vsmr_guest_page_count(P.g);
    uint64_t *pfns = malloc(pages * 8);
    vsmr_page_hash *ha = malloc(pages * sizeof *ha);
    vsmr_page_hash *hb = malloc(pages * sizeof *hb);
    size_t *idx = malloc(pages * sizeof *idx), n = pages;
    vsmr_pool *pool;
    vsmr_pool_new(2, &pool);
    for (uint64_t i = 0; i < pages; i++)
        pfns[i] = i;
    vsmr_guest_pause(P.g);
    vsmr_guest_pause(B.g);
    if (vsmr_hash_pages(pool, P.g, pfns, pages, 0, ha) == 0 &&
        vsmr_hash_pages(pool, B.g, pfns, pages, 0, hb) == 0)
        vsmr_hash_diff(ha, hb, pages, idx, &n);
    vsmr_guest_unpause(P.g);
    vsmr_guest_unpause(B.g);
    vsmr_pool_free(pool);
    free(pfns);
    free(ha);
    free(hb);
    free(idx);
    return n;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: rdma_sync tcp|rdma ADDR_P ADDR_B\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *kind = argv[1];
    open_side(&P, 1, VSMR_SYNC_PRIMARY, kind, argv[2], argv[3]);
    open_side(&B, 2, VSMR_SYNC_BACKUP, kind, argv[3], argv[2]);
    P.peer = &B;
    B.peer = &P;
    int64_t end = vsmr_now_ms() + 20000;
    while (!(P.up && B.up) && vsmr_now_ms() < end)
        pump(5);
    if (!(P.up && B.up)) {
        printf("FAIL: %s: no connection\n", kind);
        return 1;
    }
    struct vsmr_peer_stats s0, s1, r0, r1;
    P.ops->stats(P.t, 2, &s0);
    B.ops->stats(B.t, 1, &r0);
    uint64_t div = 0, bytes = 0;
    for (uint64_t e = 1; e <= 5; e++) {
        feed(e, 800);
        uint64_t index = next_index++;
        vsmr_engine_sync(P.e, e, index);
        vsmr_engine_sync(B.e, e, index);
        end = vsmr_now_ms() + 120000;
        do {
            vsmr_engine_poll(P.e);
            vsmr_engine_poll(B.e);
            pump(1);
        } while ((vsmr_engine_syncing(P.e) || vsmr_engine_syncing(B.e)) &&
                 vsmr_now_ms() < end);
        struct vsmr_sync_status sp, sb;
        vsmr_engine_status(P.e, &sp);
        vsmr_engine_status(B.e, &sb);
        const struct vsmr_epoch_metrics *m = vsmr_engine_last(P.e);
        size_t differ = memory_differs();
        printf("EPOCH transport=%s epoch=%llu committed=%s/%s dirty=%llu/%llu "
               "union=%llu divergent=%llu bytes_sent=%llu bytes_raw=%llu "
               "pages_differ=%zu\n", kind, (unsigned long long)e,
               sp.committed_epoch == e ? "yes" : "no",
               sb.committed_epoch == e ? "yes" : "no",
               (unsigned long long)m->dirty_local,
               (unsigned long long)m->dirty_peer,
               (unsigned long long)m->union_pages,
               (unsigned long long)m->divergent,
               (unsigned long long)m->bytes_sent,
               (unsigned long long)m->bytes_raw, differ);
        if (sp.committed_epoch != e || sb.committed_epoch != e || differ) {
            printf("FAIL: epoch %llu (%s / %s)\n", (unsigned long long)e,
                   sp.reason ? sp.reason : "-", sb.reason ? sb.reason : "-");
            failures++;
        }
        div += m->divergent;
        bytes += m->bytes_sent;
    }
    P.ops->stats(P.t, 2, &s1);
    B.ops->stats(B.t, 1, &r1);
    double mib = (double)(s1.bytes_sent - s0.bytes_sent) / (1 << 20);
    printf("SYNC transport=%s epochs=5 divergent_pages=%llu primary_bytes="
           "%llu wire_MiB=%.2f per MiB on the wire: primary wr %.2f cqe %.2f "
           "syscalls %.2f; backup wr %.2f cqe %.2f syscalls %.2f records "
           "%.2f\n", kind, (unsigned long long)div, (unsigned long long)bytes,
           mib, (s1.wr_posted - s0.wr_posted) / mib,
           (s1.cqe_polled - s0.cqe_polled) / mib,
           (s1.syscalls - s0.syscalls) / mib,
           (r1.wr_posted - r0.wr_posted) / mib,
           (r1.cqe_polled - r0.cqe_polled) / mib,
           (r1.syscalls - r0.syscalls) / mib,
           (r1.ring_records - r0.ring_records) / mib);
    if (div == 0) {
        printf("FAIL: no divergent page travelled\n");
        failures++;
    }
    P.ops->close(P.t);
    B.ops->close(B.t);
    vsmr_engine_free(P.e);
    vsmr_engine_free(B.e);
    vsmr_guest_close(P.g);
    vsmr_guest_close(B.g);
    printf("%s: rdma_sync %s\n", failures ? "FAIL" : "PASS", kind);
    return failures ? 1 : 0;
}
