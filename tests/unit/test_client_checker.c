/*
 * test_client_checker.c - vsmr-client: the checker judges reads against
 * acknowledged and unknown writes; values, frames and responses are
 * decoded without trusting a byte; and the program itself, against fake
 * servers (honest, NOT_PRIMARY, dropping, silent, lying, forgetting).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* The client's modules are not in libvsmr: build the pure ones in. */
#include "../../tools/client/checker.c"
#include "../../tools/client/core.c"
#include "../../tools/client/frame.c"
#include "../../tools/client/latency.c"
#include "../../tools/client/report.h"
#include "../../tools/client/response.c"
#include "../../tools/client/value.c"
#include "../../tools/client/workload.c"

/* --- the checker ---------------------------------------------------------- */

static struct checker *ck;

static void t_setup(void)
{
    ck = checker_new(4);
    ck_assert_ptr_nonnull(ck);
}

static void t_teardown(void)
{
    checker_free(ck);
}

static uint64_t t_set(uint32_t key, enum ck_outcome o)
{
    uint64_t n = checker_next_write(ck, key);
    checker_set_done(ck, key, n, o);
    return n;
}

START_TEST(reads_of_the_acknowledged_value_are_fine)
{
    checker_read(ck, 0, false, 0);              /* never written */
    uint64_t a = t_set(0, CK_ACKED);
    checker_read(ck, 0, true, a);
    uint64_t b = t_set(0, CK_ACKED);
    checker_read(ck, 0, true, b);
    ck_assert_uint_eq(checker_lost(ck) + checker_contradicted(ck), 0);
}
END_TEST

START_TEST(an_acknowledged_value_that_vanishes_is_lost)
{
    uint64_t a = t_set(1, CK_ACKED);
    checker_read(ck, 1, false, 0);
    ck_assert_uint_eq(checker_lost(ck), 1);
    const struct ck_problem *p;
    ck_assert_uint_eq(checker_problems(ck, &p), 1);
    ck_assert_uint_eq(p[0].key, 1);
    ck_assert(p[0].kind == CK_LOST);
    ck_assert(p[0].expected.present);
    ck_assert_uint_eq(p[0].expected.n, a);
    ck_assert(!p[0].observed.present);
    checker_read(ck, 1, false, 0);              /* counted once */
    ck_assert_uint_eq(checker_lost(ck), 1);
}
END_TEST

START_TEST(an_older_or_foreign_value_is_a_contradiction)
{
    uint64_t a = t_set(2, CK_ACKED);
    t_set(2, CK_ACKED);
    checker_read(ck, 2, true, a);
    ck_assert_uint_eq(checker_contradicted(ck), 1);
    checker_read(ck, 2, true, 0);               /* not ours */
    ck_assert_uint_eq(checker_contradicted(ck), 2);
    checker_read(ck, 2, true, 99);              /* never sent */
    ck_assert_uint_eq(checker_contradicted(ck), 3);
    ck_assert_uint_eq(checker_lost(ck), 0);
}
END_TEST

START_TEST(unknown_writes_after_the_floor_may_show_up)
{
    uint64_t a = t_set(0, CK_ACKED);
    uint64_t u1 = t_set(0, CK_UNKNOWN);
    uint64_t u2 = t_set(0, CK_UNKNOWN);
    checker_read(ck, 0, true, a);               /* neither took effect yet */
    checker_read(ck, 0, true, u1);              /* the first did */
    checker_read(ck, 0, true, u2);              /* then the second */
    ck_assert_uint_eq(checker_contradicted(ck), 0);
    checker_read(ck, 0, true, u1);              /* back: not allowed */
    ck_assert_uint_eq(checker_contradicted(ck), 1);
}
END_TEST

START_TEST(a_read_floor_hides_earlier_unknown_writes)
{
    uint64_t u1 = t_set(3, CK_UNKNOWN);
    uint64_t u2 = t_set(3, CK_UNKNOWN);
    checker_read(ck, 3, true, u2);
    checker_read(ck, 3, true, u1);
    ck_assert_uint_eq(checker_contradicted(ck), 1);
}
END_TEST

START_TEST(an_acknowledged_write_buries_unknown_ones_before_it)
{
    uint64_t u = t_set(0, CK_UNKNOWN);
    uint64_t a = t_set(0, CK_ACKED);
    checker_read(ck, 0, true, u);
    ck_assert_uint_eq(checker_contradicted(ck), 1);
    checker_read(ck, 0, true, a);               /* floor was reset to u */
    ck_assert_uint_eq(checker_contradicted(ck), 2);
}
END_TEST

