/*
 * copy.c - the initial full copy: `xl save -c` of the running domain into
 * a pipe, through xl-vsmr (which renames the copy, gives it a new UUID,
 * puts its vifs on the backup host's isolated bridge, remembers the first
 * vif's own bridge for a failover, and counts bytes for the progress bar), through the ssh command into `xl restore` on the
 * backup host. xl save -c resumes the domain itself; nothing here pauses
 * it, and any failure only closes pipes (xl save then sees EPIPE and
 * resumes the domain).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxl.h>
#include <libxl_utils.h>
#include <xentoollog.h>

#include "common/err.h"
#include "xlvsmr.h"

#define COPY_IDLE_MS    120000     /* no byte moved this long: give up */
#define COPY_SAVE_S     120        /* xl save's exit after the stream */
#define COPY_RESTORE_S  600        /* xl restore's exit after the stream */
#define CONFIG_MAX      (1u << 20)

/* xl's save file header: magic, then 4 u32 in the host's byte order, then
 * optional data: u32 config length + the config (JSON with flag 1). */
struct save_header {
    char magic[32];
    uint32_t byteorder, mandatory, optional, optlen;
};
#define SAVE_BYTEORDER 0x01020304u
#define SAVE_FLAG_JSON 1u

static int read_full(int fd, void *buf, size_t n, const char *what)
{
    char *p = buf;
    while (n > 0) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        int r = poll(&pf, 1, COPY_IDLE_MS);
        if (r < 0 && errno == EINTR && !xlv_interrupted)
            continue;
        if (xlv_interrupted)
            return vsmr_fail(VSMR_ECLOSED, "interrupted");
        if (r == 0)
            return vsmr_fail(VSMR_ETIMEDOUT, "xl save sent nothing for %d s "
                             "(%s)", COPY_IDLE_MS / 1000, what);
        ssize_t got = read(fd, p, n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return vsmr_fail_errno(VSMR_EIO, "reading xl save's stream");
        if (got == 0)
            return vsmr_fail(VSMR_ECLOSED, "xl save's stream ended early "
                             "(%s)", what);
        p += got;
        n -= (size_t)got;
    }
    return VSMR_OK;
}

static int write_full(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EAGAIN) {
            struct pollfd pf = {.fd = fd, .events = POLLOUT};
            int r = poll(&pf, 1, COPY_IDLE_MS);
            if (xlv_interrupted)
                return vsmr_fail(VSMR_ECLOSED, "interrupted");
            if (r == 0)
                return vsmr_fail(VSMR_ETIMEDOUT, "the backup host took no "
                                 "data for %d s", COPY_IDLE_MS / 1000);
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return vsmr_fail_errno(VSMR_ECLOSED, "sending to the backup "
                                   "host (xl restore there stopped?)");
        p += w;
        n -= (size_t)w;
    }
    return VSMR_OK;
}

/* The saved config with the backup's name, a new UUID and its bridge;
 * the first nic's own bridge goes into the plan (guest_bridge). */
static int rewrite_config(const char *json, struct xlv_plan *p,
                          const char *bridge, char **out)
{
    xentoollog_logger_stdiostream *lg =
        xtl_createlogger_stdiostream(stderr, XTL_ERROR, 0);
    libxl_ctx *ctx = NULL;
    if (!lg || libxl_ctx_alloc(&ctx, LIBXL_VERSION, 0,
                               (xentoollog_logger *)lg)) {
        if (lg)
            xtl_logger_destroy((xentoollog_logger *)lg);
        return vsmr_fail(VSMR_ESYS, "cannot open libxl");
    }
    libxl_domain_config dc;
    libxl_domain_config_init(&dc);
    int rc = VSMR_OK;
    if (libxl_domain_config_from_json(ctx, &dc, json)) {
        rc = vsmr_fail(VSMR_EPROTO, "xl save's domain configuration is not "
                       "JSON libxl reads");
    } else {
        p->guest_bridge[0] = '\0';
        if (dc.num_nics > 0)
            rc = xlv_plan_guest_bridge(p, dc.nics[0].bridge);
        free(dc.c_info.name);
        dc.c_info.name = strdup(p->backup_name);
        libxl_uuid_generate(&dc.c_info.uuid);
        for (int i = 0; i < dc.num_nics; i++) {
            free(dc.nics[i].bridge);
            dc.nics[i].bridge = strdup(bridge);
        }
        *out = rc < 0 ? NULL : libxl_domain_config_to_json(ctx, &dc);
        if (rc == VSMR_OK && (!*out || !dc.c_info.name))
            rc = vsmr_fail(VSMR_ENOMEM, "rewriting the domain configuration");
    }
    libxl_domain_config_dispose(&dc);
    libxl_ctx_free(ctx);
    xtl_logger_destroy((xentoollog_logger *)lg);
    return rc;
}

