/*
 * reach.c - before anything is copied: the cluster key file (checked as
 * vsmrd checks it), the replicas' addresses, the backup host through the
 * ssh command (bounded), the witness by a TCP connect and then a VSMR
 * handshake with our key, so a wrong key is found before the copy, not
 * after. Nothing here changes either host.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "common/err.h"
#include "config/config.h"
#include "transport/transport.h"
#include "xlvsmr.h"

#define REACH_SSH_S      15
#define REACH_CONNECT_MS 5000
#define REACH_HELLO_MS   5000

int xlv_key_check(const char *path)
{
    uint8_t key[VSMR_KEY_LEN];
    int rc = vsmr_key_file_load(path, key);
    sodium_memzero(key, sizeof key);
    return rc;
}

/* First IPv4 (else IPv6) address of host, numeric. */
static int resolve(const char *host, const char *what, char *ip, size_t len)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
    int e = getaddrinfo(host, NULL, &hints, &res);
    if (e)
        return vsmr_fail(VSMR_ENOENT, "%s '%s' cannot be resolved: %s", what,
                         host, gai_strerror(e));
    const struct addrinfo *pick = res;
    for (const struct addrinfo *a = res; a; a = a->ai_next)
        if (a->ai_family == AF_INET) {
            pick = a;
            break;
        }
    const void *src = pick->ai_family == AF_INET
        ? (const void *)&((struct sockaddr_in *)pick->ai_addr)->sin_addr
        : (const void *)&((struct sockaddr_in6 *)pick->ai_addr)->sin6_addr;
    inet_ntop(pick->ai_family, src, ip, (socklen_t)len);
    freeaddrinfo(res);
    return VSMR_OK;
}

static void join(char *buf, size_t len, const char *ip, unsigned port)
{
    snprintf(buf, len, strchr(ip, ':') ? "[%s]:%u" : "%s:%u", ip, port);
}