START_TEST(rejected_writes_never_show_up)
{
    t_set(1, CK_ACKED);
    uint64_t r = t_set(1, CK_REJECTED);
    checker_read(ck, 1, true, r);
    ck_assert_uint_eq(checker_contradicted(ck), 1);
}
END_TEST

START_TEST(deletes_acknowledged_and_unknown)
{
    t_set(0, CK_ACKED);
    uint64_t d = checker_next_write(ck, 0);
    checker_del_acked(ck, 0, d, true);
    checker_read(ck, 0, false, 0);
    ck_assert_uint_eq(checker_lost(ck) + checker_contradicted(ck), 0);

    uint64_t s = t_set(1, CK_ACKED);
    d = checker_next_write(ck, 1);
    checker_del_unknown(ck, 1, d);
    checker_read(ck, 1, true, s);               /* DEL not applied yet */
    checker_read(ck, 1, false, 0);              /* now it was */
    ck_assert_uint_eq(checker_lost(ck) + checker_contradicted(ck), 0);
    checker_read(ck, 1, true, s);               /* resurrected */
    ck_assert_uint_eq(checker_contradicted(ck), 1);
}
END_TEST

START_TEST(a_delete_tells_whether_the_key_was_there)
{
    t_set(2, CK_ACKED);
    checker_del_acked(ck, 2, checker_next_write(ck, 2), false);
    ck_assert_uint_eq(checker_lost(ck), 1);
    checker_del_acked(ck, 3, checker_next_write(ck, 3), true);
    ck_assert_uint_eq(checker_contradicted(ck), 1);
    checker_read(ck, 2, false, 0);
    checker_read(ck, 3, false, 0);
    ck_assert_uint_eq(checker_lost(ck) + checker_contradicted(ck), 2);
}
END_TEST

START_TEST(problems_are_listed_up_to_a_bound)
{
    struct checker *big = checker_new(100);
    for (uint32_t k = 0; k < 100; k++) {
        checker_set_done(big, k, checker_next_write(big, k), CK_ACKED);
        checker_read(big, k, false, 0);
    }
    const struct ck_problem *p;
    ck_assert_uint_eq(checker_lost(big), 100);
    ck_assert_uint_eq(checker_problems(big, &p), CK_MAX_PROBLEMS);
    checker_read(big, 1000, true, 1);           /* no such key: ignored */
    checker_free(big);
}
END_TEST

/* --- values, frames, latency --------------------------------------------- */

START_TEST(values_name_their_write)
{
    uint8_t v[VALUE_MAX_SIZE];
    for (size_t size = VALUE_MIN_SIZE; size <= VALUE_MAX_SIZE; size += 401) {
        value_encode(v, size, 0xabcdef01u, 7, 12345);
        ck_assert_uint_eq(value_decode(v, size, size, 0xabcdef01u, 7), 12345);
        ck_assert_uint_eq(value_decode(v, size, size, 0xabcdef02u, 7), 0);
        ck_assert_uint_eq(value_decode(v, size, size, 0xabcdef01u, 8), 0);
        ck_assert_uint_eq(value_decode(v, size - 1, size, 0xabcdef01u, 7), 0);
        v[size - 1] ^= 1;
        ck_assert_uint_eq(value_decode(v, size, size, 0xabcdef01u, 7), 0);
    }
    char name[KEY_MAX_SIZE];
    ck_assert_uint_le(value_key_name(name, 0xffffffffu, 0xffffffffu),
                      KEY_MAX_SIZE - 1);
}
END_TEST

START_TEST(frames_are_split_without_trusting_lengths)
{
    uint8_t buf[64], body[5] = "hello";
    const uint8_t *b;
    size_t blen, used;
    size_t n = frame_put(buf, sizeof buf, body, sizeof body);
    ck_assert_uint_eq(n, 9);
    for (size_t cut = 0; cut < n; cut++)
        ck_assert_int_eq(frame_next(buf, cut, 100, &b, &blen, &used),
                         FRAME_MORE);
    ck_assert_int_eq(frame_next(buf, n, 100, &b, &blen, &used), FRAME_OK);
    ck_assert_uint_eq(blen, 5);
    ck_assert_uint_eq(used, 9);
    ck_assert_int_eq(memcmp(b, "hello", 5), 0);
    ck_assert_int_eq(frame_next(buf, n, 4, &b, &blen, &used), FRAME_TOOLONG);
    memset(buf, 0, 4);
    ck_assert_int_eq(frame_next(buf, n, 100, &b, &blen, &used), FRAME_EMPTY);
    memset(buf, 0xff, 4);
    ck_assert_int_eq(frame_next(buf, n, FRAME_MAX_RESPONSE, &b, &blen, &used),
                     FRAME_TOOLONG);
    ck_assert_uint_eq(frame_put(buf, 8, body, sizeof body), 0);
    ck_assert_uint_eq(frame_put(buf, sizeof buf, body, 0), 0);
}
END_TEST