/* Reads xl save's header from in, writes the rewritten one to out. */
static int relay_header(int in, int out, struct xlv_plan *p,
                        const char *bridge, uint64_t *moved)
{
    struct save_header h;
    int rc = read_full(in, &h, sizeof h, "header");
    if (rc < 0)
        return rc;
    if (h.byteorder != SAVE_BYTEORDER || !(h.mandatory & SAVE_FLAG_JSON) ||
        h.optlen < 4 || h.optlen > CONFIG_MAX)
        return vsmr_fail(VSMR_EPROTO, "xl save wrote a header this xl-vsmr "
                         "does not know (flags 0x%x, %u bytes of options)",
                         h.mandatory, h.optlen);
    char *opt = malloc(h.optlen + 1);
    if (!opt)
        return vsmr_fail(VSMR_ENOMEM, "header");
    rc = read_full(in, opt, h.optlen, "configuration");
    uint32_t clen = 0;
    if (rc == VSMR_OK) {
        memcpy(&clen, opt, 4);
        if (clen < 2 || clen > h.optlen - 4 || opt[4 + clen - 1] != '\0')
            rc = vsmr_fail(VSMR_EPROTO, "xl save's configuration record is "
                           "malformed (%u bytes)", clen);
    }
    char *json = NULL;
    if (rc == VSMR_OK)
        rc = rewrite_config(opt + 4, p, bridge, &json);
    if (rc == VSMR_OK) {
        uint32_t nlen = (uint32_t)strlen(json) + 1;
        uint32_t tail = h.optlen - 4 - clen;     /* later options, as is */
        struct save_header nh = h;
        nh.optlen = 4 + nlen + tail;
        rc = write_full(out, &nh, sizeof nh);
        if (rc == VSMR_OK)
            rc = write_full(out, &nlen, 4);
        if (rc == VSMR_OK)
            rc = write_full(out, json, nlen);
        if (rc == VSMR_OK && tail)
            rc = write_full(out, opt + 4 + clen, tail);
        *moved += sizeof h + h.optlen;
    }
    free(json);
    free(opt);
    return rc;
}

static int relay(int in, int out, const struct xlv_opts *o,
                 const struct xlv_domain *d, struct xlv_plan *p)
{
    uint64_t moved = 0;
    int rc = relay_header(in, out, p, o->backup_bridge, &moved);
    if (rc < 0)
        return rc;
    struct xlv_progress pg;
    xlv_progress_start(&pg, d->mem_bytes, isatty(STDOUT_FILENO));
    static char buf[1 << 20];
    for (;;) {
        struct pollfd pf = {.fd = in, .events = POLLIN};
        int r = poll(&pf, 1, COPY_IDLE_MS);
        if (xlv_interrupted)
            return vsmr_fail(VSMR_ECLOSED, "interrupted");
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0)
            return vsmr_fail(VSMR_ETIMEDOUT, "xl save sent nothing for %d s",
                             COPY_IDLE_MS / 1000);
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return vsmr_fail_errno(VSMR_EIO, "reading xl save's stream");
        if (n == 0)
            break;
        rc = write_full(out, buf, (size_t)n);
        if (rc < 0)
            return rc;
        moved += (uint64_t)n;
        xlv_progress_update(&pg, moved, false);
    }
    xlv_progress_update(&pg, moved, true);
    return VSMR_OK;
}

