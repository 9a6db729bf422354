/*
 * control.c - serves the control socket: accepts clients, splits their
 * input into bounded lines, runs each command against the node, and
 * queues replies. A propose is answered once its entries commit. Bad input
 * gets "error: ..." and never takes the daemon down.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/err.h"
#include "control.h"
#include "logline.h"

#define PROPOSE_TIMEOUT_MS 10000
#define MAX_BATCH          4096u

struct client {
    struct control *ctl;
    int fd;
    struct strbuf in, out;
    bool waiting;              /* a propose or bench is in flight */
    bool closing;              /* close once out is written */
    uint64_t wait_index, wait_term;
    int64_t wait_deadline_ms;
};

struct control {
    struct loop *loop;
    struct node *node;
    int listen_fd, timer_fd;
    char path[108];
    struct client *clients[CONTROL_MAX_CLIENTS];
};

static void client_close(struct client *cl)
{
    struct control *c = cl->ctl;
    for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
        if (c->clients[i] == cl)
            c->clients[i] = NULL;
    node_bench_cancel(c->node, cl);
    loop_del(c->loop, cl->fd);
    close(cl->fd);
    sb_free(&cl->in);
    sb_free(&cl->out);
    free(cl);
}

/* Writes what is queued; returns false if the client is gone. */
static bool client_flush(struct client *cl)
{
    while (cl->out.len > 0) {
        ssize_t n = send(cl->fd, cl->out.data, cl->out.len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            loop_mod(cl->ctl->loop, cl->fd, EPOLLIN | EPOLLOUT);
            return true;
        }
        if (n <= 0) {
            client_close(cl);
            return false;
        }
        sb_consume(&cl->out, (size_t)n);
    }
    loop_mod(cl->ctl->loop, cl->fd, EPOLLIN);
    if (cl->closing) {
        client_close(cl);
        return false;
    }
    return true;
}

static void reply_error(struct client *cl, const char *msg)
{
    sb_printf(&cl->out, "error: %s\n", msg);
}

static int parse_u64_arg(const char *s, uint64_t *out)
{
    if (!s || !*s || strlen(s) > 19)
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || *s == '-' || *s == '+')
        return -1;
    *out = v;
    return 0;
}

static int hex_decode(const char *s, uint8_t *out, size_t cap, size_t *len)
{
    size_t n = strlen(s);
    if (n % 2 || n / 2 > cap)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        int v = 0;
        for (int k = 0; k < 2; k++) {
            char ch = s[2 * i + (size_t)k];
            int d = ch >= '0' && ch <= '9' ? ch - '0'
                  : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                  : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
            if (d < 0)
                return -1;
            v = v * 16 + d;
        }
        out[i] = (uint8_t)v;
    }
    *len = n / 2;
    return 0;
}

static void start_wait(struct client *cl, uint64_t last_index, uint64_t term)
{
    cl->waiting = true;
    cl->wait_index = last_index;
    cl->wait_term = term;
    cl->wait_deadline_ms = vsmr_now_ms() + PROPOSE_TIMEOUT_MS;
}

static void propose(struct client *cl, const struct vsmr_entry *ents,
                    size_t n)
{
    uint64_t index, term;
    if (node_propose(cl->ctl->node, ents, n, &index, &term) < 0) {
        reply_error(cl, vsmr_errmsg());
        return;
    }
    start_wait(cl, index + n - 1, term);
}

static void cmd_propose_text(struct client *cl, const char *arg)
{
    if (!arg || !*arg) {
        reply_error(cl, "usage: propose TEXT");
        return;
    }
    size_t len = strlen(arg);
    if (len > VSMR_LOG_MAX_ENTRY_DATA) {
        reply_error(cl, "entry too long");
        return;
    }
    struct vsmr_entry e = {.type = VSMR_ENTRY_NORMAL,
                           .data = (const uint8_t *)arg, .len = (uint32_t)len};
    propose(cl, &e, 1);
}

