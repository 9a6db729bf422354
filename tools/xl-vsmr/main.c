/*
 * main.c - xl-vsmr (`xl vsmr`, also installed as vsmr-xl): protects a
 * running Xen domain with a backup host and a witness. The sequence, each
 * step failing with one sentence naming its cause: options, cluster key,
 * the domain, the per-domain lock, the backup host and the witness, the
 * initial copy, the replicas. On any failure everything done so far is
 * undone in reverse, and the domain is left running, unpaused,
 * unprotected. Exit: 0 ok, 1 runtime error, 2 usage.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "common/err.h"
#include "xlvsmr.h"

const char *xlv_prog = "xl-vsmr";
volatile int xlv_interrupted;

int64_t xlv_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void xlv_say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s: ", xlv_prog);
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
    va_end(ap);
}

int xlv_wrap(int code, const char *prefix)
{
    char msg[512];
    snprintf(msg, sizeof msg, "%s", vsmr_errmsg());
    return vsmr_fail(code, "%s: %s", prefix, msg);
}

static int fail(const char *what)
{
    fprintf(stderr, "%s: %s%s%s\n", xlv_prog, what ? what : "",
            what ? ": " : "", vsmr_errmsg());
    return XLV_EXIT_FAIL;
}

static void on_signal(int sig)
{
    xlv_interrupted = 1;
}

static void catch_signals(void)
{
    struct sigaction sa = {.sa_handler = on_signal};   /* no SA_RESTART */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* Domain names go into commands on the backup host: keep them plain. */
static bool plain_name(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || strchr("._-+", *s)))
            return false;
    return true;
}

struct run {
    const struct xlv_opts *o;
    struct xlv_domain d;
    struct xlv_plan p;
    struct xlv_replicas r;
    int lock_fd;
    bool copied;                   /* a backup copy may exist */
};

/* Undoes whatever was done, in reverse; the domain keeps running. */
static void undo(struct run *u)
{
    if (u->r.local_pid > 0 || u->r.remote_started) {
        xlv_say("stopping the replicas");
        xlv_replicas_stop(u->o, &u->p, &u->r);
    }
    if (u->copied)
        xlv_copy_destroy(u->o, &u->p);
    if (u->p.dir[0])
        xlv_state_remove(u->p.dir);
    xlv_domain_ensure_running(&u->d);
    xlv_lock_release(u->d.uuid, u->lock_fd);
    u->lock_fd = -1;
}

static int check_domain(struct run *u)
{
    int rc = xlv_domain_check(u->o->domain, &u->d);
    if (rc == VSMR_ENOTSUP && strstr(vsmr_errmsg(), " is PV"))
        return fail("PV guests are not supported yet (only PVH and HVM)");
    if (rc < 0)
        return fail(NULL);
    if (!plain_name(u->d.name)) {
        vsmr_fail(VSMR_EINVAL, "domain name '%s' has characters other than "
                  "letters, digits and ._-+ (rename it with xl rename)",
                  u->d.name);
        return fail(NULL);
    }
    snprintf(u->p.dir, sizeof u->p.dir, "%s/%s", XLV_RUN_DIR, u->d.uuid);
    snprintf(u->p.data, sizeof u->p.data, "%s/%s", XLV_DATA_DIR, u->d.uuid);
    snprintf(u->p.backup_name, sizeof u->p.backup_name, "%s%s", u->d.name,
             XLV_BACKUP_SUFFIX);
    return XLV_EXIT_OK;
}

/* -e: stay, print a line now and then, stop on ^C or when vsmrd stops. */
static int foreground(struct run *u)
{
    char sock[256], out[16384], log[256];
    xlv_side_path(&u->p, XLV_PRIMARY, "sock", sock, sizeof sock);
    xlv_side_path(&u->p, XLV_PRIMARY, "log", log, sizeof log);
    xlv_say("staying in the foreground; ^C stops protecting %s", u->d.name);
    int rc = XLV_EXIT_OK;
    int64_t next = 0;
    while (!xlv_interrupted) {
        int st;
        if (waitpid(u->r.local_pid, &st, WNOHANG) == u->r.local_pid) {
            u->r.local_pid = 0;
            fprintf(stderr, "%s: vsmrd on this host stopped (see %s)\n",
                    xlv_prog, log);
            rc = XLV_EXIT_FAIL;
            break;
        }
        if (xlv_now_ms() >= next) {
            next = xlv_now_ms() + 5000;
            if (xlv_control_query(sock, "status", out, sizeof out) == 0) {
                char ep[32] = "-", b[32] = "-", w[32] = "-";
                for (char *l = strtok(out, "\n"); l; l = strtok(NULL, "\n")) {
                    if (!strncmp(l, "sync ", 5))
                        xlv_kv(l, "committed_epoch", ep, sizeof ep);
                    else if (!strncmp(l, "peer=2 ", 7))
                        xlv_kv(l, "connected", b, sizeof b);
                    else if (!strncmp(l, "peer=3 ", 7))
                        xlv_kv(l, "connected", w, sizeof w);
                }
                xlv_say("epoch %s, backup connected=%s, witness connected=%s",
                        ep, b, w);
            }
        }
        usleep(200 * 1000);
    }
    xlv_say("stopping protection of %s", u->d.name);
    undo(u);
    return rc;
}

