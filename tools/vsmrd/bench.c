/*
 * bench.c - a load generator inside the leader, where guest inputs will
 * be captured: keeps WINDOW proposals outstanding, proposes them in
 * batches, and measures each entry's latency from propose to commit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "node_impl.h"

#define BENCH_BATCH 1024u

int64_t node_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void bench_free(struct bench *b)
{
    free(b->sent_ns);
    free(b->lat_ns);
    free(b->payload);
    memset(b, 0, sizeof *b);
}

static void finish(struct node *n, int rc, const char *text)
{
    struct bench *b = &n->bench;
    node_bench_done_fn fn = b->fn;
    void *ctx = b->ctx;
    bench_free(b);
    if (fn)
        fn(ctx, rc, text);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void finish_ok(struct node *n)
{
    struct bench *b = &n->bench;
    double secs = (double)(node_now_ns() - b->start_ns) / 1e9;
    qsort(b->lat_ns, b->n_lat, sizeof b->lat_ns[0], cmp_u32);
    double p50 = b->lat_ns[b->n_lat / 2] / 1e3;
    double p99 = b->lat_ns[(b->n_lat * 99) / 100] / 1e3;
    char text[256];
    snprintf(text, sizeof text, "entries=%llu size=%u window=%u seconds=%.3f "
             "entries_per_s=%.0f p50_us=%.1f p99_us=%.1f",
             (unsigned long long)b->total, b->size, b->window, secs,
             (double)b->total / secs, p50, p99);
    finish(n, VSMR_OK, text);
}

int node_bench_start(struct node *n, uint64_t count, uint32_t size,
                     uint32_t window, node_bench_done_fn fn, void *ctx)
{
    struct bench *b = &n->bench;
    if (b->active)
        return vsmr_fail(VSMR_EAGAIN, "a benchmark is already running");
    if (vsmr_log_role(n->log) != VSMR_LOG_LEADER)
        return vsmr_fail(VSMR_ESTATE, "not the leader (leader is %u)",
                         vsmr_log_leader(n->log));
    if (count < 1 || count > 10000000 || window < 1 || window > 1000000 ||
        size > VSMR_LOG_MAX_ENTRY_DATA)
        return vsmr_fail(VSMR_ERANGE, "bench COUNT SIZE WINDOW: COUNT in "
                         "1..10000000, SIZE in 0..%u, WINDOW in 1..1000000",
                         VSMR_LOG_MAX_ENTRY_DATA);
    b->sent_cap = count + count / 4 + 4096;   /* room for foreign entries */
    b->sent_ns = calloc(b->sent_cap, sizeof *b->sent_ns);
    b->lat_ns = calloc(count, sizeof *b->lat_ns);
    b->payload = malloc(size ? size : 1);
    if (!b->sent_ns || !b->lat_ns || !b->payload) {
        bench_free(b);
        return vsmr_fail(VSMR_ENOMEM, "benchmark of %llu entries",
                         (unsigned long long)count);
    }
    for (uint32_t i = 0; i < size; i++)
        b->payload[i] = (uint8_t)(i * 131 + 7);
    b->total = count;
    b->size = size;
    b->window = window;
    b->fn = fn;
    b->ctx = ctx;
    b->start_ns = node_now_ns();
    b->active = true;
    return VSMR_OK;
}

void node_bench_cancel(struct node *n, void *ctx)
{
    if (n->bench.active && n->bench.ctx == ctx) {
        n->bench.fn = NULL;
        bench_free(&n->bench);
    }
}

void bench_refill(struct node *n)
{
    struct bench *b = &n->bench;
    if (!b->active)
        return;
    if (vsmr_log_role(n->log) != VSMR_LOG_LEADER) {
        finish(n, VSMR_ESTATE, "lost leadership during the benchmark");
        return;
    }
    static struct vsmr_entry ents[BENCH_BATCH];
    while (b->proposed < b->total &&
           b->proposed - b->committed < b->window) {
        uint64_t k = b->window - (b->proposed - b->committed);
        if (k > b->total - b->proposed)
            k = b->total - b->proposed;
        if (k > BENCH_BATCH)
            k = BENCH_BATCH;
        for (uint64_t i = 0; i < k; i++)
            ents[i] = (struct vsmr_entry){.type = VSMR_ENTRY_NORMAL,
                                          .data = b->payload, .len = b->size};
        uint64_t first;
        int rc = vsmr_log_propose(n->log, ents, k, &first);
        if (rc == VSMR_EAGAIN)
            return;   /* the core's store is full: wait for commits */
        if (rc < 0) {
            finish(n, rc, vsmr_errmsg());
            return;
        }
        if (!b->base)
            b->base = first;
        if (first + k - b->base > b->sent_cap) {
            finish(n, VSMR_ERANGE, "too many other entries interleaved");
            return;
        }
        int64_t now = node_now_ns();
        for (uint64_t i = 0; i < k; i++)
            b->sent_ns[first + i - b->base] = now;
        b->proposed += k;
    }
}

void bench_on_commit(struct node *n, const struct vsmr_entry *e, size_t cnt)
{
    struct bench *b = &n->bench;
    if (!b->active || !b->base)
        return;
    int64_t now = node_now_ns();
    for (size_t i = 0; i < cnt; i++) {
        if (e[i].index < b->base || e[i].index - b->base >= b->sent_cap)
            continue;
        int64_t *sent = &b->sent_ns[e[i].index - b->base];
        if (!*sent)
            continue;
        int64_t lat = now - *sent;
        b->lat_ns[b->n_lat++] = lat > UINT32_MAX ? UINT32_MAX : (uint32_t)lat;
        *sent = 0;
        b->committed++;
    }
    if (b->committed == b->total)
        finish_ok(n);
}