/* The last line of a log file, for error messages. */
static void last_line(const char *path, char *buf, size_t len)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f))
        if (line[0] != '\n' && !strstr(line, "progress"))
            snprintf(buf, len, "%s", line);
    fclose(f);
    buf[strcspn(buf, "\r\n")] = '\0';
}

static int prepare_backup(const struct xlv_opts *o, const struct xlv_plan *p)
{
    char script[1024], out[2048];
    snprintf(script, sizeof script,
             "mkdir -p -m 700 %s || exit 1; "
             "ip link show %s >/dev/null 2>&1 || "
             "{ ip link add %s type bridge && ip link set %s up; } || exit 2; "
             "if xl domid %s >/dev/null 2>&1; then "
             "echo \"destroying the leftover copy %s\"; xl destroy %s; fi",
             p->dir, o->backup_bridge, o->backup_bridge, o->backup_bridge,
             p->backup_name, p->backup_name, p->backup_name);
    int rc = xlv_run_remote(o, script, NULL, 0, 60, out, sizeof out);
    if (rc == 0) {
        if (strstr(out, "leftover"))
            xlv_say("the backup host had a copy left from an earlier run "
                    "(%s); destroyed it", p->backup_name);
        return VSMR_OK;
    }
    out[strcspn(out, "\n")] = '\0';
    if (rc < 0)
        return xlv_wrap(rc, "preparing the backup host");
    return vsmr_fail(VSMR_ESYS, "preparing the backup host failed (%s, exit "
                     "%d): %s", rc == 2 ? "creating the isolated bridge" :
                     "creating " XLV_RUN_DIR, rc, out);
}

static int backup_domid(const struct xlv_opts *o, struct xlv_plan *p)
{
    char script[256], out[256];
    snprintf(script, sizeof script, "xl domid %s", p->backup_name);
    int rc = xlv_run_remote(o, script, NULL, 0, 30, out, sizeof out);
    char *end;
    unsigned long id = strtoul(out, &end, 10);
    if (rc != 0 || end == out || id == 0)
        return vsmr_fail(VSMR_ENOENT, "the backup copy %s is not on the "
                         "backup host after xl restore: %s", p->backup_name,
                         out);
    p->backup_domid = (uint32_t)id;
    return VSMR_OK;
}