static int protect(const struct xlv_opts *o)
{
    struct run u = {.o = o, .lock_fd = -1};
    if (xlv_key_check(o->key_file) < 0)
        return fail("cluster key");
    int rc = check_domain(&u);
    if (rc)
        return rc;
    /* From here on every failure goes through undo(). */
    if (xlv_lock_take(u.d.uuid, u.d.name, &u.lock_fd) < 0)
        return fail(NULL);
    const char *step = NULL;
    if (mkdir(u.p.dir, 0700) < 0 && access(u.p.dir, W_OK) < 0) {
        vsmr_fail_errno(VSMR_ESYS, "cannot create %s", u.p.dir);
    } else if (xlv_plan_addresses(o, &u.p) < 0 ||
               xlv_protection_id_draw(&u.p) < 0) {
        step = "addresses";
    } else if (xlv_say("checking the backup host %s", o->backup_host),
               xlv_reach_backup(o) < 0) {
        step = "backup host";
    } else if (xlv_say("checking the witness %s", u.p.witness),
               xlv_reach_witness(o, &u.p) < 0) {
        step = "witness";
    } else if ((u.copied = true), xlv_copy(o, &u.d, &u.p) < 0) {
        step = "initial copy";
    } else if (xlv_say("starting the replicas (primary %s, backup %s, "
                       "witness %s)", u.p.primary, u.p.backup, u.p.witness),
               xlv_replicas_start(o, &u.d, &u.p, u.lock_fd, &u.r) < 0) {
        step = "replicas";
    } else if (xlv_state_save(o, &u.d, &u.p, &u.r) < 0) {
        step = "state";
    } else {
        xlv_say("domain %s is protected: backup %s on %s, witness %s",
                u.d.name, u.p.backup_name, o->backup_host, u.p.witness);
        if (o->foreground)
            return foreground(&u);
        xlv_say("see: %s status %s; to stop: %s stop %s", xlv_prog,
                u.d.name, xlv_prog, u.d.name);
        return XLV_EXIT_OK;       /* vsmrd keeps the lock */
    }
    rc = fail(step);
    undo(&u);
    xlv_say("domain %s keeps running, unprotected", u.d.name);
    return rc;
}

static void set_prog(const char *argv0)
{
    const char *base = strrchr(argv0, '/');
    base = base ? base + 1 : argv0;
    /* The xl patch runs us with argv[0] = "xl vsmr". */
    if (!strcmp(base, "xl vsmr") || !strcmp(base, "vsmr-xl"))
        xlv_prog = base;
}

int main(int argc, char **argv)
{
    set_prog(argv[0]);
    struct xlv_opts o;
    char err[512];
    int rc = xlv_parse_args(argc, argv, &o, err, sizeof err);
    if (rc) {
        fprintf(stderr, "%s: %s\n", xlv_prog, err);
        fprintf(stderr, "usage: %s [options] <Domain> <backup-host>  (-h "
                "for help)\n", xlv_prog);
        return XLV_EXIT_USAGE;
    }
    if (o.cmd == XLV_HELP) {
        xlv_usage(xlv_prog, 0);
        return XLV_EXIT_OK;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "%s: libsodium failed to initialise\n", xlv_prog);
        return XLV_EXIT_FAIL;
    }
    catch_signals();
    switch (o.cmd) {
    case XLV_STATUS: return xlv_cmd_status(&o);
    case XLV_STOP: return xlv_cmd_stop(&o);
    default: return protect(&o);
    }
}