/* The local address the kernel would use towards ip. */
static int route_source(const char *ip, char *out, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    char tmp[80];
    join(tmp, sizeof tmp, ip, 9);
    if (vsmr_parse_addr(tmp, &ss, &sl) < 0)
        return xlv_wrap(VSMR_EINVAL, "backup address");
    int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return vsmr_fail_errno(VSMR_ESYS, "socket");
    int rc = VSMR_OK;
    if (connect(fd, (struct sockaddr *)&ss, sl) < 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
        rc = vsmr_fail_errno(VSMR_ENOENT, "no route from this host to the "
                             "backup host %s (give this host's address "
                             "with -l)", ip);
    } else {
        const void *a = ss.ss_family == AF_INET
            ? (const void *)&((struct sockaddr_in *)&ss)->sin_addr
            : (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr;
        inet_ntop(ss.ss_family, a, out, (socklen_t)len);
    }
    close(fd);
    return rc;
}

int xlv_plan_addresses(const struct xlv_opts *o, struct xlv_plan *p)
{
    const char *host = strchr(o->backup_host, '@');
    host = host ? host + 1 : o->backup_host;
    char wip[48], pip[48];
    int rc = resolve(host, "backup host", p->backup_ip, sizeof p->backup_ip);
    if (rc == VSMR_OK)
        rc = resolve(o->witness_host, "witness", wip, sizeof wip);
    if (rc < 0)
        return rc;
    if (o->local_addr) {
        unsigned char tmp[16];
        if (inet_pton(AF_INET, o->local_addr, tmp) != 1 &&
            inet_pton(AF_INET6, o->local_addr, tmp) != 1)
            return vsmr_fail(VSMR_EINVAL, "-l '%s' is not a numeric IP "
                             "address", o->local_addr);
        snprintf(pip, sizeof pip, "%s", o->local_addr);
    } else if ((rc = route_source(p->backup_ip, pip, sizeof pip)) < 0) {
        return rc;
    }
    /* Primary and backup on one machine (tests only): two ports. */
    bool same = strcmp(pip, p->backup_ip) == 0;
    join(p->primary, sizeof p->primary, pip, o->port);
    join(p->backup, sizeof p->backup, p->backup_ip,
         same ? o->port + 1u : o->port);
    join(p->witness, sizeof p->witness, wip, o->witness_port);
    if (!strcmp(p->witness, p->primary) || !strcmp(p->witness, p->backup))
        return vsmr_fail(VSMR_EINVAL, "the witness %s has the address of a "
                         "replica (primary %s, backup %s): choose another "
                         "-p or witness port", p->witness, p->primary,
                         p->backup);
    return VSMR_OK;
}

int xlv_reach_backup(const struct xlv_opts *o)
{
    char out[2048];
    int rc = xlv_run_remote(o, "for c in xl vsmrd; do command -v $c "
                            ">/dev/null 2>&1 || echo \"missing: $c\"; done; "
                            "echo vsmr-ready", NULL, 0, REACH_SSH_S, out,
                            sizeof out);
    /* Keep the last line of what ssh said. */
    char *s = out + strlen(out);
    while (s > out && (s[-1] == '\n' || s[-1] == '\r'))
        *--s = '\0';
    const char *last = strrchr(out, '\n');
    last = last ? last + 1 : out;
    if (rc == VSMR_ETIMEDOUT)
        return vsmr_fail(VSMR_ETIMEDOUT, "the backup host %s did not answer "
                         "within %d s through '%s' (is it up and reachable?)",
                         o->backup_host, REACH_SSH_S, o->ssh);
    if (rc < 0)
        return rc;
    if (rc == 127 && !strstr(out, "vsmr-ready"))
        return vsmr_fail(VSMR_ENOENT, "the ssh command '%s' was not found on "
                         "this host: %s", o->ssh, last);
    if (rc != 0 || !strstr(out, "vsmr-ready"))
        return vsmr_fail(VSMR_ECLOSED, "cannot reach the backup host %s with "
                         "'%s' (exit %d): %s", o->backup_host, o->ssh, rc,
                         *last ? last : "no output");
    const char *miss = strstr(out, "missing: ");
    if (miss) {
        char what[32];
        sscanf(miss + 9, "%31s", what);
        return vsmr_fail(VSMR_ENOENT, "the backup host %s has no '%s' on its "
                         "PATH (install Xen's tools and VSMR there)",
                         o->backup_host, what);
    }
    return VSMR_OK;
}

static int tcp_probe(const struct sockaddr_storage *ss, socklen_t sl,
                     const char *text)
{
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    0);
    if (fd < 0)
        return vsmr_fail_errno(VSMR_ESYS, "socket");
    int err = 0;
    if (connect(fd, (const struct sockaddr *)ss, sl) < 0) {
        err = errno;
        if (err == EINPROGRESS) {
            struct pollfd pf = {.fd = fd, .events = POLLOUT};
            int r = poll(&pf, 1, REACH_CONNECT_MS);
            socklen_t el = sizeof err;
            if (r == 0)
                err = ETIMEDOUT;
            else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
                err = errno;
        }
    }
    close(fd);
    if (err == 0)
        return VSMR_OK;
    if (err == ECONNREFUSED)
        return vsmr_fail(VSMR_ECLOSED, "the witness %s refused the "
                         "connection: nothing listens there (is vsmrd "
                         "--role witness running?)", text);
    if (err == ETIMEDOUT)
        return vsmr_fail(VSMR_ETIMEDOUT, "the witness %s did not answer "
                         "within %d s (host down, or the port filtered)",
                         text, REACH_CONNECT_MS / 1000);
    return vsmr_fail(VSMR_ECLOSED, "the witness %s cannot be reached: %s",
                     text, strerror(err));
}

struct hello_state {
    bool up;
    char refused[256];
};

static void h_message(void *ctx, uint32_t peer, const uint8_t *d, size_t n) {}