START_TEST(latency_quantiles_land_in_the_right_bucket)
{
    static struct latency l;
    ck_assert(latency_quantile(&l, 0.5) == 0);
    for (uint64_t us = 1; us <= 1000; us++)
        latency_add(&l, us);
    double p50 = latency_quantile(&l, 0.5), p99 = latency_quantile(&l, 0.99);
    ck_assert(p50 > 480 && p50 < 520);
    ck_assert(p99 > 960 && p99 < 1020);
    latency_add(&l, UINT64_MAX);
    ck_assert(latency_quantile(&l, 1.0) > 1e18);
}
END_TEST

/* --- the core, driven by hand --------------------------------------------- */

static struct client cl;

static void t_core_setup(void)
{
    struct client_cfg cfg = {.keys = 8, .window = 4, .value_size = 64,
                             .write_ratio = 100, .seed = 1, .tag = 0x1234};
    ck_assert_int_eq(client_init(&cl, &cfg), 0);
}

static void t_core_teardown(void)
{
    client_fini(&cl);
}

/* Decodes the request frame at buf: id, op, key index (from its name). */
static size_t t_req(const uint8_t *buf, size_t len, uint32_t *id, int *op)
{
    const uint8_t *b;
    size_t blen, used;
    ck_assert_int_eq(frame_next(buf, len, FRAME_MAX_REQUEST, &b, &blen,
                                &used), FRAME_OK);
    memcpy(id, b, 4);
    *op = b[4];
    return used;
}

static size_t t_resp(uint8_t *out, uint32_t id, int status,
                     const void *v, uint16_t vlen)
{
    uint8_t body[8 + VALUE_MAX_SIZE];
    memcpy(body, &id, 4);
    body[4] = (uint8_t)status;
    body[5] = 0;
    memcpy(body + 6, &vlen, 2);
    if (vlen)
        memcpy(body + 8, v, vlen);
    return frame_put(out, 16 + VALUE_MAX_SIZE, body, 8u + vlen);
}

START_TEST(the_window_and_one_request_per_key_hold)
{
    uint8_t buf[8192];
    size_t total = 0, n;
    while ((n = client_issue(&cl, 0, buf + total, sizeof buf - total)) > 0)
        total += n;
    ck_assert_uint_eq(client_inflight(&cl), 4);
    unsigned busy = 0;
    for (uint32_t k = 0; k < 8; k++)
        busy += cl.busy[k];
    ck_assert_uint_eq(busy, 4);
    ck_assert_uint_eq(client_issue(&cl, 0, buf, 10), 0);
    ck_assert_uint_eq(client_lost(&cl), 4);
    ck_assert_uint_eq(cl.n.unknown, 4);
    ck_assert_uint_eq(client_inflight(&cl), 0);
}
END_TEST

