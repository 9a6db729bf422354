/*
 * tcp_rtt.c - measures the physical floor of one replication round trip:
 * a child process echoes SIZE-byte messages over a loopback TCP
 * connection (TCP_NODELAY, blocking I/O), the parent times COUNT round
 * trips and prints p50 and p99.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tcp_rtt.h"

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int io_all(int fd, char *p, size_t n, int writing)
{
    while (n > 0) {
        ssize_t r = writing ? write(fd, p, n) : read(fd, p, n);
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static void nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void echo_child(int lfd, size_t size)
{
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0)
        _exit(1);
    nodelay(fd);
    char *buf = malloc(size);
    while (buf && io_all(fd, buf, size, 0) == 0 &&
           io_all(fd, buf, size, 1) == 0)
        ;
    _exit(0);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

int tcp_rtt_main(int argc, char **argv)
{
    long count = argc > 1 ? atol(argv[1]) : 20000;
    long size = argc > 2 ? atol(argv[2]) : 64;
    if (count < 10 || count > 10000000 || size < 1 || size > 1 << 20) {
        fprintf(stderr, "usage: vsmrctl tcp-rtt [COUNT 10.. [SIZE 1..1M]]\n");
        return 2;
    }
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        listen(lfd, 1) < 0 || getsockname(lfd, (struct sockaddr *)&sa, &sl)) {
        perror("vsmrctl tcp-rtt: listen");
        return 2;
    }
    pid_t child = fork();
    if (child == 0)
        echo_child(lfd, (size_t)size);
    close(lfd);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        perror("vsmrctl tcp-rtt: connect");
        return 2;
    }
    nodelay(fd);
    char *buf = calloc(1, (size_t)size);
    int64_t *rtt = calloc((size_t)count, sizeof *rtt);
    int rc = 0;
    for (long i = 0; i < count && buf && rtt; i++) {
        int64_t t0 = now_ns();
        if (io_all(fd, buf, (size_t)size, 1) || io_all(fd, buf, (size_t)size, 0)) {
            rc = 2;
            break;
        }
        rtt[i] = now_ns() - t0;
    }
    close(fd);
    waitpid(child, NULL, 0);
    if (rc || !buf || !rtt) {
        fprintf(stderr, "vsmrctl tcp-rtt: ping-pong failed\n");
        return 2;
    }
    qsort(rtt, (size_t)count, sizeof *rtt, cmp_i64);
    printf("tcp_rtt count=%ld size=%ld p50_us=%.1f p99_us=%.1f\n", count,
           size, rtt[count / 2] / 1e3, rtt[count * 99 / 100] / 1e3);
    free(buf);
    free(rtt);
    return 0;
}
