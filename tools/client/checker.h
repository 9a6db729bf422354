/*
 * checker.h - "nothing acknowledged is lost": per key, what a read may
 * still legally return (the last acknowledged state, or a write sent after
 * it whose outcome is unknown). Pure: no I/O, no clock, no allocation of
 * its own beyond the per-key tables.
 */
#ifndef VSMR_CLIENT_CHECKER_H
#define VSMR_CLIENT_CHECKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Writes to one key are numbered 1, 2, ... in the order they are sent.
 * A value observed by a read is named by that number; 0 stands for a
 * value this client never wrote to this key (foreign or corrupt). */
enum ck_outcome { CK_ACKED, CK_REJECTED, CK_UNKNOWN };
enum ck_kind { CK_LOST, CK_CONTRADICTED };

struct ck_state {           /* a state of one key */
    bool present;           /* false: absent (never set, or deleted) */
    uint64_t n;             /* write that produced it (0: initial) */
};

struct ck_problem {
    uint32_t key;
    enum ck_kind kind;
    struct ck_state expected;   /* the floor the read had to respect */
    struct ck_state observed;   /* observed.n == 0 && present: foreign */
    const char *why;            /* static text */
};

#define CK_MAX_PROBLEMS 20u

struct checker;

struct checker *checker_new(uint32_t keys);
void checker_free(struct checker *c);

/* Numbers the next write (SET or DEL) sent to key. */
uint64_t checker_next_write(struct checker *c, uint32_t key);
/* Outcome of write n. For an acknowledged DEL use checker_del_acked. */
void checker_set_done(struct checker *c, uint32_t key, uint64_t n,
                      enum ck_outcome o);
void checker_del_unknown(struct checker *c, uint32_t key, uint64_t n);
/* An acknowledged DEL also tells whether the key was there. */
void checker_del_acked(struct checker *c, uint32_t key, uint64_t n,
                       bool was_present);
/* A GET's answer: a value (write n, 0 if not ours) or NOTFOUND. */
void checker_read(struct checker *c, uint32_t key, bool present, uint64_t n);

bool checker_touched(const struct checker *c, uint32_t key);
uint64_t checker_lost(const struct checker *c);
uint64_t checker_contradicted(const struct checker *c);
/* The first CK_MAX_PROBLEMS problems found, in order. */
size_t checker_problems(const struct checker *c,
                        const struct ck_problem **list);

#endif