static void cmd_propose_hex(struct client *cl, const char *arg)
{
    static uint8_t buf[VSMR_LOG_MAX_ENTRY_DATA];
    size_t len;
    if (!arg || hex_decode(arg, buf, sizeof buf, &len) < 0 || len == 0) {
        reply_error(cl, "usage: propose-hex HEX (even number of hex "
                        "digits, at most 64 KiB of data)");
        return;
    }
    struct vsmr_entry e = {.type = VSMR_ENTRY_NORMAL, .data = buf,
                           .len = (uint32_t)len};
    propose(cl, &e, 1);
}

/* Many entries in one request: the batched client path. */
static void cmd_propose_batch(struct client *cl, char *arg)
{
    char *save = NULL;
    char *a = arg ? strtok_r(arg, " ", &save) : NULL;
    char *b = a ? strtok_r(NULL, " ", &save) : NULL;
    char *tag = b ? strtok_r(NULL, " ", &save) : NULL;
    uint64_t count, size;
    if (parse_u64_arg(a, &count) < 0 || parse_u64_arg(b, &size) < 0 ||
        count < 1 || count > MAX_BATCH || size < 16 || size > 65536 ||
        (tag && strlen(tag) > 32) || strtok_r(NULL, " ", &save)) {
        reply_error(cl, "usage: propose-batch COUNT SIZE [TAG] (COUNT "
                        "1..4096, SIZE 16..65536)");
        return;
    }
    static struct vsmr_entry ents[MAX_BATCH];
    uint8_t *data = calloc(count, size);
    if (!data) {
        reply_error(cl, "out of memory");
        return;
    }
    for (uint64_t i = 0; i < count; i++) {
        uint8_t *d = data + i * size;
        snprintf((char *)d, size, "%s#%llu", tag ? tag : "batch",
                 (unsigned long long)i);
        ents[i] = (struct vsmr_entry){.type = VSMR_ENTRY_NORMAL, .data = d,
                                      .len = (uint32_t)size};
    }
    propose(cl, ents, count);   /* the core copies the data */
    free(data);
}

static void cmd_log(struct client *cl, char *arg)
{
    char *save = NULL;
    char *a = arg ? strtok_r(arg, " ", &save) : NULL;
    char *b = a ? strtok_r(NULL, " ", &save) : NULL;
    uint64_t from, count;
    if (parse_u64_arg(a, &from) < 0 || parse_u64_arg(b, &count) < 0 ||
        strtok_r(NULL, " ", &save)) {
        reply_error(cl, "usage: log FROM COUNT");
        return;
    }
    if (node_read_log(cl->ctl->node, from, count, &cl->out) < 0)
        reply_error(cl, vsmr_errmsg());
    else
        sb_printf(&cl->out, "ok\n");
}

static void bench_done(void *ctx, int rc, const char *text)
{
    struct client *cl = ctx;
    cl->waiting = false;
    if (rc < 0)
        reply_error(cl, text);
    else
        sb_printf(&cl->out, "ok %s\n", text);
    client_flush(cl);
}

static void cmd_bench(struct client *cl, char *arg)
{
    char *save = NULL;
    char *a = arg ? strtok_r(arg, " ", &save) : NULL;
    char *b = a ? strtok_r(NULL, " ", &save) : NULL;
    char *w = b ? strtok_r(NULL, " ", &save) : NULL;
    uint64_t count, size, window;
    if (parse_u64_arg(a, &count) < 0 || parse_u64_arg(b, &size) < 0 ||
        parse_u64_arg(w, &window) < 0 || strtok_r(NULL, " ", &save) ||
        size > UINT32_MAX || window > UINT32_MAX) {
        reply_error(cl, "usage: bench COUNT SIZE WINDOW");
        return;
    }
    if (node_bench_start(cl->ctl->node, count, (uint32_t)size,
                         (uint32_t)window, bench_done, cl) < 0) {
        reply_error(cl, vsmr_errmsg());
        return;
    }
    cl->waiting = true;
    cl->wait_index = 0;   /* not a propose: no deadline check */
}

