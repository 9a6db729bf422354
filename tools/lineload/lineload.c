/*
 * lineload.c - vsmr-lineload: a closed-loop client load for line-based
 * TCP services (the lab guest's vsmr-guestd): C connections, each with
 * DEPTH requests outstanding (pipelined; default 1), for S seconds; prints
 * throughput and latency. With
 * an increasing answer (the guest's INC counter), it also checks that
 * each connection's answers only grow, as a protected guest must ensure
 * across a sync or a failover. Test and benchmark support.
 *
 *   vsmr-lineload HOST PORT CONNS SECONDS [REQUEST [DEPTH]]  (INC, 1)
 *   -> lineload conns=.. seconds=.. answers=.. per_s=.. p50_ms=.. p99_ms=..
 *      max_ms=.. errors=.. not_increasing=..
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 256
#define MAX_SAMPLES (1u << 20)
#define LINE_MAX_LEN 256
#define MAX_DEPTH 64

struct conn {
    int fd;
    double sent_ms[MAX_DEPTH];   /* send times of the outstanding requests */
    unsigned head, out;          /* oldest outstanding, how many */
    char line[LINE_MAX_LEN];
    size_t len;
    long long last;        /* last numeric answer, -1 none */
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int dial(const char *host, int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        fprintf(stderr, "vsmr-lineload: '%s' is not an IPv4 address\n", host);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        fprintf(stderr, "vsmr-lineload: connect %s:%d: %s\n", host, port,
                strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

static int send_request(struct conn *c, const char *req)
{
    char buf[LINE_MAX_LEN + 2];
    int n = snprintf(buf, sizeof buf, "%s\n", req);
    c->sent_ms[(c->head + c->out++) % MAX_DEPTH] = now_ms();
    return write(c->fd, buf, (size_t)n) == n ? 0 : -1;
}

struct totals {
    double *lat;
    size_t n;
    long errors, not_increasing;
};

/* One complete answer line on c: record it, check it grows, next request. */
static void on_answer(struct conn *c, struct totals *t, const char *req)
{
    c->line[c->len] = '\0';
    if (c->out == 0) {          /* an answer nobody asked for */
        t->errors++;
        c->len = 0;
        return;
    }
    double sent = c->sent_ms[c->head];
    c->head = (c->head + 1) % MAX_DEPTH;
    c->out--;
    if (t->n < MAX_SAMPLES)
        t->lat[t->n++] = now_ms() - sent;
    char *end;
    long long v = strtoll(c->line, &end, 10);
    if (end != c->line) {
        if (c->last >= 0 && v <= c->last)
            t->not_increasing++;
        c->last = v;
    }
    c->len = 0;
    if (send_request(c, req) < 0)
        t->errors++;
}

static void on_readable(struct conn *c, struct totals *t, const char *req)
{
    char buf[512];
    ssize_t n = read(c->fd, buf, sizeof buf);
    if (n <= 0) {
        if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            t->errors++;
            close(c->fd);
            c->fd = -1;
        }
        return;
    }
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] == '\n')
            on_answer(c, t, req);
        else if (buf[i] != '\r' && c->len < LINE_MAX_LEN - 1)
            c->line[c->len++] = buf[i];
    }
}

int main(int argc, char **argv)
{
    if (argc < 5 || argc > 7) {
        fprintf(stderr, "usage: vsmr-lineload HOST PORT CONNS SECONDS "
                "[REQUEST [DEPTH]]\n");
        return 2;
    }
    int port = atoi(argv[2]), conns = atoi(argv[3]);
    int depth = argc == 7 ? atoi(argv[6]) : 1;
    double seconds = atof(argv[4]);
    const char *req = argc >= 6 ? argv[5] : "INC";
    if (port <= 0 || port > 65535 || conns <= 0 || conns > MAX_CONNS ||
        depth <= 0 || depth > MAX_DEPTH || seconds <= 0 || seconds > 3600 ||
        strlen(req) >= LINE_MAX_LEN) {
        fprintf(stderr, "vsmr-lineload: PORT 1..65535, CONNS 1..%d, DEPTH "
                "1..%d, SECONDS 0..3600, REQUEST < %d bytes\n", MAX_CONNS,
                MAX_DEPTH, LINE_MAX_LEN);
        return 2;
    }
    static struct conn cs[MAX_CONNS];
    struct totals t = {.lat = malloc(MAX_SAMPLES * sizeof(double))};
    int ep = epoll_create1(0);
    if (!t.lat || ep < 0)
        return 1;
    for (int i = 0; i < conns; i++) {
        cs[i] = (struct conn){.fd = dial(argv[1], port), .last = -1};
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &cs[i]};
        if (cs[i].fd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev) < 0)
            return 1;
        for (int k = 0; k < depth; k++)
            if (send_request(&cs[i], req) < 0)
                return 1;
    }
    double start = now_ms(), end = start + seconds * 1e3;
    for (double now = start; now < end; now = now_ms()) {
        struct epoll_event evs[64];
        int n = epoll_wait(ep, evs, 64, (int)(end - now) + 1);
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (c->fd >= 0)
                on_readable(c, &t, req);
        }
    }
    double took = (now_ms() - start) / 1e3;
    qsort(t.lat, t.n, sizeof *t.lat, cmp_double);
    double p50 = t.n ? t.lat[t.n / 2] : 0, p99 = t.n ? t.lat[t.n * 99 / 100] : 0;
    printf("lineload conns=%d depth=%d seconds=%.1f answers=%zu per_s=%.1f "
           "p50_ms=%.1f p99_ms=%.1f max_ms=%.1f errors=%ld "
           "not_increasing=%ld\n", conns, depth, took, t.n, (double)t.n / took,
           p50, p99, t.n ? t.lat[t.n - 1] : 0, t.errors, t.not_increasing);
    return t.errors || t.not_increasing ? 1 : 0;
}