int xlv_copy(const struct xlv_opts *o, const struct xlv_domain *d,
             struct xlv_plan *p)
{
    int rc = prepare_backup(o, p);
    if (rc < 0)
        return rc;
    char save_log[256], restore_log[256], cmd[8192], script[1024];
    xlv_side_path(p, XLV_PRIMARY, "save.log", save_log, sizeof save_log);
    xlv_side_path(p, XLV_PRIMARY, "restore.log", restore_log,
                  sizeof restore_log);
    int slog = open(save_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int rlog = open(restore_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                    0600);
    int a[2] = {-1, -1}, b[2] = {-1, -1};
    if (slog < 0 || rlog < 0 || pipe2(a, O_CLOEXEC) < 0 ||
        pipe2(b, O_CLOEXEC) < 0) {
        rc = vsmr_fail_errno(VSMR_ESYS, "setting up the copy's pipes and "
                             "logs (%s)", save_log);
        goto out;
    }
    /* The backup side: xl restore reads a fifo that cat fills from ssh. */
    char fifo[256];
    xlv_side_path(p, XLV_BACKUP, "stream", fifo, sizeof fifo);
    snprintf(script, sizeof script,
             "f=%s; rm -f $f; mkfifo -m 600 $f || exit 1; exec 3<&0; "
             "cat <&3 >$f & c=$!; xl restore -e $f </dev/null; rc=$?; "
             "kill $c 2>/dev/null; wait $c; rm -f $f; exit $rc", fifo);
    rc = xlv_remote_cmdline(o, script, cmd, sizeof cmd);
    pid_t rpid = rc < 0 ? rc : xlv_spawn_sh(cmd, b[0], rlog, rlog);
    if (rpid < 0) {
        rc = rpid;
        goto out;
    }
    close(b[0]);
    b[0] = -1;
    snprintf(cmd, sizeof cmd, "exec xl save -c %u /dev/stdout", d->domid);
    pid_t spid = xlv_spawn_sh(cmd, -1, a[1], slog);
    close(a[1]);
    a[1] = -1;
    if (spid < 0) {
        close(b[1]);
        b[1] = -1;
        xlv_wait_child(rpid, 30);
        rc = spid;
        goto out;
    }
    xlv_say("copying domain %s (%u, %.0f MiB) to %s as %s", d->name,
            d->domid, (double)d->mem_bytes / (1 << 20), o->backup_host,
            p->backup_name);
    fcntl(b[1], F_SETFL, fcntl(b[1], F_GETFL) | O_NONBLOCK);
    rc = relay(a[0], b[1], o, d, p);
    char relay_msg[512];
    snprintf(relay_msg, sizeof relay_msg, "%s", vsmr_errmsg());
    /* Closing both ends ends both sides: xl save sees EPIPE and resumes
     * the domain; xl restore sees the stream end. */
    close(a[0]);
    a[0] = -1;
    close(b[1]);
    b[1] = -1;
    int ss = xlv_wait_child(spid, COPY_SAVE_S);
    int rs = xlv_wait_child(rpid, rc < 0 ? 60 : COPY_RESTORE_S);
    char why[512];
    if (rs != 0) {
        last_line(restore_log, why, sizeof why);
        rc = vsmr_fail(VSMR_EIO, "xl restore on the backup host %s failed "
                       "(%s %d): %s", o->backup_host,
                       rs < 0 ? "error" : "exit", rs,
                       *why ? why : relay_msg);
    } else if (ss != 0) {
        last_line(save_log, why, sizeof why);
        rc = vsmr_fail(VSMR_EIO, "xl save -c of domain %s failed (%s %d): "
                       "%s", d->name, ss < 0 ? "error" : "exit", ss,
                       *why ? why : relay_msg);
    } else if (rc < 0) {
        rc = vsmr_fail(rc, "the copy failed: %s", relay_msg);
    } else {
        rc = backup_domid(o, p);
    }
    if (rc == VSMR_OK && p->guest_bridge[0])
        xlv_say("the copy's vifs are on the isolated bridge %s; if it is "
                "promoted, its first vif joins %s", o->backup_bridge,
                p->guest_bridge);
out:
    for (int i = 0; i < 2; i++) {
        if (a[i] >= 0)
            close(a[i]);
        if (b[i] >= 0)
            close(b[i]);
    }
    if (slog >= 0)
        close(slog);
    if (rlog >= 0)
        close(rlog);
    xlv_domain_ensure_running(d);
    return rc;
}

void xlv_copy_destroy(const struct xlv_opts *o, const struct xlv_plan *p)
{
    char script[512], out[512];
    /* By the copy's own name only; it always carries the suffix, so this
     * can never name the protected domain. */
    if (!strstr(p->backup_name, XLV_BACKUP_SUFFIX))
        return;
    snprintf(script, sizeof script, "if xl domid %s >/dev/null 2>&1; then "
             "xl destroy %s && echo destroyed; fi", p->backup_name,
             p->backup_name);
    int rc = xlv_run_remote(o, script, NULL, 0, 60, out, sizeof out);
    if (rc == 0 && strstr(out, "destroyed"))
        xlv_say("destroyed the backup copy %s on %s", p->backup_name,
                o->backup_host);
    else if (rc != 0)
        xlv_say("could not destroy the backup copy %s on %s (exit %d): do it "
                "there with: xl destroy %s", p->backup_name, o->backup_host,
                rc, p->backup_name);
}