static const char help_text[] =
    "status                      role, term, leader, indexes, peers\n"
    "propose TEXT                propose one entry; answered on commit\n"
    "propose-hex HEX             the same with binary data\n"
    "propose-batch COUNT SIZE [TAG]  COUNT entries in one request\n"
    "log FROM COUNT              committed entries FROM.., one per line\n"
    "bench COUNT SIZE WINDOW     load generator inside the leader\n"
    "ping                        answers ok pong\n";

static void run_command(struct client *cl, char *line)
{
    char *arg = strchr(line, ' ');
    if (arg)
        *arg++ = '\0';
    if (!strcmp(line, "status")) {
        node_status(cl->ctl->node, &cl->out);
        sb_printf(&cl->out, "ok\n");
    } else if (!strcmp(line, "ping")) {
        sb_printf(&cl->out, "ok pong\n");
    } else if (!strcmp(line, "help")) {
        sb_printf(&cl->out, "%sok\n", help_text);
    } else if (!strcmp(line, "propose")) {
        cmd_propose_text(cl, arg);
    } else if (!strcmp(line, "propose-hex")) {
        cmd_propose_hex(cl, arg);
    } else if (!strcmp(line, "propose-batch")) {
        cmd_propose_batch(cl, arg);
    } else if (!strcmp(line, "log")) {
        cmd_log(cl, arg);
    } else if (!strcmp(line, "bench")) {
        cmd_bench(cl, arg);
    } else {
        char msg[96];
        snprintf(msg, sizeof msg, "unknown command '%.40s' (try help)", line);
        reply_error(cl, msg);
    }
}

static bool printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

/* Runs buffered lines until one starts waiting for a commit. */
static void process_lines(struct client *cl)
{
    while (!cl->waiting && !cl->closing) {
        char *nl = memchr(cl->in.data, '\n', cl->in.len);
        if (!nl)
            break;
        size_t len = (size_t)(nl - cl->in.data);
        *nl = '\0';
        if (len && cl->in.data[len - 1] == '\r')
            cl->in.data[len - 1] = '\0';
        if (strlen(cl->in.data) != len && strlen(cl->in.data) + 1 != len)
            reply_error(cl, "line contains a NUL byte");
        else if (!printable(cl->in.data))
            reply_error(cl, "line contains control characters");
        else if (cl->in.data[0])
            run_command(cl, cl->in.data);
        sb_consume(&cl->in, len + 1);
    }
    if (!cl->closing && cl->in.len > CONTROL_MAX_LINE) {
        char msg[64];
        snprintf(msg, sizeof msg, "line longer than %u bytes",
                 CONTROL_MAX_LINE);
        reply_error(cl, msg);
        cl->closing = true;
        sb_free(&cl->in);
    }
}

static void on_client(void *ctx, uint32_t events)
{
    struct client *cl = ctx;
    if (events & EPOLLOUT && !client_flush(cl))
        return;
    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        return;
    char buf[16384];
    ssize_t n = read(cl->fd, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        client_close(cl);
        return;
    }
    if (cl->closing)
        return;
    sb_append(&cl->in, buf, (size_t)n);
    process_lines(cl);
    client_flush(cl);
}

static void on_accept(void *ctx, uint32_t events)
{
    struct control *c = ctx;
    int fd = accept4(c->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return;
    int slot = -1;
    for (int i = 0; i < CONTROL_MAX_CLIENTS && slot < 0; i++)
        if (!c->clients[i])
            slot = i;
    struct client *cl = slot >= 0 ? calloc(1, sizeof *cl) : NULL;
    if (!cl) {
        static const char busy[] = "error: too many control clients\n";
        ssize_t ignored = send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL);
        (void)ignored;
        close(fd);
        return;
    }
    cl->ctl = c;
    cl->fd = fd;
    if (loop_add(c->loop, fd, EPOLLIN, on_client, cl) < 0) {
        close(fd);
        free(cl);
        return;
    }
    c->clients[slot] = cl;
}

