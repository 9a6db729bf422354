/*
 * replicas.c - starts vsmrd on the backup host (through the ssh command,
 * detached, pid in a file) and on this host (a child that inherits the
 * domain lock), waits until the primary's control socket reports both
 * peers connected, and turns each way of failing into one sentence:
 * vsmrd's own fatal reason from its log, a refused cluster key, a peer
 * that never came. Stopping is SIGTERM, then SIGKILL after 10 s.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/err.h"
#include "xlvsmr.h"

#define REMOTE_CHECK_MS 2000

/* vsmrd's reason for stopping, from its log: the last event=fatal line's
 * reason, or a "vsmrd: ..." line (configuration errors). */
static void fatal_reason(const char *text, char *buf, size_t len)
{
    buf[0] = '\0';
    for (const char *l = text; l && *l;) {
        const char *e = strchr(l, '\n');
        size_t n = e ? (size_t)(e - l) : strlen(l);
        char line[1024];
        snprintf(line, sizeof line, "%.*s", (int)n, l);
        const char *r = strstr(line, "reason=\"");
        if (strstr(line, "event=fatal") && r) {
            snprintf(buf, len, "%s", r + 8);
            buf[strcspn(buf, "\"")] = '\0';
        } else if (!strncmp(line, "vsmrd: ", 7)) {
            snprintf(buf, len, "%.*s", (int)len - 1, line + 7);
        }
        l = e ? e + 1 : NULL;
    }
}

static void file_text(const char *path, char *buf, size_t len)
{
    buf[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    off_t size = lseek(fd, 0, SEEK_END);
    off_t from = size > (off_t)len - 1 ? size - (off_t)len + 1 : 0;
    ssize_t n = pread(fd, buf, len - 1, from);
    buf[n > 0 ? n : 0] = '\0';
    close(fd);
}

static const char *vsmrd_path(void)
{
    static char path[4096];
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            if (snprintf(path, sizeof path, "%s/vsmrd", self) <
                    (int)sizeof path && access(path, X_OK) == 0)
                return path;
        }
    }
    return "vsmrd";
}

/* A side's configuration text and the paths of its file and log. */
struct side_files {
    char conf[4096], cpath[256], log[256];
};

static int side_files(const struct xlv_opts *o, const struct xlv_domain *d,
                      const struct xlv_plan *p, enum xlv_side side,
                      uint32_t domid, struct side_files *f)
{
    xlv_side_path(p, side, "conf", f->cpath, sizeof f->cpath);
    xlv_side_path(p, side, "log", f->log, sizeof f->log);
    return xlv_conf_write(o, d, p, side, domid, f->conf, sizeof f->conf);
}

static int start_remote(const struct xlv_opts *o, const struct xlv_domain *d,
                        const struct xlv_plan *p, struct xlv_replicas *r)
{
    char script[2048], out[2048], pid[256];
    struct side_files f;
    int rc = side_files(o, d, p, XLV_BACKUP, p->backup_domid, &f);
    if (rc < 0)
        return rc;
    const char *cpath = f.cpath, *log = f.log, *conf = f.conf;
    xlv_side_path(p, XLV_BACKUP, "pid", pid, sizeof pid);
    /* No --bootstrap: the new backup votes only once it has caught up.
     * A witness kept from an earlier protection of this domain holds that
     * log; with a backup voting at once, a fresh primary and backup could
     * elect a new log past the witness's commits, and the witness's
     * answers would no longer fit the next leader's log. */
    snprintf(script, sizeof script,
             "umask 077; mkdir -p %s && rm -rf %s/backup && cat > %s && "
             "rm -f %s && { setsid vsmrd --config %s </dev/null "
             ">>%s 2>&1 & echo $! > %s; echo started $!; }",
             p->data, p->data, cpath, log, cpath, log, pid);
    rc = xlv_run_remote(o, script, conf, strlen(conf), 30, out, sizeof out);
    if (rc == 0 && strstr(out, "started")) {
        r->remote_started = true;
        return VSMR_OK;
    }
    out[strcspn(out, "\n")] = '\0';
    if (rc < 0)
        return xlv_wrap(rc, "starting vsmrd on the backup host");
    return vsmr_fail(VSMR_ESYS, "starting vsmrd on the backup host %s failed "
                     "(exit %d): %s", o->backup_host, rc, out);
}