START_TEST(answers_are_matched_and_bad_ones_drop_the_connection)
{
    uint8_t req[4096], resp[4200];
    uint32_t id;
    int op;
    size_t used;
    size_t n = client_issue(&cl, 10, req, sizeof req);
    t_req(req, n, &id, &op);
    size_t r = t_resp(resp, id, VSMR_SIM_OK, NULL, 0);
    ck_assert_int_eq(client_consume(&cl, resp, r - 1, 20, &used), CLIENT_OK);
    ck_assert_uint_eq(used, 0);                 /* waits for the rest */
    ck_assert_int_eq(client_consume(&cl, resp, r, 20, &used), CLIENT_OK);
    ck_assert_uint_eq(used, r);
    ck_assert_uint_eq(cl.n.acked, 1);
    /* the same id again: it is no longer in flight */
    ck_assert_int_eq(client_consume(&cl, resp, r, 20, &used), CLIENT_DROP);
    ck_assert_int_eq(cl.why_kind, BAD_UNKNOWN_ID);
    /* NOT_PRIMARY names the leader, with unprintable bytes masked */
    r = t_resp(resp, 77, CLIENT_NOT_PRIMARY, "leader=2\n", 9);
    ck_assert_int_eq(client_consume(&cl, resp, r, 20, &used), CLIENT_DROP);
    ck_assert_int_eq(cl.why_kind, -1);
    ck_assert_str_eq(cl.why, "not the primary (leader=2?)");
    /* a status nobody sends, a short body, an oversized frame */
    n = client_issue(&cl, 30, req, sizeof req);
    t_req(req, n, &id, &op);
    r = t_resp(resp, id, 9, NULL, 0);
    ck_assert_int_eq(client_consume(&cl, resp, r, 40, &used), CLIENT_DROP);
    ck_assert_int_eq(cl.why_kind, BAD_STATUS);
    ck_assert_int_eq(client_consume(&cl, (const uint8_t *)"\3\0\0\0abc", 7,
                                    40, &used), CLIENT_DROP);
    ck_assert_int_eq(cl.why_kind, BAD_MALFORMED);
    ck_assert_int_eq(client_consume(&cl, (const uint8_t *)"\0\0\1\0", 4, 40,
                                    &used), CLIENT_DROP);
    ck_assert_int_eq(cl.why_kind, BAD_OVERSIZED);
}
END_TEST

START_TEST(the_final_check_reads_every_written_key_until_answered)
{
    uint8_t req[4096], resp[4200];
    uint32_t id;
    int op;
    size_t used;
    size_t n = client_issue(&cl, 0, req, sizeof req);   /* a write */
    t_req(req, n, &id, &op);
    ck_assert_uint_eq(client_lost(&cl), 1);
    cl.issuing = false;
    ck_assert(client_phase_done(&cl));
    client_begin_verify(&cl);
    ck_assert_uint_eq(cl.nvq, 1);
    n = client_issue(&cl, 0, req, sizeof req);
    t_req(req, n, &id, &op);
    ck_assert_int_eq(op, VSMR_SIM_GET);
    client_lost(&cl);                           /* asked again */
    ck_assert(!client_phase_done(&cl));
    n = client_issue(&cl, 0, req, sizeof req);
    t_req(req, n, &id, &op);
    size_t r = t_resp(resp, id, VSMR_SIM_NOTFOUND, NULL, 0);
    ck_assert_int_eq(client_consume(&cl, resp, r, 1, &used), CLIENT_OK);
    ck_assert(client_phase_done(&cl));
    ck_assert_uint_eq(cl.n.verified, 1);
    ck_assert_uint_eq(checker_lost(cl.ck) + checker_contradicted(cl.ck), 0);
}
END_TEST

/* --- fake servers: the frame protocol over loopback TCP ------------------ */

enum fake_mode {
    FAKE_HONEST,
    FAKE_NOT_PRIMARY,   /* answers every request with status 16 */
    FAKE_SILENT,        /* reads, never answers */
    FAKE_OVERSIZED,     /* first answer is a huge frame, then honest */
    FAKE_STRANGER,      /* first answer has an id never sent, then honest */
    FAKE_LIAR,          /* GET answers carry a value never written */
};

struct fake_entry {
    uint8_t klen;
    char key[KEY_MAX_SIZE];
    uint16_t vlen;
    uint8_t val[VALUE_MAX_SIZE];
};

struct fake_table {                 /* the "replicated" store */
    pthread_mutex_t lock;
    unsigned n;
    struct fake_entry e[256];
};

struct fake {
    int lfd;
    uint16_t port;
    pthread_t th;
    _Atomic bool stop;
    enum fake_mode mode;
    unsigned drop_after;        /* answers per connection; 0: no limit */
    bool forget_on_drop;        /* a replica that lost acknowledged state */
    struct fake_table *t;
};

static struct fake_entry *fake_find(struct fake_table *t, const char *key,
                                    uint8_t klen)
{
    for (unsigned i = 0; i < t->n; i++)
        if (t->e[i].klen == klen && memcmp(t->e[i].key, key, klen) == 0)
            return &t->e[i];
    return NULL;
}

