/*
 * serve.c - request queue, worker threads and the pause handshake of the
 * simulated guest. The queue is private (like a NIC's ring, it is empty
 * whenever the engine syncs, because it syncs only when the guest is idle);
 * everything the service keeps lives in guest memory (kv.c).
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "kv.h"
#include "serve.h"

#define QUEUE_CAP 4096u

struct queued {
    size_t len;
    struct sim_req req;
};

static struct {
    struct sim_ctl *ctl;
    int sock;
    pthread_mutex_t lock;
    pthread_cond_t not_full;
    struct queued *ring;
    unsigned head, count;
    _Atomic bool stop;
} q = {.lock = PTHREAD_MUTEX_INITIALIZER, .not_full = PTHREAD_COND_INITIALIZER};

static void futex_wait(_Atomic uint32_t *addr, uint32_t val, long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    syscall(SYS_futex, addr, FUTEX_WAIT, val, &ts, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *addr)
{
    syscall(SYS_futex, addr, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec +
           atomic_load(&q.ctl->vclock_base);
}

static bool pop(struct queued *out)
{
    bool got = false;
    pthread_mutex_lock(&q.lock);
    if (q.count) {
        *out = q.ring[q.head];
        q.head = (q.head + 1) % QUEUE_CAP;
        q.count--;
        got = true;
        pthread_cond_signal(&q.not_full);
    }
    pthread_mutex_unlock(&q.lock);
    return got;
}

static void park(void)
{
    atomic_fetch_add(&q.ctl->parked, 1);
    futex_wake(&q.ctl->parked);
    while (atomic_load(&q.ctl->pause_req) && !q.stop)
        futex_wait(&q.ctl->pause_req, 1, 100);
    atomic_fetch_sub(&q.ctl->parked, 1);
}

static void serve_one(unsigned w, const struct queued *item)
{
    struct sim_resp resp;
    size_t n = kv_serve(w, &item->req, item->len, &resp, now_ns());
    while (send(q.sock, &resp, n, MSG_NOSIGNAL) < 0 && errno == EINTR)
        ;
}

static void *worker_main(void *arg)
{
    unsigned w = (unsigned)(uintptr_t)arg;
    struct queued *item = malloc(sizeof *item);
    while (item && !q.stop) {
        if (atomic_load(&q.ctl->pause_req)) {
            park();
            continue;
        }
        uint32_t seq = atomic_load(&q.ctl->wake_seq);
        atomic_fetch_add(&q.ctl->busy, 1);
        if (!pop(item)) {
            atomic_fetch_sub(&q.ctl->busy, 1);
            futex_wait(&q.ctl->wake_seq, seq, 100);
            continue;
        }
        serve_one(w, item);
        atomic_fetch_add(&q.ctl->completed, 1);
        atomic_fetch_sub(&q.ctl->busy, 1);
    }
    free(item);
    return NULL;
}

static void push(const struct queued *item)
{
    pthread_mutex_lock(&q.lock);
    while (q.count == QUEUE_CAP)
        pthread_cond_wait(&q.not_full, &q.lock);
    q.ring[(q.head + q.count) % QUEUE_CAP] = *item;
    q.count++;
    pthread_mutex_unlock(&q.lock);
    atomic_fetch_add(&q.ctl->received, 1);
    atomic_fetch_add(&q.ctl->wake_seq, 1);
    futex_wake(&q.ctl->wake_seq);
}

/* The reader: the guest's NIC. Stops when the engine closes the socket. */
static void read_requests(void)
{
    struct queued *item = malloc(sizeof *item);
    while (item) {
        ssize_t n = recv(q.sock, &item->req, sizeof item->req, MSG_TRUNC);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        /* An oversized packet was truncated: serve_one answers BADREQ. */
        item->len = (size_t)n > sizeof item->req ? 1 : (size_t)n;
        push(item);
    }
    free(item);
}

int serve_run(struct sim_ctl *ctl, int sock, unsigned workers)
{
    pthread_t tid[SIM_MAX_WORKERS];
    q.ctl = ctl;
    q.sock = sock;
    q.ring = calloc(QUEUE_CAP, sizeof *q.ring);
    if (!q.ring) {
        fprintf(stderr, "vsmr-simguest: out of memory for the queue\n");
        return 1;
    }
    for (unsigned w = 0; w < workers; w++)
        if (pthread_create(&tid[w], NULL, worker_main, (void *)(uintptr_t)w)) {
            fprintf(stderr, "vsmr-simguest: cannot start worker %u\n", w);
            return 1;
        }
    atomic_store(&ctl->ready, 1);
    futex_wake(&ctl->ready);
    read_requests();
    q.stop = true;
    atomic_fetch_add(&ctl->wake_seq, 1);
    futex_wake(&ctl->wake_seq);
    futex_wake(&ctl->pause_req);
    for (unsigned w = 0; w < workers; w++)
        pthread_join(tid[w], NULL);
    free(q.ring);
    return 0;
}
