/*
 * agent.c - a line-oriented TCP client for the test guest's service, with
 * poll()-based timeouts (never blocks past the caller's limit).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int agent_connect(struct agent *a, const char *addr, int timeout_ms)
{
    const char *colon = strrchr(addr, ':');
    a->fd = -1;
    if (!colon || (size_t)(colon - addr) >= sizeof a->host)
        return -1;
    memcpy(a->host, addr, (size_t)(colon - addr));
    a->host[colon - addr] = 0;
    a->port = atoi(colon + 1);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)a->port)};
    if (inet_pton(AF_INET, a->host, &sa.sin_addr) != 1)
        return -1;
    long end = now_ms() + timeout_ms;
    do {
        int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
        if (fd < 0)
            return -1;
        struct timeval tv = {2, 0};
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            a->fd = fd;
            return 0;
        }
        close(fd);
        usleep(200 * 1000);
    } while (now_ms() < end);
    return -1;
}

void agent_close(struct agent *a)
{
    if (a->fd >= 0)
        close(a->fd);
    a->fd = -1;
}

int agent_send(struct agent *a, const char *req)
{
    char line[200];
    int n = snprintf(line, sizeof line, "%s\n", req);
    if (n <= 0 || (size_t)n >= sizeof line)
        return -1;
    return write(a->fd, line, (size_t)n) == n ? 0 : -1;
}

int agent_recv(struct agent *a, char *out, size_t cap, int timeout_ms)
{
    size_t len = 0;
    long end = now_ms() + timeout_ms;
    while (len + 1 < cap) {
        long left = end - now_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = a->fd, .events = POLLIN};
        int r = poll(&p, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            return 0;
        char c;   /* byte at a time: replies are short, no state kept */
        ssize_t n = read(a->fd, &c, 1);
        if (n <= 0)
            return -1;
        if (c == '\n') {
            out[len] = 0;
            return 1;
        }
        out[len++] = c;
    }
    out[len] = 0;
    return 1;
}

int agent_call(struct agent *a, const char *req, char *out, size_t cap,
               int timeout_ms)
{
    if (agent_send(a, req) < 0)
        return -1;
    return agent_recv(a, out, cap, timeout_ms);
}
