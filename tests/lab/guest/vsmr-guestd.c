/*
 * vsmr-guestd.c - the test domU's TCP service and test agent (static, runs
 * as root in the busybox initramfs). One line per request, one per reply:
 *   PING -> PONG n     INC -> n (a counter)     TICK -> ticks (10 ms clock)
 *   SET k v -> OK      GET k -> VAL v | NONE    (a tiny key-value store)
 *   PAGE seed -> GFN hex   fill a locked page with the pattern, report its
 *                          frame (PVH: pfn == gfn, from /proc/self/pagemap)
 *   CHECK seed -> MATCH | DIFF word   compare that page with a pattern
 *   DIRTY n -> DIRTYING n    from now on write n pages every 100 ms
 *   GAPS -> GAPS n=.. max_ms=.. p50_ms=.. sum_ms=.. over_s=..
 *                            the ticker's stalls of 20 ms or more since the
 *                            last GAPS: how long the guest was stopped
 *                            (paused for a checkpoint or a sync), as the
 *                            guest itself sees it
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pattern.h"

#define NKEYS 64

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long counter, requests;
static volatile unsigned long ticks;
static char keys[NKEYS][32], vals[NKEYS][64];
static unsigned char *page;

#define MAX_GAPS 4096
#define DIRTY_MAX_PAGES 6144          /* 24 MiB of the 128 MiB guest */
static pthread_mutex_t gap_lock = PTHREAD_MUTEX_INITIALIZER;
static double gaps[MAX_GAPS], gap_sum, gap_since;
static unsigned gap_n;
static volatile unsigned dirty_pages;

/* CLOCK_BOOTTIME, not MONOTONIC: a cooperative suspend (Remus checkpoint,
 * VSMR sync) goes through the kernel's timekeeping suspend, and the time
 * spent suspended is added to BOOTTIME only. */