/* Answers waiting proposers whose entries are now committed. */
static void on_applied(void *ctx, uint64_t applied)
{
    struct control *c = ctx;
    for (int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
        struct client *cl = c->clients[i];
        if (!cl || !cl->waiting || !cl->wait_index ||
            applied < cl->wait_index)
            continue;
        uint64_t term = node_committed_term(c->node, cl->wait_index);
        cl->waiting = false;
        if (term == cl->wait_term || term == 0)
            sb_printf(&cl->out, "ok index=%llu term=%llu\n",
                      (unsigned long long)cl->wait_index,
                      (unsigned long long)cl->wait_term);
        else
            reply_error(cl, "the entry was replaced by a new leader's log; "
                            "propose again");
        process_lines(cl);
        client_flush(cl);
    }
}

static void on_timer(void *ctx, uint32_t events)
{
    struct control *c = ctx;
    uint64_t ticks;
    if (read(c->timer_fd, &ticks, sizeof ticks) < 0)
        return;
    int64_t now = vsmr_now_ms();
    for (int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
        struct client *cl = c->clients[i];
        if (!cl || !cl->waiting || !cl->wait_index ||
            now < cl->wait_deadline_ms)
            continue;
        cl->waiting = false;
        reply_error(cl, "not committed within 10 s (no majority?); it may "
                        "still commit later");
        process_lines(cl);
        client_flush(cl);
    }
}

static int bind_socket(struct control *c, const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path)
        return vsmr_fail(VSMR_EINVAL, "control path %s is too long", path);
    strcpy(sa.sun_path, path);
    c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                          0);
    if (c->listen_fd < 0)
        return vsmr_fail_errno(VSMR_ESYS, "control socket");
    /* A socket file left by a crashed daemon is removed; a live one is
     * not stolen. */
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0) {
        close(probe);
        return vsmr_fail(VSMR_ESTATE, "control socket %s is in use by a "
                         "running daemon", path);
    }
    if (probe >= 0)
        close(probe);
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path);
    mode_t old = umask(077);   /* the control socket is for root only */
    int rc = bind(c->listen_fd, (struct sockaddr *)&sa, sizeof sa);
    umask(old);
    if (rc < 0)
        return vsmr_fail_errno(VSMR_ESYS, "cannot bind control socket %s",
                               path);
    snprintf(c->path, sizeof c->path, "%s", path);   /* ours to unlink */
    if (listen(c->listen_fd, 16) < 0)
        return vsmr_fail_errno(VSMR_ESYS, "listen on %s", path);
    return VSMR_OK;
}

int control_start(const char *path, struct loop *l, struct node *n,
                  struct control **out)
{
    struct control *c = calloc(1, sizeof *c);
    if (!c)
        return vsmr_fail(VSMR_ENOMEM, "control");
    c->loop = l;
    c->node = n;
    c->listen_fd = c->timer_fd = -1;
    int rc = bind_socket(c, path);
    if (rc == VSMR_OK)
        rc = loop_add(l, c->listen_fd, EPOLLIN, on_accept, c);
    if (rc == VSMR_OK) {
        c->timer_fd = timerfd_create(CLOCK_MONOTONIC,
                                     TFD_NONBLOCK | TFD_CLOEXEC);
        struct itimerspec its = {{0, 250000000}, {0, 250000000}};
        if (c->timer_fd < 0 || timerfd_settime(c->timer_fd, 0, &its, NULL))
            rc = vsmr_fail_errno(VSMR_ESYS, "control timer");
        else
            rc = loop_add(l, c->timer_fd, EPOLLIN, on_timer, c);
    }
    if (rc < 0) {
        control_stop(c);
        return rc;
    }
    node_on_applied(n, on_applied, c);
    *out = c;
    return VSMR_OK;
}

void control_stop(struct control *c)
{
    if (!c)
        return;
    for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
        if (c->clients[i])
            client_close(c->clients[i]);
    if (c->listen_fd >= 0) {
        loop_del(c->loop, c->listen_fd);
        close(c->listen_fd);
        if (c->path[0])
            unlink(c->path);
    }
    if (c->timer_fd >= 0) {
        loop_del(c->loop, c->timer_fd);
        close(c->timer_fd);
    }
    free(c);
}
