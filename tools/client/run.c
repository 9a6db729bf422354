/*
 * run.c - vsmr-client's event loop. It owns the socket and the clock and
 * nothing else: what to send and what a response means is the core's.
 * Every failure and every reconnect is one line on stderr.
 */
#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "report.h"
#include "run.h"

#define RUN_BACKOFF_MIN_MS 50u
#define RUN_BACKOFF_MAX_MS 500u

static const char *const bad_names[BAD_KINDS] = {
    "oversized frame", "malformed response", "response to an unknown id",
    "unknown status"};

volatile sig_atomic_t run_interrupted;

uint64_t run_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void run_init(struct run *r, const struct options *o, struct client *c)
{
    memset(r, 0, offsetof(struct run, rx));
    r->o = o;
    r->c = c;
    r->fd = -1;
    r->start_us = run_now_us();
    r->deadline_us = r->start_us + (uint64_t)(o->max_seconds * 1e6);
    r->stop_issue_us = o->seconds > 0
        ? r->start_us + (uint64_t)(o->seconds * 1e6) : UINT64_MAX;
    r->next_report_us = r->start_us + (uint64_t)o->report_ms * 1000u;
}

static const char *run_addr(const struct run *r, uint32_t i)
{
    return r->o->servers[i % r->o->nservers].text;
}

static uint64_t run_acked(const struct run *r)
{
    return r->c->n.acked + r->c->n.verified;
}

static void run_backoff(struct run *r, uint64_t now)
{
    r->backoff_ms = r->backoff_ms ? r->backoff_ms * 2 : RUN_BACKOFF_MIN_MS;
    if (r->backoff_ms > RUN_BACKOFF_MAX_MS)
        r->backoff_ms = RUN_BACKOFF_MAX_MS;
    r->next_connect_us = now + r->backoff_ms * 1000u;
}

/* Drops the connection: in-flight requests become unknown, next server. */
static void run_drop(struct run *r, const char *reason)
{
    uint32_t unknown = client_lost(r->c);
    close(r->fd);
    r->fd = -1;
    r->rxlen = r->txlen = 0;
    const char *from = run_addr(r, r->server);
    r->server = (r->server + 1) % r->o->nservers;
    run_backoff(r, run_now_us());
    fprintf(stderr, "client: connection to %s lost after %" PRIu64
            " acknowledged (%s); %u in flight now unknown; trying %s in %"
            PRIu64 " ms\n", from, run_acked(r) - r->acked_at_connect, reason,
            unknown, run_addr(r, r->server), r->backoff_ms);
}

/* The core asked for a drop: log a bad response's detail once per kind. */
static void run_drop_bad(struct run *r)
{
    int k = r->c->why_kind;
    if (k < 0) {
        run_drop(r, r->c->why);
        return;
    }
    if (!(r->bad_logged & (1u << k))) {
        r->bad_logged |= 1u << k;
        fprintf(stderr, "client: bad response from %s: %s (logged once; "
                "every one drops the connection)\n",
                run_addr(r, r->server), r->c->why);
    }
    run_drop(r, bad_names[k]);
}

static void run_connect(struct run *r, uint64_t now)
{
    char err[160];
    int ms = (int)(r->o->timeout_ms < 1000 ? r->o->timeout_ms : 1000);
    int fd = net_connect(&r->o->servers[r->server], ms, err, sizeof err);
    if (fd < 0) {
        const char *from = run_addr(r, r->server);
        r->server = (r->server + 1) % r->o->nservers;
        run_backoff(r, run_now_us());
        fprintf(stderr, "client: cannot connect to %s (%s); trying %s in %"
                PRIu64 " ms\n", from, err, run_addr(r, r->server),
                r->backoff_ms);
        return;
    }
    r->fd = fd;
    r->acked_at_connect = run_acked(r);
    r->reconnects += r->connected_once;
    r->connected_once = true;
    fprintf(stderr, "client: connected to %s\n", run_addr(r, r->server));
    (void)now;
}

static void run_fill(struct run *r, uint64_t now)
{
    size_t n;
    while ((n = client_issue(r->c, now, r->tx + r->txlen,
                             RUN_TX_CAP - r->txlen)) > 0)
        r->txlen += n;
}