static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* A 10 ms sleep that took 20 ms longer than asked is a stall. */
static void *ticker(void *arg)
{
    (void)arg;
    struct timespec ts = {0, 10 * 1000 * 1000};
    gap_since = mono_ms();
    for (;;) {
        double t0 = mono_ms();
        nanosleep(&ts, NULL);
        double late = mono_ms() - t0 - 10.0;
        ticks++;
        if (late < 20.0)
            continue;
        pthread_mutex_lock(&gap_lock);
        if (gap_n < MAX_GAPS)
            gaps[gap_n++] = late;
        gap_sum += late;
        pthread_mutex_unlock(&gap_lock);
    }
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void gaps_report(char *out, size_t cap)
{
    pthread_mutex_lock(&gap_lock);
    qsort(gaps, gap_n, sizeof *gaps, cmp_double);
    double now = mono_ms();
    snprintf(out, cap, "GAPS n=%u max_ms=%.1f p50_ms=%.1f sum_ms=%.1f "
             "over_s=%.1f", gap_n, gap_n ? gaps[gap_n - 1] : 0.0,
             gap_n ? gaps[gap_n / 2] : 0.0, gap_sum, (now - gap_since) / 1e3);
    gap_n = 0;
    gap_sum = 0;
    gap_since = now;
    pthread_mutex_unlock(&gap_lock);
}

/* Writes dirty_pages distinct pages every 100 ms (a workload whose dirty
 * set per sync is known). */
static void *dirtier(void *arg)
{
    unsigned char *buf = arg;
    struct timespec ts = {0, 100 * 1000 * 1000};
    for (unsigned long round = 1;; round++) {
        for (unsigned i = 0; i < dirty_pages && i < DIRTY_MAX_PAGES; i++)
            buf[(size_t)i * 4096] = (unsigned char)round;
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void dirty_start(unsigned n, char *out, size_t cap)
{
    static unsigned char *buf;
    if (!buf) {
        buf = mmap(NULL, (size_t)DIRTY_MAX_PAGES * 4096,
                   PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        pthread_t t;
        if (buf == MAP_FAILED ||
            pthread_create(&t, NULL, dirtier, buf) != 0) {
            buf = NULL;
            snprintf(out, cap, "ERR cannot start the dirtier");
            return;
        }
        pthread_detach(t);
    }
    dirty_pages = n > DIRTY_MAX_PAGES ? DIRTY_MAX_PAGES : n;
    snprintf(out, cap, "DIRTYING %u", dirty_pages);
}

static long page_gfn(void *va)
{
    int fd = open("/proc/self/pagemap", O_RDONLY);
    if (fd < 0)
        return -1;
    uint64_t e = 0;
    off_t off = (off_t)((uintptr_t)va / 4096) * 8;
    ssize_t n = pread(fd, &e, sizeof e, off);
    close(fd);
    if (n != sizeof e || !(e >> 63))
        return -1;
    return (long)(e & ((1ULL << 55) - 1));
}

static void handle(const char *req, char *out, size_t cap)
{
    char a[40] = "", b[70] = "";
    pthread_mutex_lock(&lock);
    requests++;
    if (strncmp(req, "PING", 4) == 0) {
        snprintf(out, cap, "PONG %lu", requests);
    } else if (strncmp(req, "INC", 3) == 0) {
        snprintf(out, cap, "%lu", ++counter);
    } else if (strncmp(req, "TICK", 4) == 0) {
        snprintf(out, cap, "%lu", ticks);
    } else if (sscanf(req, "SET %31s %63s", a, b) == 2) {
        int k;
        for (k = 0; k < NKEYS && keys[k][0] && strcmp(keys[k], a); k++)
            ;
        if (k == NKEYS) {
            snprintf(out, cap, "FULL");
        } else {
            strcpy(keys[k], a);
            strcpy(vals[k], b);
            snprintf(out, cap, "OK");
        }
    } else if (sscanf(req, "GET %31s", a) == 1) {
        int k;
        for (k = 0; k < NKEYS && strcmp(keys[k], a); k++)
            ;
        if (k < NKEYS && keys[k][0])
            snprintf(out, cap, "VAL %s", vals[k]);
        else
            snprintf(out, cap, "NONE");
    } else if (sscanf(req, "PAGE %39s", a) == 1) {
        if (!page) {
            page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (page == MAP_FAILED || mlock(page, 4096) != 0)
                page = NULL;
        }
        if (!page) {
            snprintf(out, cap, "ERR no page");
        } else {
            pattern_fill(page, strtoull(a, NULL, 0));
            long gfn = page_gfn(page);
            snprintf(out, cap, gfn < 0 ? "ERR pagemap" : "GFN %lx", gfn);
        }
    } else if (sscanf(req, "CHECK %39s", a) == 1) {
        if (!page) {
            snprintf(out, cap, "ERR no page");
        } else {
            long d = pattern_check(page, strtoull(a, NULL, 0));
            if (d < 0)
                snprintf(out, cap, "MATCH");
            else
                snprintf(out, cap, "DIFF %ld", d);
        }
    } else if (sscanf(req, "DIRTY %39s", a) == 1) {
        dirty_start((unsigned)strtoul(a, NULL, 0), out, cap);
    } else if (strncmp(req, "GAPS", 4) == 0) {
        gaps_report(out, cap);
    } else {
        snprintf(out, cap, "ERR unknown request");
    }
    pthread_mutex_unlock(&lock);
}

static void *client(void *arg)
{
    int fd = (int)(intptr_t)arg;
    FILE *in = fdopen(fd, "r");
    char line[160], out[160];
    while (in && fgets(line, sizeof line, in)) {
        handle(line, out, sizeof out);
        size_t n = strlen(out);
        out[n++] = '\n';
        if (write(fd, out, n) != (ssize_t)n)
            break;
    }
    if (in)
        fclose(in);
    else
        close(fd);
    return NULL;
}

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 7777;
    pthread_t t;
    pthread_create(&t, NULL, ticker, NULL);
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port)};
    if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        listen(s, 16) < 0) {
        perror("vsmr-guestd: listen");
        return 1;
    }
    printf("VSMR-GUESTD listening on %d\n", port);
    fflush(stdout);
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0)
            continue;
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (pthread_create(&t, NULL, client, (void *)(intptr_t)c) == 0)
            pthread_detach(t);
        else
            close(c);
    }
}