static int fake_apply(struct fake_table *t, const uint8_t *b, size_t len,
                      const uint8_t **v, uint16_t *vlen)
{
    uint8_t op = b[4], klen = b[5];
    uint16_t rlen;
    memcpy(&rlen, b + 6, 2);
    if (len != 12u + klen + rlen || klen > KEY_MAX_SIZE)
        return VSMR_SIM_BADREQ;
    const char *key = (const char *)b + 12;
    struct fake_entry *e = fake_find(t, key, klen);
    *vlen = 0;
    if (op == VSMR_SIM_GET) {
        if (!e)
            return VSMR_SIM_NOTFOUND;
        *v = e->val;
        *vlen = e->vlen;
    } else if (op == VSMR_SIM_DEL) {
        if (!e)
            return VSMR_SIM_NOTFOUND;
        *e = t->e[--t->n];
    } else if (op == VSMR_SIM_SET) {
        if (!e && t->n == 256)
            return VSMR_SIM_FULL;
        e = e ? e : &t->e[t->n++];
        e->klen = klen;
        memcpy(e->key, key, klen);
        e->vlen = rlen;
        memcpy(e->val, b + 12 + klen, rlen);
    }
    return VSMR_SIM_OK;
}

static bool fake_send_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Answers one request; false when the connection is to end. */
static bool fake_answer(struct fake *f, int fd, const uint8_t *b, size_t len,
                        unsigned *answered)
{
    uint8_t out[16 + VALUE_MAX_SIZE];
    static const uint8_t junk[64] = "v00000000:0:1|";
    uint32_t id;
    memcpy(&id, b, 4);
    const uint8_t *v = NULL;
    uint16_t vlen = 0;
    if (f->mode == FAKE_NOT_PRIMARY)
        return fake_send_all(fd, out, t_resp(out, id, 16, "leader=2", 8));
    if (f->mode == FAKE_SILENT)
        return true;
    if (f->mode == FAKE_OVERSIZED) {
        f->mode = FAKE_HONEST;
        fake_send_all(fd, (const uint8_t *)"\xff\xff\0\0", 4);
        return false;
    }
    pthread_mutex_lock(&f->t->lock);
    int st = fake_apply(f->t, b, len, &v, &vlen);
    if (f->drop_after && ++*answered > f->drop_after) {
        if (f->forget_on_drop)
            f->t->n = 0;
        pthread_mutex_unlock(&f->t->lock);
        return false;       /* applied, never answered: unknown */
    }
    size_t n = t_resp(out, f->mode == FAKE_STRANGER ? id + 1 : id, st, v,
                      vlen);
    if (f->mode == FAKE_LIAR && st == VSMR_SIM_OK && b[4] == VSMR_SIM_GET)
        n = t_resp(out, id, st, junk, 64);
    pthread_mutex_unlock(&f->t->lock);
    if (f->mode == FAKE_STRANGER)
        f->mode = FAKE_HONEST;
    return fake_send_all(fd, out, n);
}

static void fake_serve(struct fake *f, int fd)
{
    static uint8_t buf[65536];
    size_t have = 0;
    unsigned answered = 0;
    while (!f->stop) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0)
            continue;
        ssize_t n = recv(fd, buf + have, sizeof buf - have, 0);
        if (n <= 0)
            return;
        have += (size_t)n;
        const uint8_t *b;
        size_t blen, used;
        while (frame_next(buf, have, FRAME_MAX_REQUEST, &b, &blen,
                          &used) == FRAME_OK) {
            if (!fake_answer(f, fd, b, blen, &answered))
                return;
            memmove(buf, buf + used, have - used);
            have -= used;
        }
    }
}

