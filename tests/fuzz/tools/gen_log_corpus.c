/*
 * gen_log_corpus.c - writes the seed corpora of fuzz_wire_log and
 * fuzz_log_step: one valid frame per log message type, and a few step
 * scripts (ticks, proposals, framed messages). Not built by make; run:
 *   cc -Itools/libvsmr -Itools/libvsmr/include tests/fuzz/tools/gen_log_corpus.c \
 *      build/libvsmr.a -o /tmp/gen && /tmp/gen tests/fuzz/corpus
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

static const struct vsmr_entry ents[3] = {
    {.index = 6, .term = 2, .type = VSMR_ENTRY_NOOP},
    {.index = 7, .term = 2, .type = VSMR_ENTRY_NORMAL,
     .data = (const uint8_t *)"\x45\x00\x00\x1c ping", .len = 9},
    {.index = 8, .term = 2, .type = VSMR_ENTRY_SYNC, .aux = 3},
};

static void write_file(const char *dir, const char *name, const uint8_t *b,
                       size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b, 1, n, f) != n) {
        perror(path);
        exit(1);
    }
    fclose(f);
}

static size_t encode(const struct vsmr_msg *m, uint8_t *buf, size_t cap)
{
    size_t len;
    if (vsmr_wire_log_encode(m, buf, cap, &len) != 0)
        exit(1);
    return len;
}

static struct vsmr_msg msg(uint8_t type, uint32_t from, uint32_t to,
                           uint64_t term)
{
    struct vsmr_msg m = {.type = type, .from = from, .to = to, .term = term};
    if (type == VSMR_MSG_APPEND) {
        m.index = 5, m.log_term = 1, m.commit = 5;
        m.entries = ents, m.n_entries = 3;
    } else if (type != VSMR_MSG_TIMEOUT_NOW) {
        m.index = 8, m.log_term = 2;
    }
    return m;
}

/* fuzz_log_step script: 0x80 means "a framed message follows". */
static size_t script_msg(uint8_t *out, const struct vsmr_msg *m)
{
    uint8_t buf[4096];
    size_t len = encode(m, buf, sizeof buf);
    out[0] = 0x80;
    out[1] = (uint8_t)len;
    out[2] = (uint8_t)(len >> 8);
    memcpy(out + 3, buf, len);
    return 3 + len;
}

int main(int argc, char **argv)
{
    const char *root = argc > 1 ? argv[1] : "tests/fuzz/corpus";
    char wire_dir[400], step_dir[400];
    snprintf(wire_dir, sizeof wire_dir, "%s/fuzz_wire_log", root);
    snprintf(step_dir, sizeof step_dir, "%s/fuzz_log_step", root);
    uint8_t buf[8192];
    for (uint8_t t = VSMR_MSG_TYPE_MIN; t <= VSMR_MSG_TYPE_MAX; t++) {
        struct vsmr_msg m = msg(t, 1, 2, 2);
        char name[32];
        snprintf(name, sizeof name, "type-%02x", t);
        write_file(wire_dir, name, buf, encode(&m, buf, sizeof buf));
    }
    /* follower: an APPEND, then a heartbeat committing it */
    size_t n = 0;
    struct vsmr_msg a = msg(VSMR_MSG_APPEND, 2, 1, 2);
    a.index = 0, a.log_term = 0, a.commit = 0;
    struct vsmr_entry e3[3];
    memcpy(e3, ents, sizeof e3);
    for (int i = 0; i < 3; i++)
        e3[i].index = (uint64_t)i + 1;
    a.entries = e3;
    n += script_msg(buf + n, &a);
    a.index = 3, a.log_term = 2, a.commit = 3, a.n_entries = 0;
    n += script_msg(buf + n, &a);
    write_file(step_dir, "follow-and-commit", buf, n);
    /* candidate: ticks until it campaigns, then votes arrive */
    n = 0;
    memset(buf, 0x01, 40);
    n = 40;
    struct vsmr_msg v = msg(VSMR_MSG_PREVOTE_RESP, 2, 1, 1);
    v.index = v.log_term = 0;
    n += script_msg(buf + n, &v);
    v = msg(VSMR_MSG_VOTE_RESP, 2, 1, 1);
    v.index = v.log_term = 0;
    n += script_msg(buf + n, &v);
    buf[n++] = 0x41;   /* propose */
    buf[n++] = 0x42;
    struct vsmr_msg r = {.type = VSMR_MSG_APPEND_RESP, .from = 2, .to = 1,
                         .term = 1, .index = 2};
    n += script_msg(buf + n, &r);
    buf[n++] = 0x01;
    buf[n++] = 0x50;   /* compact */
    write_file(step_dir, "lead-and-commit", buf, n);
    return 0;
}
