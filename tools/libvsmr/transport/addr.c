/*
 * addr.c - numeric socket addresses ("10.0.0.1:7001", "[fd00::1]:7001")
 * for config files and log lines, the transport registry, and the
 * monotonic millisecond clock the transports use.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "transport/transport.h"

static int parse_port(const char *p, uint16_t *port)
{
    if (*p == '\0' || strlen(p) > 5)
        return -1;
    unsigned v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (unsigned)(*p - '0');
    }
    if (v == 0 || v > 65535)
        return -1;
    *port = (uint16_t)v;
    return 0;
}

int vsmr_parse_addr(const char *text, struct sockaddr_storage *out,
                    socklen_t *len)
{
    char host[64];
    const char *colon;
    memset(out, 0, sizeof *out);
    if (text[0] == '[') {
        const char *end = strchr(text, ']');
        if (!end || end[1] != ':' || (size_t)(end - text - 1) >= sizeof host)
            return vsmr_fail(VSMR_EINVAL, "'%s' is not [ipv6]:port", text);
        memcpy(host, text + 1, (size_t)(end - text - 1));
        host[end - text - 1] = '\0';
        colon = end + 1;
    } else {
        colon = strrchr(text, ':');
        if (!colon || (size_t)(colon - text) >= sizeof host)
            return vsmr_fail(VSMR_EINVAL, "'%s' is not address:port", text);
        memcpy(host, text, (size_t)(colon - text));
        host[colon - text] = '\0';
    }
    uint16_t port;
    if (parse_port(colon + 1, &port) < 0)
        return vsmr_fail(VSMR_EINVAL, "'%s' has no valid port (1-65535)",
                         text);
    struct sockaddr_in *v4 = (struct sockaddr_in *)out;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        *len = sizeof *v4;
        return VSMR_OK;
    }
    if (text[0] == '[' && inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        *len = sizeof *v6;
        return VSMR_OK;
    }
    return vsmr_fail(VSMR_EINVAL, "'%s' is not a numeric IPv4 or [IPv6] "
                     "address", host);
}

void vsmr_format_addr(const struct sockaddr_storage *a, char *buf,
                      size_t size)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)a;
        inet_ntop(AF_INET, &v4->sin_addr, host, sizeof host);
        snprintf(buf, size, "%s:%u", host, ntohs(v4->sin_port));
    } else if (a->ss_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)a;
        inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof host);
        snprintf(buf, size, "[%s]:%u", host, ntohs(v6->sin6_port));
    } else {
        snprintf(buf, size, "unknown");
    }
}

int64_t vsmr_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const struct vsmr_transport_ops *vsmr_transport_find(const char *name)
{
    static const struct vsmr_transport_ops *const all[] = {
        &vsmr_transport_tcp_ops,
        &vsmr_transport_rdma_ops,
        &vsmr_transport_auto_ops,
    };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(all[i]->name, name) == 0)
            return all[i];
    return NULL;
}
