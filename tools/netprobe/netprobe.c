/*
 * netprobe.c - vsmr-netprobe: the little traffic tool the netio tests use
 * inside their namespaces (UDP send/receive, a TCP echo server and client,
 * IPv4 or IPv6 by the address's form; a sniffer of one ethertype on a
 * device). Test support; not part of vsmrd.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/mac.h"

static int resolve(const char *host, const char *port, int type,
                   struct addrinfo **out)
{
    struct addrinfo hints = {.ai_socktype = type,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
    int err = getaddrinfo(host, port, &hints, out);
    if (err)
        fprintf(stderr, "vsmr-netprobe: %s port %s: %s\n", host, port,
                gai_strerror(err));
    return err ? -1 : 0;
}

/* A dual-stack listening socket on port. */
static int listen_any(const char *port, int type)
{
    int fd = socket(AF_INET6, type, 0), zero = 0, one = 1;
    struct sockaddr_in6 a = {.sin6_family = AF_INET6,
                             .sin6_port = htons((uint16_t)atoi(port))};
    if (fd < 0 ||
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        (type == SOCK_STREAM && listen(fd, 16) < 0)) {
        fprintf(stderr, "vsmr-netprobe: listening on %s: %s\n", port,
                strerror(errno));
        exit(1);
    }
    return fd;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int wait_in(int fd, int64_t end)
{
    int64_t left = end - now_ms();
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return left > 0 && poll(&p, 1, (int)left) == 1;
}

static int udp_send(const char *host, const char *port, const char *text)
{
    struct addrinfo *ai;
    if (resolve(host, port, SOCK_DGRAM, &ai) < 0)
        return 1;
    int fd = socket(ai->ai_family, SOCK_DGRAM, 0);
    ssize_t n = fd < 0 ? -1 : sendto(fd, text, strlen(text), 0, ai->ai_addr,
                                     ai->ai_addrlen);
    if (n < 0)
        fprintf(stderr, "vsmr-netprobe: udp to %s: %s\n", host,
                strerror(errno));
    freeaddrinfo(ai);
    return n < 0;
}

/* Prints each datagram on its own line until ms pass (or count arrive). */
static int udp_recv(const char *port, long ms, long count)
{
    int fd = listen_any(port, SOCK_DGRAM);
    printf("ready\n");
    fflush(stdout);
    int64_t end = now_ms() + ms;
    char buf[2048];
    for (long got = 0; (!count || got < count) && wait_in(fd, end); got++) {
        ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
        if (n < 0)
            break;
        buf[n] = 0;
        printf("%s\n", buf);
        fflush(stdout);
    }
    return 0;
}

static _Noreturn void tcp_serve(const char *port)
{
    int lfd = listen_any(port, SOCK_STREAM);
    printf("ready\n");
    fflush(stdout);
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0)
            continue;
        char buf[2048];
        ssize_t n;
        while ((n = read(fd, buf, sizeof buf)) > 0)
            if (write(fd, buf, (size_t)n) != n)
                break;
        close(fd);
    }
}

/* Connects, sends text, expects it back within ms; prints it. */
static int tcp_echo(const char *host, const char *port, const char *text,
                    long ms)
{
    struct addrinfo *ai;
    if (resolve(host, port, SOCK_STREAM, &ai) < 0)
        return 1;
    int fd = socket(ai->ai_family, SOCK_STREAM, 0);
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int64_t end = now_ms() + ms;
    int rc = 1;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
        write(fd, text, strlen(text)) == (ssize_t)strlen(text)) {
        char buf[2048];
        size_t got = 0, want = strlen(text);
        while (got < want && wait_in(fd, end)) {
            ssize_t n = read(fd, buf + got, sizeof buf - 1 - got);
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        buf[got] = 0;
        if (got == want && !memcmp(buf, text, want)) {
            printf("%s\n", buf);
            rc = 0;
        }
    }
    if (rc)
        fprintf(stderr, "vsmr-netprobe: tcp echo with %s failed\n", host);
    freeaddrinfo(ai);
    close(fd);
    return rc;
}

/* Prints each frame of ethertype that arrives on dev (not those it sends)
 * until ms pass or count arrive: addresses, and a RARP/ARP body decoded. */
static int sniff(const char *dev, const char *type, long ms, long count)
{
    char *end;
    unsigned long et = strtoul(type, &end, 0);
    unsigned ifindex = if_nametoindex(dev);
    if (*end || et == 0 || et > 0xffff || !ifindex) {
        fprintf(stderr, "vsmr-netprobe: sniff: no device %s or bad "
                "ethertype %s\n", dev, type);
        return 2;
    }
    int fd = socket(AF_PACKET, SOCK_RAW, htons((uint16_t)et));
    struct sockaddr_ll sll = {.sll_family = AF_PACKET,
                              .sll_protocol = htons((uint16_t)et),
                              .sll_ifindex = (int)ifindex};
    if (fd < 0 || bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
        fprintf(stderr, "vsmr-netprobe: sniffing %s: %s\n", dev,
                strerror(errno));
        return 1;
    }
    printf("ready\n");
    int64_t stop = now_ms() + ms;
    uint8_t f[2048];
    for (long got = 0; (!count || got < count) && wait_in(fd, stop);) {
        struct sockaddr_ll from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(fd, f, sizeof f, 0, (struct sockaddr *)&from,
                             &fl);
        if (n < 14 || from.sll_pkttype == PACKET_OUTGOING)
            continue;
        char dst[VSMR_MAC_TEXT], src[VSMR_MAC_TEXT];
        vsmr_mac_format(f, dst);
        vsmr_mac_format(f + 6, src);
        printf("frame dst=%s src=%s type=0x%04x len=%zd", dst, src,
               f[12] << 8 | f[13], n);
        if (n >= 42 && f[18] == 6 && f[19] == 4) {
            vsmr_mac_format(f + 22, src);
            vsmr_mac_format(f + 32, dst);
            printf(" op=%u sha=%s tha=%s", f[20] << 8 | f[21], src, dst);
        }
        printf("\n");
        got++;
    }
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 5 && !strcmp(argv[1], "udp-send"))
        return udp_send(argv[2], argv[3], argv[4]);
    if ((argc == 4 || argc == 5) && !strcmp(argv[1], "udp-recv"))
        return udp_recv(argv[2], atol(argv[3]), argc == 5 ? atol(argv[4]) : 0);
    if (argc == 3 && !strcmp(argv[1], "tcp-serve"))
        tcp_serve(argv[2]);
    if (argc == 6 && !strcmp(argv[1], "tcp-echo"))
        return tcp_echo(argv[2], argv[3], argv[4], atol(argv[5]));
    if ((argc == 5 || argc == 6) && !strcmp(argv[1], "sniff"))
        return sniff(argv[2], argv[3], atol(argv[4]),
                     argc == 6 ? atol(argv[5]) : 0);
    fprintf(stderr,
            "usage: vsmr-netprobe udp-send HOST PORT TEXT\n"
            "       vsmr-netprobe udp-recv PORT MS [COUNT]\n"
            "       vsmr-netprobe tcp-serve PORT\n"
            "       vsmr-netprobe tcp-echo HOST PORT TEXT MS\n"
            "       vsmr-netprobe sniff DEV ETHERTYPE MS [COUNT]\n");
    return 2;
}