static void run_write(struct run *r)
{
    ssize_t n = send(r->fd, r->tx, r->txlen, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n < 0) {
        char why[96];
        snprintf(why, sizeof why, "send: %s", strerror(errno));
        run_drop(r, why);
        return;
    }
    memmove(r->tx, r->tx + n, r->txlen - (size_t)n);
    r->txlen -= (size_t)n;
}

static void run_read(struct run *r)
{
    ssize_t n = recv(r->fd, r->rx + r->rxlen, RUN_RX_CAP - r->rxlen,
                     MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        char why[96];
        snprintf(why, sizeof why, "%s", n == 0 ? "closed by the server"
                 : strerror(errno));
        run_drop(r, why);
        return;
    }
    r->rxlen += (size_t)n;
    uint64_t before = run_acked(r);
    size_t used;
    if (client_consume(r->c, r->rx, r->rxlen, run_now_us(), &used) < 0) {
        run_drop_bad(r);
        return;
    }
    memmove(r->rx, r->rx + used, r->rxlen - used);
    r->rxlen -= used;
    if (run_acked(r) > before)
        r->backoff_ms = 0;
}

static void run_check_timeout(struct run *r, uint64_t now)
{
    uint64_t oldest = client_oldest_us(r->c);
    if (oldest == UINT64_MAX || now < oldest + r->o->timeout_ms * 1000ull)
        return;
    char why[64];
    snprintf(why, sizeof why, "no response in %u ms", r->o->timeout_ms);
    run_drop(r, why);
}

static void run_report(struct run *r, uint64_t now)
{
    uint64_t period = (uint64_t)r->o->report_ms * 1000u;
    if (!period || now < r->next_report_us)
        return;
    uint64_t acked = run_acked(r);
    double rate = (double)(acked - r->report_acked) * 1e6 / (double)period;
    report_live(stderr, r->c, (double)(now - r->start_us) / 1e6, rate,
                r->fd >= 0 ? run_addr(r, r->server) : "(none)");
    r->report_acked = acked;
    r->next_report_us += period;
    if (r->next_report_us < now)
        r->next_report_us = now + period;
}

static uint64_t run_min(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* How long poll may sleep: until the next timer of any kind, <= 100 ms. */
static int run_wait_ms(const struct run *r, uint64_t now)
{
    uint64_t until = now + 100000u;
    if (r->o->report_ms)
        until = run_min(until, r->next_report_us);
    if (r->fd < 0)
        until = run_min(until, r->next_connect_us);
    uint64_t oldest = client_oldest_us(r->c);
    if (r->fd >= 0 && oldest != UINT64_MAX)
        until = run_min(until, oldest + r->o->timeout_ms * 1000ull);
    until = run_min(until, run_min(r->deadline_us, r->stop_issue_us));
    return until <= now ? 0 : (int)((until - now + 999) / 1000);
}

static void run_give_up(struct run *r)
{
    uint32_t inflight = client_lost(r->c);
    r->gave_up = true;
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
    fprintf(stderr, "client: %s: stopping with %u requests in flight (now "
            "unknown)\n", run_interrupted > 1 ? "interrupted twice"
            : "--max-seconds reached", inflight);
}

static void run_step(struct run *r, uint64_t now)
{
    if (r->fd < 0) {
        if (now >= r->next_connect_us)
            run_connect(r, now);
        else
            poll(NULL, 0, run_wait_ms(r, now));
        return;
    }
    run_fill(r, now);
    if (r->txlen)
        run_write(r);
    if (r->fd < 0)
        return;
    struct pollfd p = {.fd = r->fd,
                       .events = POLLIN | (r->txlen ? POLLOUT : 0)};
    if (poll(&p, 1, run_wait_ms(r, now)) > 0) {
        if (p.revents & (POLLIN | POLLHUP | POLLERR))
            run_read(r);
        if (r->fd >= 0 && r->txlen && (p.revents & POLLOUT))
            run_write(r);
    }
    if (r->fd >= 0)
        run_check_timeout(r, run_now_us());
}

void run_phase(struct run *r)
{
    while (!client_phase_done(r->c)) {
        uint64_t now = run_now_us();
        if (now >= r->deadline_us || run_interrupted > 1) {
            run_give_up(r);
            break;
        }
        if (!r->c->verifying &&
            (now >= r->stop_issue_us || run_interrupted))
            r->c->issuing = false;
        run_report(r, now);
        run_step(r, now);
    }
    r->end_us = run_now_us();
}

void run_close(struct run *r)
{
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
}
