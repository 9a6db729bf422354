/*
 * main.c - vsmr-simguest: a simulated guest for tests and benchmarks.
 *
 * Started by the sim backend (tools/libvsmr/guest/sim/) with the two memfds
 * and the request socket already open:
 *   vsmr-simguest MEMFD CTLFD SOCKFD PAGES WORKERS
 * It maps its memory and control region, lays out (or adopts) the key-value
 * store, serves requests until the socket closes, then exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include "gmem.h"
#include "kv.h"
#include "serve.h"

struct gmem gm;

static long parse(const char *s, long min, long max, const char *what)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < min || v > max) {
        fprintf(stderr, "vsmr-simguest: bad %s '%s' (%ld..%ld)\n", what, s,
                min, max);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: vsmr-simguest MEMFD CTLFD SOCKFD PAGES "
                        "WORKERS\n(started by libvsmr's sim backend)\n");
        return 2;
    }
    int memfd = (int)parse(argv[1], 0, 1 << 20, "memory fd");
    int ctlfd = (int)parse(argv[2], 0, 1 << 20, "control fd");
    int sock = (int)parse(argv[3], 0, 1 << 20, "socket fd");
    uint64_t pages = (uint64_t)parse(argv[4], SIM_MIN_PAGES,
                                     (long)SIM_MAX_PAGES, "page count");
    unsigned workers = (unsigned)parse(argv[5], 1, SIM_MAX_WORKERS,
                                       "worker count");
    prctl(PR_SET_PDEATHSIG, SIGKILL);

    struct sim_ctl *ctl = mmap(NULL, sim_ctl_bytes(pages),
                               PROT_READ | PROT_WRITE, MAP_SHARED, ctlfd, 0);
    gm.base = mmap(NULL, pages << 12, PROT_READ | PROT_WRITE, MAP_SHARED,
                   memfd, 0);
    if (ctl == MAP_FAILED || gm.base == MAP_FAILED) {
        perror("vsmr-simguest: mmap");
        return 1;
    }
    if (ctl->magic != SIM_CTL_MAGIC || ctl->pages != pages) {
        fprintf(stderr, "vsmr-simguest: control region does not match\n");
        return 1;
    }
    gm.pages = pages;
    gm.dirty = sim_ctl_dirty(ctl);

    char err[256];
    if (kv_init(workers, err, sizeof err) < 0) {
        fprintf(stderr, "vsmr-simguest: %s\n", err);
        return 1;
    }
    return serve_run(ctl, sock, workers);
}
