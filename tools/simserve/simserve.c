/*
 * simserve.c - vsmr-simserve: the sim guest's service with no replication
 * at all, the "unprotected" baseline of the benchmarks. Same client
 * protocol as vsmrd's client_listen (docs/operator-guide.md), one thread,
 * poll(): requests go straight to the guest, responses straight back.
 *
 *   vsmr-simserve --listen ADDR:PORT [--guest pages=N,workers=W]
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/bytes.h"
#include "transport/transport.h"
#include "vsmr/guest.h"
#include "vsmr/sim.h"

#define MAX_CONNS 64
#define MAX_FRAME 4096u
#define SLOTS 65536u

struct conn {
    int fd;
    uint32_t gen;
    uint8_t in[4 + MAX_FRAME];
    size_t in_len;
};

struct pending { uint16_t conn; uint32_t gen, client_id; };

static struct conn conns[MAX_CONNS];
static struct pending pend[SLOTS];
static uint32_t next_tag;
static volatile sig_atomic_t stop;

static void drop(struct conn *c)
{
    close(c->fd);
    c->fd = -1;
    c->gen++;
    c->in_len = 0;
}

static int serve_input(vsmr_guest *g, struct conn *c)
{
    ssize_t n = read(c->fd, c->in + c->in_len, sizeof c->in - c->in_len);
    if (n <= 0)
        return n < 0 && errno == EINTR ? 0 : -1;
    c->in_len += (size_t)n;
    size_t pos = 0;
    while (c->in_len - pos >= 4) {
        uint32_t len = get_le32(c->in + pos);
        if (len < 12 || len > MAX_FRAME)
            return -1;
        if (c->in_len - pos - 4 < len)
            break;
        uint8_t *req = c->in + pos + 4;
        uint32_t tag = next_tag++ % SLOTS;
        pend[tag] = (struct pending){(uint16_t)(c - conns), c->gen, get_le32(req)};
        put_le32(req, tag);
        if (vsmr_sim_send(g, req, len) < 0)
            return -1;
        pos += 4 + len;
    }
    memmove(c->in, c->in + pos, c->in_len - pos);
    c->in_len -= pos;
    return 0;
}

static void send_responses(vsmr_guest *g)
{
    uint8_t msg[4 + VSMR_SIM_MAX_MSG];
    size_t len;
    while (vsmr_sim_recv(g, msg + 4, sizeof msg - 4, &len, 0) == VSMR_OK) {
        struct pending *p = &pend[get_le32(msg + 4) % SLOTS];
        struct conn *c = &conns[p->conn];
        if (c->fd < 0 || c->gen != p->gen)
            continue;
        put_le32(msg, (uint32_t)len);
        put_le32(msg + 4, p->client_id);
        /* Blocking write: the baseline keeps it simple. */
        if (write(c->fd, msg, 4 + len) != (ssize_t)(4 + len))
            drop(c);
    }
}

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int run(int lfd, vsmr_guest *g)
{
    struct pollfd pfd[MAX_CONNS + 2];
    while (!stop) {
        int n = 0;
        pfd[n++] = (struct pollfd){.fd = lfd, .events = POLLIN};
        pfd[n++] = (struct pollfd){.fd = vsmr_sim_fd(g), .events = POLLIN};
        for (int i = 0; i < MAX_CONNS; i++)
            pfd[n++] = (struct pollfd){.fd = conns[i].fd, .events = POLLIN};
        if (poll(pfd, (nfds_t)n, 100) < 0 && errno != EINTR)
            return 1;
        if (pfd[0].revents & POLLIN) {
            int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
            int i = 0;
            while (fd >= 0 && i < MAX_CONNS && conns[i].fd >= 0)
                i++;
            if (fd >= 0 && i < MAX_CONNS)
                conns[i].fd = fd;
            else if (fd >= 0)
                close(fd);
        }
        for (int i = 0; i < MAX_CONNS; i++)
            if (conns[i].fd >= 0 && (pfd[i + 2].revents & (POLLIN | POLLHUP)) &&
                serve_input(g, &conns[i]) < 0)
                drop(&conns[i]);
        send_responses(g);
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *listen_at = NULL, *guest = "pages=16384,workers=4";
    static const struct option opts[] = {
        {"listen", 1, NULL, 'l'}, {"guest", 1, NULL, 'g'}, {NULL, 0, NULL, 0}};
    for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
        if (c == 'l') listen_at = optarg;
        else if (c == 'g') guest = optarg;
        else return 2;
    }
    struct sockaddr_storage addr;
    socklen_t alen;
    if (!listen_at || vsmr_parse_addr(listen_at, &addr, &alen) < 0) {
        fprintf(stderr, "usage: vsmr-simserve --listen ADDR:PORT [--guest "
                        "pages=N,workers=W]%s%s\n", listen_at ? ": " : "",
                listen_at ? vsmr_errmsg() : "");
        return 2;
    }
    vsmr_guest *g;
    if (vsmr_guest_open("sim", guest, &g) < 0) {
        fprintf(stderr, "vsmr-simserve: %s\n", vsmr_errmsg());
        return 1;
    }
    int one = 1, lfd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, alen) < 0 ||
        listen(lfd, 64) < 0) {
        perror("vsmr-simserve: listen");
        return 1;
    }
    for (int i = 0; i < MAX_CONNS; i++)
        conns[i].fd = -1;
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);
    fprintf(stderr, "vsmr-simserve: serving %s on %s, no replication\n",
            guest, listen_at);
    int rc = run(lfd, g);
    vsmr_guest_close(g);
    return rc;
}
