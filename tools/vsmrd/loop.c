/*
 * loop.c - the epoll loop behind loop.h. Handlers live in a small table
 * indexed by fd; a handler may remove any fd (itself included) while the
 * loop dispatches, because events for removed fds are skipped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "common/err.h"
#include "loop.h"

#define LOOP_MAX_FDS 1024

struct handler {
    loop_fd_fn fn;
    void *ctx;
    uint64_t generation;   /* detects an fd reused within one round */
};

#define LOOP_MAX_TIMERS 4

struct timer {
    int fd;
    loop_hook_fn fn;
    void *ctx;
};

struct loop {
    int epfd;
    bool stop;
    uint64_t generation;
    struct handler fds[LOOP_MAX_FDS];
    struct timer timers[LOOP_MAX_TIMERS];
    unsigned n_timers;
    loop_hook_fn sleep_fn;
    void *sleep_ctx;
};

int loop_new(struct loop **out)
{
    struct loop *l = calloc(1, sizeof *l);
    if (!l)
        return vsmr_fail(VSMR_ENOMEM, "event loop");
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0) {
        free(l);
        return vsmr_fail_errno(VSMR_ESYS, "epoll_create1");
    }
    *out = l;
    return VSMR_OK;
}

void loop_free(struct loop *l)
{
    if (!l)
        return;
    for (unsigned i = 0; i < l->n_timers; i++)
        close(l->timers[i].fd);
    close(l->epfd);
    free(l);
}

int loop_add(struct loop *l, int fd, uint32_t events, loop_fd_fn fn,
             void *ctx)
{
    if (fd < 0 || fd >= LOOP_MAX_FDS)
        return vsmr_fail(VSMR_ERANGE, "fd %d beyond the loop's table", fd);
    struct epoll_event ev = {.events = events, .data.u64 = 0};
    ev.data.fd = fd;
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return vsmr_fail_errno(VSMR_ESYS, "epoll_ctl add fd %d", fd);
    l->fds[fd] = (struct handler){fn, ctx, ++l->generation};
    return VSMR_OK;
}

int loop_mod(struct loop *l, int fd, uint32_t events)
{
    struct epoll_event ev = {.events = events};
    ev.data.fd = fd;
    if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
        return vsmr_fail_errno(VSMR_ESYS, "epoll_ctl mod fd %d", fd);
    return VSMR_OK;
}

void loop_del(struct loop *l, int fd)
{
    if (fd < 0 || fd >= LOOP_MAX_FDS)
        return;
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
    l->fds[fd].fn = NULL;
}

static void on_timer(void *ctx, uint32_t events)
{
    struct timer *t = ctx;
    uint64_t expirations;
    if (read(t->fd, &expirations, sizeof expirations) > 0)
        t->fn(t->ctx);
}

int loop_every(struct loop *l, unsigned period_ms, loop_hook_fn fn,
               void *ctx)
{
    if (l->n_timers == LOOP_MAX_TIMERS)
        return vsmr_fail(VSMR_ERANGE, "more than %d timers", LOOP_MAX_TIMERS);
    struct timer *t = &l->timers[l->n_timers];
    t->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (t->fd < 0)
        return vsmr_fail_errno(VSMR_ESYS, "timerfd_create");
    struct itimerspec its = {
        .it_interval = {period_ms / 1000, (long)(period_ms % 1000) * 1000000},
    };
    its.it_value = its.it_interval;
    t->fn = fn;
    t->ctx = ctx;
    if (timerfd_settime(t->fd, 0, &its, NULL) < 0 ||
        loop_add(l, t->fd, EPOLLIN, on_timer, t) < 0) {
        int rc = vsmr_fail_errno(VSMR_ESYS, "timer of %u ms", period_ms);
        close(t->fd);
        return rc;
    }
    l->n_timers++;
    return VSMR_OK;
}

void loop_before_sleep(struct loop *l, loop_hook_fn fn, void *ctx)
{
    l->sleep_fn = fn;
    l->sleep_ctx = ctx;
}

int loop_run(struct loop *l)
{
    struct epoll_event evs[64];
    uint64_t gens[64];
    while (!l->stop) {
        if (l->sleep_fn)
            l->sleep_fn(l->sleep_ctx);
        if (l->stop)
            break;
        int n = epoll_wait(l->epfd, evs, 64, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return vsmr_fail_errno(VSMR_ESYS, "epoll_wait");
        for (int i = 0; i < n; i++)
            gens[i] = l->fds[evs[i].data.fd].generation;
        for (int i = 0; i < n && !l->stop; i++) {
            struct handler *h = &l->fds[evs[i].data.fd];
            if (h->fn && h->generation == gens[i])
                h->fn(h->ctx, evs[i].events);
        }
    }
    return VSMR_OK;
}

void loop_stop(struct loop *l)
{
    l->stop = true;
}