static void *fake_main(void *arg)
{
    struct fake *f = arg;
    while (!f->stop) {
        struct pollfd p = {.fd = f->lfd, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0)
            continue;
        int fd = accept(f->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        fake_serve(f, fd);
        close(fd);
    }
    return NULL;
}

static void fake_start(struct fake *f, struct fake_table *t,
                       enum fake_mode mode)
{
    memset(f, 0, sizeof *f);
    f->t = t;
    f->mode = mode;
    f->lfd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(f->lfd, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    ck_assert_int_eq(bind(f->lfd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(listen(f->lfd, 8), 0);
    ck_assert_int_eq(getsockname(f->lfd, (struct sockaddr *)&a, &al), 0);
    f->port = ntohs(a.sin_port);
}

static void fake_run(struct fake *f)
{
    ck_assert_int_eq(pthread_create(&f->th, NULL, fake_main, f), 0);
}

static void fake_stop(struct fake *f)
{
    f->stop = true;
    pthread_join(f->th, NULL);
    close(f->lfd);
}

/* --- the program against fake servers ------------------------------------ */

struct outcome {
    int status;
    char out[4096], err[16384];
    struct figures f;
};

static void t_slurp(int fd, char *buf, size_t cap)
{
    ssize_t n = pread(fd, buf, cap - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    close(fd);
}

static int t_tmpfile(void)
{
    char path[] = "/tmp/test_client_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    unlink(path);
    return fd;
}

static void t_parse_summary(struct outcome *o)
{
    const char *s = strstr(o->out, "client: summary ");
    ck_assert_msg(s != NULL, "no summary line in: %s", o->out);
    struct figures *f = &o->f;
    int got = sscanf(s, "client: summary requests=%lu acknowledged=%lu "
                     "unknown=%lu lost=%lu contradicted=%lu reconnects=%lu "
                     "seconds=%lf throughput=%lf p50_us=%lf p99_us=%lf",
                     &f->requests, &f->acknowledged, &f->unknown, &f->lost,
                     &f->contradicted, &f->reconnects, &f->seconds,
                     &f->throughput, &f->p50_us, &f->p99_us);
    ck_assert_int_eq(got, 10);
}

/* Runs vsmr-client with args (NULL-terminated) and collects its output. */
static void t_client(struct outcome *o, const char *const *args)
{
    const char *bin = getenv("VSMR_BIN");
    char path[512];
    snprintf(path, sizeof path, "%s/vsmr-client", bin ? bin : "build/bin");
    const char *argv[32] = {path};
    for (int i = 0; args[i] && i < 30; i++)
        argv[i + 1] = args[i];
    int out = t_tmpfile(), err = t_tmpfile();
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(out, 1);
        dup2(err, 2);
        execv(path, (char *const *)argv);
        _exit(127);
    }
    int ws;
    ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
    ck_assert(WIFEXITED(ws));
    o->status = WEXITSTATUS(ws);
    t_slurp(out, o->out, sizeof o->out);
    t_slurp(err, o->err, sizeof o->err);
}

static char t_servers[128];

static const char *t_addrs(const struct fake *a, const struct fake *b)
{
    if (b)
        snprintf(t_servers, sizeof t_servers, "127.0.0.1:%u,127.0.0.1:%u",
                 a->port, b->port);
    else
        snprintf(t_servers, sizeof t_servers, "127.0.0.1:%u", a->port);
    return t_servers;
}

static struct fake_table table = {.lock = PTHREAD_MUTEX_INITIALIZER};
static struct fake fa, fb;

START_TEST(an_honest_server_passes)
{
    fake_start(&fa, &table, FAKE_HONEST);
    fake_run(&fa);
    struct outcome o;
    const char *json = "/tmp/test_client_json.out";
    t_client(&o, (const char *const[]){"--servers", t_addrs(&fa, NULL),
             "--requests", "2000", "--keys", "50", "--window", "8",
             "--seed", "7", "--verify-at-end", "--json", json, NULL});
    fake_stop(&fa);
    ck_assert_msg(o.status == 0, "status %d: %s", o.status, o.err);
    t_parse_summary(&o);
    ck_assert_uint_eq(o.f.requests, 2000);
    ck_assert_uint_eq(o.f.acknowledged, 2000);
    ck_assert_uint_eq(o.f.unknown + o.f.lost + o.f.contradicted, 0);
    ck_assert(o.f.p50_us > 0 && o.f.p99_us >= o.f.p50_us);
    ck_assert_ptr_nonnull(strstr(o.err, "verify read"));
    char js[1024];
    int fd = open(json, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    t_slurp(fd, js, sizeof js);
    unlink(json);
    ck_assert_ptr_nonnull(strstr(js, "\"acknowledged\": 2000"));
    ck_assert_ptr_nonnull(strstr(js, "\"lost\": 0"));
}
END_TEST

START_TEST(not_primary_sends_the_client_to_the_next_server)
{
    fake_start(&fa, &table, FAKE_NOT_PRIMARY);
    fake_start(&fb, &table, FAKE_HONEST);
    fake_run(&fa);
    fake_run(&fb);
    struct outcome o;
    t_client(&o, (const char *const[]){"--servers", t_addrs(&fa, &fb),
             "--requests", "500", "--keys", "50", "--verify-at-end", NULL});
    fake_stop(&fa);
    fake_stop(&fb);
    ck_assert_msg(o.status == 0, "status %d: %s", o.status, o.err);
    t_parse_summary(&o);
    ck_assert_uint_ge(o.f.reconnects, 1);
    ck_assert_ptr_nonnull(strstr(o.err, "not the primary (leader=2)"));
    ck_assert_uint_eq(o.f.acknowledged + o.f.unknown, o.f.requests);
}
END_TEST

START_TEST(dropped_connections_leave_unknown_writes_that_may_show_up)
{
    fake_start(&fa, &table, FAKE_HONEST);
    fa.drop_after = 97;         /* applies the 98th without answering */
    fake_run(&fa);
    struct outcome o;
    t_client(&o, (const char *const[]){"--servers", t_addrs(&fa, NULL),
             "--requests", "1500", "--keys", "20", "--window", "4",
             "--write-ratio", "60", "--seed", "3", "--verify-at-end", NULL});
    fake_stop(&fa);
    ck_assert_msg(o.status == 0, "status %d: %s", o.status, o.err);
    t_parse_summary(&o);
    ck_assert_uint_gt(o.f.unknown, 0);
    ck_assert_uint_gt(o.f.reconnects, 0);
    ck_assert_uint_eq(o.f.acknowledged + o.f.unknown, 1500);
    ck_assert_ptr_nonnull(strstr(o.err, "closed by the server"));
}
END_TEST

START_TEST(a_server_that_forgets_acknowledged_writes_is_caught)
{
    fake_start(&fa, &table, FAKE_HONEST);
    fa.drop_after = 300;
    fa.forget_on_drop = true;
    fake_run(&fa);
    struct outcome o;
    t_client(&o, (const char *const[]){"--servers", t_addrs(&fa, NULL),
             "--requests", "500", "--keys", "10", "--window", "2",
             "--write-ratio", "80", "--seed", "5", "--verify-at-end", NULL});
    fake_stop(&fa);
    ck_assert_msg(o.status == 1, "status %d: %s", o.status, o.err);
    t_parse_summary(&o);
    ck_assert_uint_gt(o.f.lost, 0);
    ck_assert_ptr_nonnull(strstr(o.err, "client: LOST key c"));
}
END_TEST

START_TEST(a_server_that_invents_values_is_caught)
{
    fake_start(&fa, &table, FAKE_LIAR);
    fake_run(&fa);
    struct outcome o;
    t_client(&o, (const char *const[]){"--servers", t_addrs(&fa, NULL),
             "--requests", "300", "--keys", "5", "--window", "1", NULL});
    fake_stop(&fa);
    ck_assert_msg(o.status == 1, "status %d: %s", o.status, o.err);
    t_parse_summary(&o);
    ck_assert_uint_gt(o.f.contradicted, 0);
    ck_assert_ptr_nonnull(strstr(o.err, "never wrote"));
}
END_TEST

START_TEST(bad_responses_drop_the_connection_and_the_run_goes_on)
{
    enum fake_mode modes[] = {FAKE_OVERSIZED, FAKE_STRANGER};
    const char *said[] = {"oversized frame", "unknown id"};
    for (int i = 0; i < 2; i++) {
        fake_start(&fa, &table, modes[i]);
        fake_run(&fa);
        struct outcome o;
        t_client(&o, (const char *const[]){"--servers", t_addrs(&fa, NULL),
                 "--requests", "200", "--keys", "30", NULL});
        fake_stop(&fa);
        ck_assert_msg(o.status == 0, "status %d: %s", o.status, o.err);
        t_parse_summary(&o);
        ck_assert_uint_eq(o.f.reconnects, 1);
        ck_assert_ptr_nonnull(strstr(o.err, said[i]));
    }
}
END_TEST

START_TEST(a_silent_server_times_out)
{
    fake_start(&fa, &table, FAKE_SILENT);
    fake_start(&fb, &table, FAKE_HONEST);
    fake_run(&fa);
    fake_run(&fb);
    struct outcome o;
    t_client(&o, (const char *const[]){"--servers", t_addrs(&fa, &fb),
             "--requests", "200", "--keys", "30", "--timeout-ms", "200",
             NULL});
    fake_stop(&fa);
    fake_stop(&fb);
    ck_assert_msg(o.status == 0, "status %d: %s", o.status, o.err);
    t_parse_summary(&o);
    ck_assert_ptr_nonnull(strstr(o.err, "no response in 200 ms"));
    ck_assert_uint_gt(o.f.unknown, 0);
}
END_TEST

START_TEST(no_server_at_all_ends_within_max_seconds)
{
    fake_start(&fa, &table, FAKE_HONEST);   /* bound, never accepting */
    struct outcome o;
    t_client(&o, (const char *const[]){"--servers", t_addrs(&fa, NULL),
             "--max-seconds", "0.5", "--timeout-ms", "100", NULL});
    close(fa.lfd);
    ck_assert_int_eq(o.status, 1);
    t_parse_summary(&o);
    ck_assert_uint_eq(o.f.acknowledged, 0);
    ck_assert_ptr_nonnull(strstr(o.err, "--max-seconds"));
}
END_TEST

START_TEST(usage_errors_name_the_option)
{
    static const struct { const char *a[6]; const char *said; } cases[] = {
        {{"--requests", "5", NULL}, "--servers is required"},
        {{"--servers", "nohost", NULL}, "--servers"},
        {{"--servers", "127.0.0.1:0", NULL}, "--servers"},
        {{"--servers", "127.0.0.1:1", "--window", "x", NULL}, "--window"},
        {{"--servers", "127.0.0.1:1", "--write-ratio", "101", NULL},
         "--write-ratio"},
        {{"--servers", "127.0.0.1:1", "--value-size", "8", NULL},
         "--value-size"},
        {{"--servers", "127.0.0.1:1", "--seconds", "-1", NULL}, "--seconds"},
        {{"--servers", "127.0.0.1:1", "--requests", "1", "--seconds", "1"},
         "exclude"},
        {{"--servers", "127.0.0.1:1", "--nonsense", NULL}, "unknown option"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct outcome o;
        const char *args[8] = {0};
        for (int j = 0; j < 6 && cases[i].a[j]; j++)
            args[j] = cases[i].a[j];
        t_client(&o, args);
        ck_assert_int_eq(o.status, 2);
        ck_assert_msg(strstr(o.err, cases[i].said), "case %zu: %s", i,
                      o.err);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("client");
    TCase *tc = tcase_create("checker");
    tcase_add_checked_fixture(tc, t_setup, t_teardown);
    tcase_add_test(tc, reads_of_the_acknowledged_value_are_fine);
    tcase_add_test(tc, an_acknowledged_value_that_vanishes_is_lost);
    tcase_add_test(tc, an_older_or_foreign_value_is_a_contradiction);
    tcase_add_test(tc, unknown_writes_after_the_floor_may_show_up);
    tcase_add_test(tc, a_read_floor_hides_earlier_unknown_writes);
    tcase_add_test(tc, an_acknowledged_write_buries_unknown_ones_before_it);
    tcase_add_test(tc, rejected_writes_never_show_up);
    tcase_add_test(tc, deletes_acknowledged_and_unknown);
    tcase_add_test(tc, a_delete_tells_whether_the_key_was_there);
    tcase_add_test(tc, problems_are_listed_up_to_a_bound);
    suite_add_tcase(s, tc);

    tc = tcase_create("codec");
    tcase_add_test(tc, values_name_their_write);
    tcase_add_test(tc, frames_are_split_without_trusting_lengths);
    tcase_add_test(tc, latency_quantiles_land_in_the_right_bucket);
    suite_add_tcase(s, tc);

    tc = tcase_create("core");
    tcase_add_checked_fixture(tc, t_core_setup, t_core_teardown);
    tcase_add_test(tc, the_window_and_one_request_per_key_hold);
    tcase_add_test(tc, answers_are_matched_and_bad_ones_drop_the_connection);
    tcase_add_test(tc, the_final_check_reads_every_written_key_until_answered);
    suite_add_tcase(s, tc);

    tc = tcase_create("program");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, an_honest_server_passes);
    tcase_add_test(tc, not_primary_sends_the_client_to_the_next_server);
    tcase_add_test(tc, dropped_connections_leave_unknown_writes_that_may_show_up);
    tcase_add_test(tc, a_server_that_forgets_acknowledged_writes_is_caught);
    tcase_add_test(tc, a_server_that_invents_values_is_caught);
    tcase_add_test(tc, bad_responses_drop_the_connection_and_the_run_goes_on);
    tcase_add_test(tc, a_silent_server_times_out);
    tcase_add_test(tc, no_server_at_all_ends_within_max_seconds);
    tcase_add_test(tc, usage_errors_name_the_option);
    suite_add_tcase(s, tc);

    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
