/*
 * diag_tcp_fanout.c - a DIAGNOSTIC for the log benchmark (built and run by
 * bench/diag_log_cpu.sh, not by make): the bare TCP cost of the message
 * pattern of one commit. A leader process writes SIZE bytes to each of two
 * follower processes, each answers SIZE bytes, and the leader waits for
 * the first answer (what a majority of 3 needs) and for both. No
 * persistence, no crypto, no consensus: the floor under commit_p50 when
 * three processes share the machine, to set against the two-process
 * ping-pong (vsmrctl tcp-rtt).
 *
 * usage: diag_tcp_fanout COUNT SIZE PORT
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_SIZE 65536

static long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

/* Reads or writes exactly n bytes; false at EOF or on an error. */
static int full(int fd, char *b, int n, int reading)
{
    for (int off = 0; off < n;) {
        ssize_t r = reading ? read(fd, b + off, (size_t)(n - off))
                            : write(fd, b + off, (size_t)(n - off));
        if (r <= 0)
            return 0;
        off += (int)r;
    }
    return 1;
}

static void nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void follower(const struct sockaddr_in *a, int size)
{
    static char b[MAX_SIZE];
    int s = socket(AF_INET, SOCK_STREAM, 0);
    nodelay(s);
    if (connect(s, (const struct sockaddr *)a, sizeof *a) < 0)
        _exit(1);
    while (full(s, b, size, 1) && full(s, b, size, 0))
        ;
    _exit(0);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: diag_tcp_fanout COUNT SIZE PORT\n");
        return 2;
    }
    int n = atoi(argv[1]), size = atoi(argv[2]), port = atoi(argv[3]);
    if (n < 1 || size < 1 || size > MAX_SIZE || port < 1 || port > 65535) {
        fprintf(stderr, "diag_tcp_fanout: COUNT >= 1, SIZE in 1..%d, PORT "
                "in 1..65535\n", MAX_SIZE);
        return 2;
    }
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 4) < 0) {
        perror("diag_tcp_fanout: listen");
        return 1;
    }
    for (int k = 0; k < 2; k++)
        if (fork() == 0)
            follower(&a, size);
    int c[2], ep = epoll_create1(0);
    for (int k = 0; k < 2; k++) {
        c[k] = accept(ls, NULL, NULL);
        nodelay(c[k]);
        struct epoll_event e = {.events = EPOLLIN, .data.u32 = (uint32_t)k};
        epoll_ctl(ep, EPOLL_CTL_ADD, c[k], &e);
    }
    long long *both = calloc((size_t)n, sizeof *both);
    long long *first = calloc((size_t)n, sizeof *first);
    static char b[MAX_SIZE];
    const int warmup = 200;
    for (int i = 0; i < n + warmup; i++) {
        long long t0 = now_ns(), t_first = 0;
        if (!full(c[0], b, size, 0) || !full(c[1], b, size, 0))
            return 1;
        for (int got = 0; got < 2;) {
            struct epoll_event e[2];
            int m = epoll_wait(ep, e, 2, -1);
            for (int j = 0; j < m; j++) {
                if (!full(c[e[j].data.u32], b, size, 1))
                    return 1;
                if (got++ == 0)
                    t_first = now_ns();
            }
        }
        if (i >= warmup) {
            both[i - warmup] = now_ns() - t0;
            first[i - warmup] = t_first - t0;
        }
    }
    qsort(both, (size_t)n, sizeof *both, cmp_ll);
    qsort(first, (size_t)n, sizeof *first, cmp_ll);
    printf("first_p50_us=%.1f both_p50_us=%.1f\n", first[n / 2] / 1e3,
           both[n / 2] / 1e3);
    close(c[0]);
    close(c[1]);
    while (wait(NULL) > 0)
        ;
    return 0;
}
