/*
 * core.h - the client without I/O: issues framed requests into a buffer,
 * takes response bytes, keeps the table of requests in flight, feeds the
 * checker and the counters. The driver (main.c) owns sockets and clock.
 */
#ifndef VSMR_CLIENT_CORE_H
#define VSMR_CLIENT_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checker.h"
#include "latency.h"
#include "workload.h"

#define CLIENT_MAX_WINDOW   4096u   /* a slot number fits 12 bits of id */
#define CLIENT_NOT_PRIMARY  16      /* status of a replica not serving */

enum client_rc { CLIENT_OK = 0, CLIENT_DROP = -1 };

/* Kinds of bad response; each drops the connection. */
enum client_bad {
    BAD_OVERSIZED,      /* a frame longer than FRAME_MAX_RESPONSE */
    BAD_MALFORMED,      /* empty frame, or a body that does not decode */
    BAD_UNKNOWN_ID,     /* an id not in flight */
    BAD_STATUS,         /* a status no server sends */
    BAD_KINDS
};

struct client_cfg {
    uint32_t keys, window, value_size, write_ratio;
    uint32_t tag;           /* names this run's keys and values */
    uint64_t seed;
    uint64_t requests;      /* stop issuing after this many; 0: no limit */
};

struct client_counts {
    uint64_t sent, acked, unknown, rejected;
    uint64_t verify_sent, verified;
    uint64_t not_primary;
    uint64_t bad[BAD_KINDS];
};

struct client_slot {
    bool used, verify;
    uint8_t op;
    uint32_t id, key;
    uint64_t n;             /* the write's number (SET, DEL) */
    uint64_t sent_us;
};

struct client {
    struct client_cfg cfg;
    struct checker *ck;
    struct workload wl;
    struct latency lat;
    struct client_counts n;
    struct client_slot *slots;
    uint32_t *free_slots, nfree;
    uint8_t *busy;          /* per key: a request is in flight */
    uint32_t seq;
    bool issuing;           /* the driver clears it when time is up */
    bool verifying;
    uint32_t *vq, nvq;      /* keys still to read in the final check */
    int why_kind;           /* of the last drop: enum client_bad, or -1 */
    char why[192];          /* of the last drop, for the driver's log */
};

int client_init(struct client *c, const struct client_cfg *cfg);
void client_fini(struct client *c);

/* Writes the next request as a frame into out[cap]; returns its size, or
 * 0 if nothing is to be sent now (window full, run over, no room). */
size_t client_issue(struct client *c, uint64_t now_us, uint8_t *out,
                    size_t cap);
/* Handles the whole frames at the front of buf[len] and sets *used.
 * CLIENT_DROP: the connection must go (c->why says why). */
int client_consume(struct client *c, const uint8_t *buf, size_t len,
                   uint64_t now_us, size_t *used);
/* The connection is gone: every request in flight becomes unknown.
 * Returns how many there were. */
uint32_t client_lost(struct client *c);

uint32_t client_inflight(const struct client *c);
/* Send time of the oldest request in flight; UINT64_MAX if none. */
uint64_t client_oldest_us(const struct client *c);
/* Switches to the final check: a GET of every key ever written. */
void client_begin_verify(struct client *c);
/* Nothing left to send or to wait for in the current phase. */
bool client_phase_done(const struct client *c);

#endif
