/*
 * fuzz_log_step.c - libFuzzer target that drives one consensus core (as
 * replica 1 of 3) with arbitrary well-formed messages, ticks, proposals
 * and compactions taken from the input. The core may refuse messages but
 * must never crash, leak, or break its invariants (checked below): it
 * applies in order, and no peer can change an entry once committed.
 */
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "wire/wire.h"

static struct vsmr_entry ents[VSMR_LOG_MAX_MSG_ENTRIES];

#define TRACKED 4096
static uint64_t committed_term[TRACKED];   /* 0: not committed yet */
static uint64_t committed_sum[TRACKED];

static uint64_t checksum(const struct vsmr_entry *e)
{
    uint64_t h = e->type * 31 + e->aux + e->len;
    for (uint32_t i = 0; i < e->len; i++)
        h = h * 131 + e->data[i];
    return h;
}

static void remember(const struct vsmr_entry *e)
{
    if (e->index >= TRACKED)
        return;
    if (committed_term[e->index] &&
        (committed_term[e->index] != e->term ||
         committed_sum[e->index] != checksum(e)))
        abort();   /* a committed entry changed */
    committed_term[e->index] = e->term;
    committed_sum[e->index] = checksum(e);
}

/* Entries still held up to the commit index are the committed ones. */
static void check_committed(struct vsmr_log *l)
{
    uint64_t commit = vsmr_log_commit_index(l);
    for (uint64_t i = vsmr_log_first_index(l); i <= commit && i < TRACKED;
         i++) {
        const struct vsmr_entry *e = vsmr_log_entry(l, i);
        if (!e)
            abort();
        if (committed_term[i])
            remember(e);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void drain(struct vsmr_log *l, uint64_t *applied)
{
    struct vsmr_log_ready rd;
    while (vsmr_log_has_ready(l)) {
        vsmr_log_ready(l, &rd);
        if (rd.snapshot_changed)
            *applied = rd.snap_index;
        for (size_t i = 0; i < rd.n_committed; i++) {
            if (rd.committed[i].index != ++*applied)
                abort();   /* applies out of order */
            remember(&rd.committed[i]);
        }
        for (size_t i = 0; i < rd.n_msgs; i++) {
            static uint8_t buf[VSMR_WIRE_MAX_FRAME];
            size_t len;
            if (vsmr_wire_log_encode(&rd.msgs[i], buf, sizeof buf, &len))
                abort();   /* the core built an unencodable message */
        }
        vsmr_log_advance(l);
    }
    if (vsmr_log_commit_index(l) > vsmr_log_last_index(l) ||
        vsmr_log_applied_index(l) > vsmr_log_commit_index(l))
        abort();
    check_committed(l);
}

/* One step: a control byte, then (for messages) a 2-byte length and a
 * frame. Returns the bytes consumed. */
static size_t one_step(struct vsmr_log *l, const uint8_t *p, size_t n,
                       uint64_t *applied)
{
    uint8_t op = p[0];
    if (op < 0x40) {
        vsmr_log_tick(l);
        return 1;
    }
    if (op < 0x50) {
        struct vsmr_entry e = {.type = VSMR_ENTRY_NORMAL, .data = p,
                               .len = n > 4 ? 4 : (uint32_t)n};
        vsmr_log_propose(l, &e, 1, NULL);
        return 1;
    }
    if (op < 0x58) {
        vsmr_log_compact(l, vsmr_log_applied_index(l) - (op & 3));
        return 1;
    }
    if (n < 3)
        return n;
    size_t len = (size_t)p[1] | (size_t)p[2] << 8;
    if (len > n - 3)
        len = n - 3;
    struct vsmr_msg m;
    if (vsmr_wire_log_decode(p + 3, len, &m, ents,
                             VSMR_LOG_MAX_MSG_ENTRIES) == 0) {
        m.to = 1;   /* aim it at our replica, from a peer */
        if (m.from == 1 || m.from > 3)
            m.from = 2;
        vsmr_log_step(l, &m);
    }
    (void)applied;
    return 3 + len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vsmr_log_config cfg = {
        .id = 1, .n_nodes = 3, .seed = 1, .election_ticks = 3,
        .log_capacity = 64, .outbox_capacity = 16,
        .kinds = {VSMR_LOG_PRIMARY, VSMR_LOG_BACKUP, VSMR_LOG_WITNESS},
    };
    struct vsmr_log *l;
    if (vsmr_log_new(&cfg, &l) != 0)
        abort();
    uint64_t applied = 0;
    size_t off = 0;
    memset(committed_term, 0, sizeof committed_term);
    while (off < size) {
        off += one_step(l, data + off, size - off, &applied);
        drain(l, &applied);
    }
    vsmr_log_free(l);
    return 0;
}
