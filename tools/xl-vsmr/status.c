/*
 * status.c - `xl vsmr status` (the primary vsmrd's control socket, shown
 * as role, epoch, the last sync's figures and peer health) and `xl vsmr
 * stop` (both replicas stopped, the backup copy destroyed, the domain
 * left running unprotected). The control protocol: one command line, a
 * reply ending with a line "ok..." or "error: ...".
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/err.h"
#include "xlvsmr.h"

int xlv_control_query(const char *sock, const char *cmd, char *out,
                      size_t len)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(sock) >= sizeof sa.sun_path)
        return vsmr_fail(VSMR_EINVAL, "socket path %s too long", sock);
    strcpy(sa.sun_path, sock);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return vsmr_fail_errno(VSMR_ESYS, "socket");
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int rc = vsmr_fail_errno(VSMR_ECLOSED, "cannot reach vsmrd at %s",
                                 sock);
        close(fd);
        return rc;
    }
    char line[256];
    int n = snprintf(line, sizeof line, "%s\n", cmd);
    int rc = send(fd, line, (size_t)n, MSG_NOSIGNAL) == n ? VSMR_OK
             : vsmr_fail_errno(VSMR_ECLOSED, "sending to %s", sock);
    size_t got = 0;
    out[0] = '\0';
    while (rc == VSMR_OK) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        if (poll(&pf, 1, 3000) <= 0) {
            rc = vsmr_fail(VSMR_ETIMEDOUT, "vsmrd at %s did not answer",
                           sock);
            break;
        }
        ssize_t r = recv(fd, out + got, len - 1 - got, 0);
        if (r <= 0) {
            rc = vsmr_fail(VSMR_ECLOSED, "vsmrd at %s closed the connection",
                           sock);
            break;
        }
        got += (size_t)r;
        out[got] = '\0';
        /* Done at a final "ok" or "error:" line. */
        char *last = got > 1 ? out + got - 1 : out;
        if (*last == '\n') {
            char *p = last;
            while (p > out && p[-1] != '\n')
                p--;
            if (!strncmp(p, "ok", 2))
                break;
            if (!strncmp(p, "error: ", 7)) {
                rc = vsmr_fail(VSMR_EPROTO, "vsmrd: %.*s", (int)(last - p - 7),
                               p + 7);
                break;
            }
        }
        if (got >= len - 1) {
            rc = vsmr_fail(VSMR_ERANGE, "vsmrd's answer is too long");
            break;
        }
    }
    close(fd);
    return rc;
}

void xlv_kv(const char *line, const char *key, char *val, size_t len)
{
    size_t k = strlen(key);
    val[0] = '\0';
    for (const char *p = line; (p = strstr(p, key)); p += k) {
        if ((p != line && p[-1] != ' ') || p[k] != '=')
            continue;
        const char *v = p + k + 1;
        size_t n = *v == '"' ? strcspn(++v, "\"") : strcspn(v, " \n");
        snprintf(val, len, "%.*s", (int)n, v);
        return;
    }
}

/* Which fields of vsmrd's status lines to show, and under what label. */
static const struct {
    const char *prefix, *label, *keys;
} views[] = {
    {"node=", "log", "role term leader commit"},
    {"peer=", "peer", "peer kind addr connected last_contact_ms connects "
                      "auth_failures"},
    {"guest ", "guest", "protected synced held_bytes"},
    {"sync ", "epochs", "epoch committed_epoch epochs aborted bytes_sent "
                        "bytes_raw ms_paused"},
    {"last_epoch ", "last sync", "epoch committed dirty_local divergent "
                                 "bytes_sent bytes_raw ms_paused ms_hash "
                                 "ms_transfer"},
};

static void show_line(const char *l)
{
    for (size_t i = 0; i < sizeof views / sizeof views[0]; i++) {
        if (strncmp(l, views[i].prefix, strlen(views[i].prefix)))
            continue;
        printf("  %-10s", views[i].label);
        char keys[160];
        snprintf(keys, sizeof keys, "%s", views[i].keys);
        char *save;
        for (char *k = strtok_r(keys, " ", &save); k;
             k = strtok_r(NULL, " ", &save)) {
            char v[96];
            xlv_kv(l, k, v, sizeof v);
            printf(" %s=%s", k, v[0] ? v : "-");
        }
        printf("\n");
        return;
    }
}

static int show_one(const struct xlv_state *s)
{
    char sock[256], out[16384];
    snprintf(sock, sizeof sock, "%s/primary.sock", s->dir);
    printf("domain %s (%s): backup %s as %s, vsmrd pid %ld\n", s->name,
           s->uuid, s->host, s->backup_name, (long)s->local_pid);
    if (xlv_control_query(sock, "status", out, sizeof out) < 0) {
        printf("  not running: %s\n  (clean up with: %s stop %s)\n",
               vsmr_errmsg(), xlv_prog, s->name);
        return XLV_EXIT_FAIL;
    }
    for (char *l = strtok(out, "\n"); l; l = strtok(NULL, "\n"))
        show_line(l);
    return XLV_EXIT_OK;
}

int xlv_cmd_status(const struct xlv_opts *o)
{
    struct xlv_state s;
    if (o->domain) {
        if (xlv_state_load(o->domain, &s) < 0) {
            fprintf(stderr, "%s: %s\n", xlv_prog, vsmr_errmsg());
            return XLV_EXIT_FAIL;
        }
        return show_one(&s);
    }
    int rc = XLV_EXIT_OK, n = 0;
    while (xlv_state_find(NULL, n, &s) == VSMR_OK) {
        if (show_one(&s) != XLV_EXIT_OK)
            rc = XLV_EXIT_FAIL;
        n++;
    }
    if (n == 0)
        printf("no domain is protected by xl vsmr on this host\n");
    return rc;
}

int xlv_cmd_stop(const struct xlv_opts *o)
{
    struct xlv_state s;
    if (xlv_state_load(o->domain, &s) < 0) {
        fprintf(stderr, "%s: %s\n", xlv_prog, vsmr_errmsg());
        return XLV_EXIT_FAIL;
    }
    struct xlv_opts ro = *o;
    ro.backup_host = s.host;
    ro.ssh = s.ssh;
    struct xlv_plan p = {0};
    snprintf(p.dir, sizeof p.dir, "%s", s.dir);
    snprintf(p.data, sizeof p.data, "%s", s.data);
    snprintf(p.backup_name, sizeof p.backup_name, "%s", s.backup_name);
    /* A foreground xl vsmr -e holding the lock tears down on SIGTERM. */
    pid_t holder = xlv_lock_holder(s.uuid);
    if (holder > 0 && holder != s.local_pid && kill(holder, SIGTERM) == 0) {
        for (int i = 0; i < 300 && xlv_lock_holder(s.uuid) == holder; i++)
            usleep(100 * 1000);
    }
    struct xlv_replicas r = {.local_pid = s.local_pid};
    xlv_replicas_stop(&ro, &p, &r);
    xlv_copy_destroy(&ro, &p);
    xlv_state_remove(s.dir);
    printf("domain %s is no longer protected (it keeps running)\n", s.name);
    return XLV_EXIT_OK;
}
