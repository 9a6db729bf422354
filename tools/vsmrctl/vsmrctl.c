/*
 * vsmrctl.c - command-line client of vsmrd's control socket, for shell
 * scripts and tests: sends one command line and prints the reply; exits 0
 * on "ok", 1 on "error: ...", 2 on usage or connection problems.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tcp_rtt.h"

#define MAX_COMMAND 200000

static void usage(FILE *f)
{
    fprintf(f, "usage: vsmrctl -s SOCKET [-t SECONDS] COMMAND [ARG...]\n"
               "       vsmrctl -s SOCKET -   send stdin as is (tests)\n"
               "       vsmrctl tcp-rtt [COUNT [SIZE]]   TCP ping-pong RTT "
               "between two processes\n"
               "commands: status, propose TEXT, propose-hex HEX,\n"
               "          propose-batch COUNT SIZE [TAG], log FROM COUNT,\n"
               "          bench COUNT SIZE WINDOW, ping, help\n");
}

static int connect_to(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path) {
        fprintf(stderr, "vsmrctl: socket path too long\n");
        return -1;
    }
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        fprintf(stderr, "vsmrctl: cannot connect to %s: %s\n", path,
                strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Prints reply lines until the final ok/error line; returns the exit
 * code. */
static int read_reply(int fd, int timeout_s)
{
    static char buf[1 << 20];
    size_t len = 0;
    for (;;) {
        char *nl;
        while ((nl = memchr(buf, '\n', len)) != NULL) {
            size_t ll = (size_t)(nl - buf) + 1;
            bool ok = ll >= 3 && !strncmp(buf, "ok", 2) &&
                      (buf[2] == '\n' || buf[2] == ' ');
            bool err = !strncmp(buf, "error: ", 7);
            fwrite(buf, 1, ll, err ? stderr : stdout);
            memmove(buf, buf + ll, len - ll);
            len -= ll;
            if (ok || err)
                return ok ? 0 : 1;
        }
        if (len == sizeof buf) {
            fprintf(stderr, "vsmrctl: reply line too long\n");
            return 2;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int r = poll(&pfd, 1, timeout_s * 1000);
        if (r == 0) {
            fprintf(stderr, "vsmrctl: no reply within %d s\n", timeout_s);
            return 2;
        }
        ssize_t n = r < 0 ? -1 : read(fd, buf + len, sizeof buf - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            fprintf(stderr, "vsmrctl: connection closed before a reply\n");
            return 2;
        }
        len += (size_t)n;
    }
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "tcp-rtt"))
        return tcp_rtt_main(argc - 1, argv + 1);
    const char *sock = NULL;
    int timeout_s = 30, ch;
    while ((ch = getopt(argc, argv, "+s:t:h")) != -1) {
        switch (ch) {
        case 's': sock = optarg; break;
        case 't': timeout_s = atoi(optarg); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!sock || optind >= argc || timeout_s < 1) {
        usage(stderr);
        return 2;
    }
    static char line[MAX_COMMAND + 2];
    size_t len = 0;
    if (!strcmp(argv[optind], "-")) {   /* raw bytes from stdin, for tests */
        len = fread(line, 1, MAX_COMMAND, stdin);
        goto send;
    }
    for (int i = optind; i < argc; i++) {
        size_t n = strlen(argv[i]);
        if (len + n + 2 > MAX_COMMAND) {
            fprintf(stderr, "vsmrctl: command too long\n");
            return 2;
        }
        if (i > optind)
            line[len++] = ' ';
        memcpy(line + len, argv[i], n);
        len += n;
    }
    line[len++] = '\n';
send:;
    int fd = connect_to(sock);
    if (fd < 0)
        return 2;
    int rc = send_all(fd, line, len) < 0 ? 2 : read_reply(fd, timeout_s);
    close(fd);
    return rc;
}
