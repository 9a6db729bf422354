/*
 * pool.c - a fixed pool of threads running parallel-for jobs.
 *
 * One job at a time: the caller publishes it, every thread (the caller
 * included) takes chunks off a shared counter until none are left. Used by
 * the hash engine; it knows nothing about pages.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "vsmr/hash.h"

struct job {
    vsmr_pool_fn fn;
    void *ctx;
    size_t n, chunk;
    _Atomic size_t next;
    _Atomic int error;          /* first failure, 0 if none */
    char message[512];          /* its message (thread-local elsewhere) */
    pthread_mutex_t error_lock;
};

struct vsmr_pool {
    unsigned threads;           /* including the caller */
    pthread_t *tids;
    pthread_mutex_t lock;
    pthread_cond_t start, done;
    struct job *job;
    uint64_t generation;
    unsigned running;           /* helper threads still in this job */
    bool stop;
};

static void run_chunks(struct job *j)
{
    for (;;) {
        if (atomic_load_explicit(&j->error, memory_order_relaxed))
            return;
        size_t first = atomic_fetch_add(&j->next, j->chunk);
        if (first >= j->n)
            return;
        size_t count = j->n - first < j->chunk ? j->n - first : j->chunk;
        int rc = j->fn(j->ctx, first, count);
        if (rc < 0) {
            pthread_mutex_lock(&j->error_lock);
            if (!atomic_load(&j->error)) {
                strncpy(j->message, vsmr_errmsg(), sizeof j->message - 1);
                atomic_store(&j->error, rc);
            }
            pthread_mutex_unlock(&j->error_lock);
            return;
        }
    }
}

static void *helper_main(void *arg)
{
    vsmr_pool *p = arg;
    uint64_t seen = 0;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->stop && p->generation == seen)
            pthread_cond_wait(&p->start, &p->lock);
        if (p->stop)
            break;
        seen = p->generation;
        struct job *j = p->job;
        pthread_mutex_unlock(&p->lock);
        run_chunks(j);
        pthread_mutex_lock(&p->lock);
        if (--p->running == 0)
            pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int vsmr_pool_new(unsigned threads, vsmr_pool **out)
{
    if (!out)
        return vsmr_fail(VSMR_EINVAL, "pool: no result pointer");
    if (threads == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cpus > 0 ? (unsigned)cpus : 1;
    }
    if (threads > VSMR_POOL_MAX_THREADS)
        return vsmr_fail(VSMR_ERANGE, "pool: %u threads is more than %u",
                         threads, VSMR_POOL_MAX_THREADS);
    vsmr_pool *p = calloc(1, sizeof *p);
    if (!p || !(p->tids = calloc(threads, sizeof *p->tids))) {
        free(p);
        return vsmr_fail(VSMR_ENOMEM, "pool: out of memory");
    }
    p->threads = threads;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->start, NULL);
    pthread_cond_init(&p->done, NULL);
    for (unsigned i = 1; i < threads; i++) {
        if (pthread_create(&p->tids[i], NULL, helper_main, p)) {
            p->threads = i;
            vsmr_pool_free(p);
            return vsmr_fail(VSMR_ESYS, "pool: cannot start thread %u", i);
        }
    }
    *out = p;
    return VSMR_OK;
}

void vsmr_pool_free(vsmr_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stop = true;
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->lock);
    for (unsigned i = 1; i < p->threads; i++)
        pthread_join(p->tids[i], NULL);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->start);
    pthread_cond_destroy(&p->done);
    free(p->tids);
    free(p);
}

unsigned vsmr_pool_threads(const vsmr_pool *p)
{
    return p ? p->threads : 0;
}

int vsmr_pool_run(vsmr_pool *p, size_t n, size_t chunk, vsmr_pool_fn fn,
                  void *ctx)
{
    if (!p || !fn || chunk == 0)
        return vsmr_fail(VSMR_EINVAL, "pool run: missing pool, function or "
                                      "chunk size");
    if (n == 0)
        return VSMR_OK;
    struct job j = {.fn = fn, .ctx = ctx, .n = n, .chunk = chunk};
    pthread_mutex_init(&j.error_lock, NULL);
    pthread_mutex_lock(&p->lock);
    p->job = &j;
    p->running = p->threads - 1;
    p->generation++;
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->lock);

    run_chunks(&j);

    pthread_mutex_lock(&p->lock);
    while (p->running)
        pthread_cond_wait(&p->done, &p->lock);
    p->job = NULL;
    pthread_mutex_unlock(&p->lock);
    pthread_mutex_destroy(&j.error_lock);
    int rc = atomic_load(&j.error);
    return rc ? vsmr_fail(rc, "%s", j.message) : VSMR_OK;
}
