/*
 * net.c - address parsing and a connect() bounded by poll(), so a dead or
 * partitioned server costs at most the timeout, never a hang.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "net.h"

/* Splits text into host and port strings; brackets around a v6 host. */
static int net_split(const char *text, char *host, size_t hcap,
                     const char **port)
{
    const char *colon = strrchr(text, ':');
    if (!colon || colon == text || !colon[1])
        return -1;
    const char *h = text;
    size_t hl = (size_t)(colon - text);
    if (h[0] == '[') {
        if (hl < 3 || h[hl - 1] != ']')
            return -1;
        h++;
        hl -= 2;
    }
    if (hl >= hcap)
        return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = colon + 1;
    return 0;
}

static int net_port_ok(const char *p)
{
    unsigned long v = 0;
    for (const char *q = p; *q; q++) {
        if (*q < '0' || *q > '9' || q - p > 5)
            return 0;
        v = v * 10 + (unsigned long)(*q - '0');
    }
    return v >= 1 && v <= 65535;
}

int net_parse(struct net_addr *a, const char *text, char *err, size_t errcap)
{
    char host[256];
    const char *port;
    memset(a, 0, sizeof *a);
    if (net_split(text, host, sizeof host, &port) < 0 || !net_port_ok(port)) {
        snprintf(err, errcap, "'%s' is not HOST:PORT (port 1..65535)", text);
        return -1;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV}, *res;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errcap, "'%s': %s", text, gai_strerror(rc));
        return -1;
    }
    memcpy(&a->sa, res->ai_addr, res->ai_addrlen);
    a->len = res->ai_addrlen;
    freeaddrinfo(res);
    snprintf(a->text, sizeof a->text, "%s", text);
    return 0;
}

static int net_wait_connected(int fd, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int n;
    while ((n = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
        ;
    if (n == 0) {
        errno = ETIMEDOUT;
        return -1;
    }
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
        return -1;
    errno = soerr;
    return soerr ? -1 : 0;
}

int net_connect(const struct net_addr *a, int timeout_ms, char *err,
                size_t errcap)
{
    int fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
                    SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errcap, "socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (const struct sockaddr *)&a->sa, a->len) < 0 &&
        (errno != EINPROGRESS || net_wait_connected(fd, timeout_ms) < 0)) {
        snprintf(err, errcap, "%s", strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}