static void h_peer(void *ctx, uint32_t peer, bool up)
{
    struct hello_state *s = ctx;
    if (up)
        s->up = true;
}

static void h_log(void *ctx, enum vsmr_log_level lvl, const char *line)
{
    struct hello_state *s = ctx;
    const char *r = strstr(line, "reason=");
    if (strstr(line, "event=auth_refused") && r) {
        r += 7 + (r[7] == '"');
        snprintf(s->refused, sizeof s->refused, "%.*s",
                 (int)strcspn(r, "\""), r);
    }
}

/* A VSMR hello as node 1 (the primary) to node 3 (the witness). */
static int witness_hello(const struct xlv_opts *o, const struct xlv_plan *p,
                         const struct sockaddr_storage *wss, socklen_t wsl)
{
    struct vsmr_transport_config tc = {
        .self_id = 1, .cluster_id = 1, .cipher = VSMR_CIPHER_AUTO,
        .peers = {{.id = 3, .addr = *wss, .addr_len = wsl}}, .n_peers = 1,
    };
    /* Listen on this host's address, any free port (we only dial). */
    if (vsmr_parse_addr(p->primary, &tc.listen_addr, &tc.listen_len) < 0)
        return xlv_wrap(VSMR_EINVAL, "this host's address");
    if (tc.listen_addr.ss_family == AF_INET)
        ((struct sockaddr_in *)&tc.listen_addr)->sin_port = 0;
    else
        ((struct sockaddr_in6 *)&tc.listen_addr)->sin6_port = 0;
    int rc = vsmr_key_file_load(o->key_file, tc.key);
    if (rc < 0)
        return rc;
    struct hello_state st = {0};
    struct vsmr_transport_handler h = {h_message, h_peer, h_log, &st};
    const struct vsmr_transport_ops *ops = &vsmr_transport_tcp_ops;
    vsmr_transport *t = NULL;
    rc = ops->open(&tc, &h, &t);
    sodium_memzero(tc.key, sizeof tc.key);
    if (rc < 0)
        return xlv_wrap(rc, "checking the cluster key with the witness");
    int64_t end = xlv_now_ms() + REACH_HELLO_MS;
    while (!st.up && !st.refused[0] && xlv_now_ms() < end &&
           !xlv_interrupted) {
        struct pollfd pf = {.fd = ops->fd(t), .events = POLLIN};
        int wait = ops->next_timeout_ms(t);
        poll(&pf, 1, wait < 0 || wait > 50 ? 50 : wait);
        ops->poll(t);
        ops->flush(t);
    }
    struct vsmr_peer_stats ps;
    ops->stats(t, 3, &ps);
    ops->close(t);
    if (st.up)
        return VSMR_OK;
    if (st.refused[0])
        return vsmr_fail(VSMR_EAUTH, "the witness %s refused our cluster key "
                         "(or we refused its answer): %s; %s must hold the "
                         "same 32 bytes on this host, the backup host and "
                         "the witness", p->witness, st.refused, o->key_file);
    if (xlv_interrupted)
        return vsmr_fail(VSMR_ECLOSED, "interrupted");
    return vsmr_fail(VSMR_EAUTH, "the witness %s accepted TCP but no VSMR "
                     "handshake within %d s (%llu connections): a different "
                     "cluster key, cluster_id or encrypt setting, or its "
                     "config does not list this host as peer.1 = %s primary",
                     p->witness, REACH_HELLO_MS / 1000,
                     (unsigned long long)ps.connects, p->primary);
}

int xlv_reach_witness(const struct xlv_opts *o, const struct xlv_plan *p)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    if (vsmr_parse_addr(p->witness, &ss, &sl) < 0)
        return xlv_wrap(VSMR_EINVAL, "witness");
    int rc = tcp_probe(&ss, sl, p->witness);
    if (rc < 0)
        return rc;
    return witness_hello(o, p, &ss, sl);
}