static int start_local(const struct xlv_opts *o, const struct xlv_domain *d,
                       const struct xlv_plan *p, int lock_fd,
                       struct xlv_replicas *r)
{
    char data[512];
    static struct side_files sf;    /* the child execs with sf.cpath */
    int rc = side_files(o, d, p, XLV_PRIMARY, d->domid, &sf);
    if (rc < 0)
        return rc;
    const char *cpath = sf.cpath, *log = sf.log, *conf = sf.conf;
    if (snprintf(data, sizeof data, "rm -rf %s/primary; mkdir -p -m 700 %s",
                 p->data, p->data) >= (int)sizeof data || system(data) != 0)
        return vsmr_fail(VSMR_ESYS, "cannot prepare %s", p->data);
    FILE *f = fopen(cpath, "w");
    if (!f || fputs(conf, f) == EOF || fclose(f) == EOF)
        return vsmr_fail_errno(VSMR_ESYS, "cannot write %s", cpath);
    unlink(log);
    int logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (logfd < 0)
        return vsmr_fail_errno(VSMR_ESYS, "cannot open %s", log);
    const char *bin = vsmrd_path();
    pid_t pid = fork();
    if (pid < 0) {
        close(logfd);
        return vsmr_fail_errno(VSMR_ESYS, "fork");
    }
    if (pid == 0) {
        setsid();
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        int nul = open("/dev/null", O_RDONLY);
        dup2(nul, 0);
        dup2(logfd, 1);
        dup2(logfd, 2);
        /* The lock fd stays open across exec: vsmrd holds the lock. */
        fcntl(lock_fd, F_SETFD, 0);
        execl(bin, "vsmrd", "--config", cpath, "--bootstrap", (char *)NULL);
        dprintf(2, "vsmrd: cannot run %s: %s\n", bin, strerror(errno));
        _exit(127);
    }
    close(logfd);
    r->local_pid = pid;
    /* The lock names who to signal: vsmrd, or a foreground xl vsmr -e
     * (which then tears everything down itself). */
    if (!o->foreground)
        xlv_lock_set_pid(lock_fd, pid);
    return VSMR_OK;
}

/* Is the backup's vsmrd still running? If not, why it stopped. */
static bool remote_alive(const struct xlv_opts *o, const struct xlv_plan *p,
                         char *why, size_t len)
{
    char script[1024], out[8192], log[256], pid[256];
    xlv_side_path(p, XLV_BACKUP, "log", log, sizeof log);
    xlv_side_path(p, XLV_BACKUP, "pid", pid, sizeof pid);
    snprintf(script, sizeof script, "if kill -0 \"$(cat %s)\" 2>/dev/null; "
             "then echo vsmrd-alive; else echo vsmrd-gone; tail -c 4000 %s; "
             "fi", pid, log);
    int rc = xlv_run_remote(o, script, NULL, 0, 15, out, sizeof out);
    /* Only the remote shell's own word counts as gone: an ssh that failed
     * (a connect timeout on a loaded host; a CI run gave up on a running
     * backup that way) is unknown, and unknown counts as alive: the wait
     * and its timeout decide. */
    if (rc < 0 || !strstr(out, "vsmrd-gone"))
        return true;
    fatal_reason(out, why, len);
    if (!why[0])
        snprintf(why, len, "it exited; see %s there", log);
    return false;
}

struct peer_view {
    bool connected;
    unsigned long long auth_failures;
    unsigned long long committed_epoch;   /* v[0]: the primary's syncs */
    char last_reason[160];                /* v[0]: of the last abort */
};

