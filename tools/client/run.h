/*
 * run.h - the driver: one TCP connection at a time to the servers in
 * turn, the poll loop that moves bytes between it and the client core,
 * timeouts, reconnects with backoff, live reports, the --max-seconds bound.
 */
#ifndef VSMR_CLIENT_RUN_H
#define VSMR_CLIENT_RUN_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "core.h"
#include "frame.h"
#include "options.h"

#define RUN_RX_CAP (64u * 1024u)
#define RUN_TX_CAP (64u * 1024u)

struct run {
    const struct options *o;
    struct client *c;
    int fd;
    uint32_t server;                /* index into o->servers */
    uint64_t reconnects;            /* connections after the first */
    bool connected_once;
    uint64_t acked_at_connect;
    uint64_t start_us, deadline_us, stop_issue_us, end_us;
    uint64_t next_connect_us, backoff_ms;
    uint64_t next_report_us, report_acked;
    unsigned bad_logged;            /* bit per enum client_bad */
    bool gave_up;                   /* --max-seconds ran out */
    size_t rxlen, txlen;
    uint8_t rx[RUN_RX_CAP];
    uint8_t tx[RUN_TX_CAP];
};

/* Set by SIGINT/SIGTERM: once, stop issuing and finish; twice, give up. */
extern volatile sig_atomic_t run_interrupted;

uint64_t run_now_us(void);
void run_init(struct run *r, const struct options *o, struct client *c);
/* Runs the client's current phase until it is done or --max-seconds
 * runs out (then r->gave_up). */
void run_phase(struct run *r);
void run_close(struct run *r);

#endif