static void read_status(const struct xlv_plan *p, struct peer_view v[4])
{
    char sock[256], out[8192];
    xlv_side_path(p, XLV_PRIMARY, "sock", sock, sizeof sock);
    memset(v, 0, 4 * sizeof v[0]);
    if (xlv_control_query(sock, "status", out, sizeof out) < 0)
        return;
    for (char *l = strtok(out, "\n"); l; l = strtok(NULL, "\n")) {
        char id[8], conn[8], af[24], ep[24];
        if (!strncmp(l, "sync ", 5)) {
            xlv_kv(l, "committed_epoch", ep, sizeof ep);
            v[0].committed_epoch = strtoull(ep, NULL, 10);
            xlv_kv(l, "last_reason", v[0].last_reason,
                   sizeof v[0].last_reason);
            continue;
        }
        xlv_kv(l, "peer", id, sizeof id);
        if (!id[0] || atoi(id) < 1 || atoi(id) > 3)
            continue;
        xlv_kv(l, "connected", conn, sizeof conn);
        xlv_kv(l, "auth_failures", af, sizeof af);
        v[atoi(id)].connected = !strcmp(conn, "yes");
        v[atoi(id)].auth_failures = strtoull(af, NULL, 10);
    }
}

/* The reason of the last auth_refused line in the primary's log. */
static void auth_reason(const struct xlv_plan *p, char *buf, size_t len)
{
    char log[256], text[16384];
    xlv_side_path(p, XLV_PRIMARY, "log", log, sizeof log);
    file_text(log, text, sizeof text);
    buf[0] = '\0';
    for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n")) {
        char *r = strstr(l, "reason=\"");
        if (strstr(l, "event=auth_refused") && r) {
            snprintf(buf, len, "%s", r + 8);
            buf[strcspn(buf, "\"")] = '\0';
        }
    }
}

/* Waits until the backup and the witness are connected or, with
 * want_sync, until the first sync committed: only then does the backup
 * hold the guest's state, and only then is the guest protected. */
static int wait_replicas(const struct xlv_opts *o, const struct xlv_plan *p,
                         struct xlv_replicas *r, bool want_sync)
{
    int64_t end = xlv_now_ms() + (int64_t)o->timeout_s * 1000;
    int64_t next_remote = xlv_now_ms() + 500;
    struct peer_view v[4];
    char why[512], log[256], text[16384];
    xlv_side_path(p, XLV_PRIMARY, "log", log, sizeof log);
    while (!xlv_interrupted) {
        int st;
        if (waitpid(r->local_pid, &st, WNOHANG) == r->local_pid) {
            r->local_pid = 0;
            file_text(log, text, sizeof text);
            fatal_reason(text, why, sizeof why);
            return vsmr_fail(VSMR_ESTATE, "vsmrd on this host stopped: %s "
                             "(log: %s)", why[0] ? why : "no reason logged",
                             log);
        }
        if (xlv_now_ms() >= next_remote) {
            if (!remote_alive(o, p, why, sizeof why)) {
                r->remote_started = false;
                return vsmr_fail(VSMR_ESTATE, "vsmrd on the backup host %s "
                                 "stopped: %s", o->backup_host, why);
            }
            next_remote = xlv_now_ms() + REMOTE_CHECK_MS;
        }
        read_status(p, v);
        if (want_sync ? v[0].committed_epoch >= 1
                      : v[2].connected && v[3].connected)
            return VSMR_OK;
        if (xlv_now_ms() >= end)
            break;
        usleep(200 * 1000);
    }
    if (xlv_interrupted)
        return vsmr_fail(VSMR_ECLOSED, "interrupted");
    if (want_sync)
        return vsmr_fail(VSMR_ETIMEDOUT, "the first sync (a full comparison "
                         "of both domains) did not commit within %u s%s%s "
                         "(see %s)", o->timeout_s,
                         v[0].last_reason[0] ? "; last abort: " : "",
                         v[0].last_reason, log);
    static const char *const who[] = {"", "", "backup", "witness"};
    for (int id = 2; id <= 3; id++) {
        if (v[id].connected)
            continue;
        const char *addr = id == 2 ? p->backup : p->witness;
        if (v[id].auth_failures) {
            auth_reason(p, why, sizeof why);
            return vsmr_fail(VSMR_EAUTH, "the %s (%s) refused our cluster key "
                             "(%llu refused handshakes%s%s): %s must hold the "
                             "same 32 bytes on every host", who[id], addr,
                             v[id].auth_failures, why[0] ? ": " : "", why,
                             o->key_file);
        }
        return vsmr_fail(VSMR_ETIMEDOUT, "the %s replica (%s) did not connect "
                         "within %u s (is the port open? see %s)", who[id],
                         addr, o->timeout_s, log);
    }
    return vsmr_fail(VSMR_ETIMEDOUT, "the replicas did not connect within "
                     "%u s", o->timeout_s);
}

int xlv_replicas_start(const struct xlv_opts *o, const struct xlv_domain *d,
                       struct xlv_plan *p, int lock_fd,
                       struct xlv_replicas *r)
{
    int rc = start_remote(o, d, p, r);
    if (rc == VSMR_OK)
        rc = start_local(o, d, p, lock_fd, r);
    if (rc == VSMR_OK)
        rc = wait_replicas(o, p, r, false);
    if (rc == VSMR_OK) {
        xlv_say("replicas connected; waiting for the first sync");
        rc = wait_replicas(o, p, r, true);
    }
    return rc;
}

static bool is_vsmrd(pid_t pid)
{
    char path[64], comm[32] = "";
    snprintf(path, sizeof path, "/proc/%ld/comm", (long)pid);
    FILE *f = fopen(path, "r");
    if (f) {
        if (!fgets(comm, sizeof comm, f))
            comm[0] = '\0';
        fclose(f);
    }
    return !strncmp(comm, "vsmrd", 5);
}

static void stop_local(pid_t pid)
{
    /* The pid may be stale (xl vsmr stop after vsmrd died): only vsmrd. */
    if (pid <= 0 || !is_vsmrd(pid) || kill(pid, SIGTERM) < 0)
        return;
    for (int i = 0; i < 100; i++) {
        /* Our child: reap it; else (xl vsmr stop): watch it go. */
        pid_t w = waitpid(pid, NULL, WNOHANG);
        if (w == pid || (w < 0 && kill(pid, 0) < 0))
            return;
        usleep(100 * 1000);
    }
    xlv_say("vsmrd (pid %ld) did not stop within 10 s; killing it",
            (long)pid);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

void xlv_replicas_stop(const struct xlv_opts *o, const struct xlv_plan *p,
                       struct xlv_replicas *r)
{
    stop_local(r->local_pid);
    r->local_pid = 0;
    char script[1024], out[1024], pid[256];
    xlv_side_path(p, XLV_BACKUP, "pid", pid, sizeof pid);
    /* Only a process that is vsmrd (a pid file can outlive its process). */
    snprintf(script, sizeof script,
             "p=$(cat %s 2>/dev/null) || exit 0; "
             "if [ \"$(cat /proc/$p/comm 2>/dev/null)\" = vsmrd ]; then "
             "kill $p; for i in $(seq 1 50); do kill -0 $p 2>/dev/null || "
             "break; sleep 0.2; done; kill -9 $p 2>/dev/null; fi; rm -f %s",
             pid, pid);
    int rc = xlv_run_remote(o, script, NULL, 0, 30, out, sizeof out);
    if (rc != 0)
        xlv_say("could not stop vsmrd on the backup host %s (exit %d): stop "
                "it there (pid in %s)", o->backup_host, rc, pid);
    r->remote_started = false;
}
