/*
 * remote.c - running commands: on the backup host through the ssh command
 * (as xl remus -s: "CMD HOST COMMAND", passed to sh), and local children.
 * Every child gets its own process group (a ^C on the terminal reaches
 * only xl-vsmr, which then cleans up in order), SIGPIPE ignored (so xl
 * save sees EPIPE and resumes the domain instead of dying mid-suspend),
 * and a time limit.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "xlvsmr.h"

bool xlv_sh_quote(char *buf, size_t len, const char *s)
{
    size_t n = strlen(buf);
    if (n + 2 >= len)
        return false;
    buf[n++] = '\'';
    for (; *s; s++) {
        const char *piece = *s == '\'' ? "'\\''" : NULL;
        size_t pl = piece ? 4 : 1;
        if (n + pl + 2 > len)
            return false;
        if (piece)
            memcpy(buf + n, piece, pl);
        else
            buf[n] = *s;
        n += pl;
    }
    buf[n++] = '\'';
    buf[n] = '\0';
    return true;
}

int xlv_remote_cmdline(const struct xlv_opts *o, const char *script,
                       char *buf, size_t len)
{
    /* Our own ssh gets batch mode and a connect timeout; a command given
     * with -s is used exactly as given (it may not be ssh at all). */
    bool plain = strcmp(o->ssh, "ssh") == 0;
    int n = snprintf(buf, len, "%s%s ", o->ssh, plain ?
                     " -o BatchMode=yes -o ConnectTimeout=5" : "");
    if (n < 0 || (size_t)n >= len || !xlv_sh_quote(buf, len, o->backup_host))
        return vsmr_fail(VSMR_ERANGE, "remote command too long");
    n = (int)strlen(buf);
    if ((size_t)n + 2 >= len)
        return vsmr_fail(VSMR_ERANGE, "remote command too long");
    strcat(buf, " ");
    if (!xlv_sh_quote(buf, len, script))
        return vsmr_fail(VSMR_ERANGE, "remote command too long");
    return VSMR_OK;
}

pid_t xlv_spawn_sh(const char *cmd, int in_fd, int out_fd, int err_fd)
{
    pid_t pid = fork();
    if (pid < 0)
        return vsmr_fail_errno(VSMR_ESYS, "fork");
    if (pid == 0) {
        setpgid(0, 0);
        signal(SIGPIPE, SIG_IGN);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (in_fd >= 0 && in_fd != 0)
            dup2(in_fd, 0);
        if (out_fd >= 0 && out_fd != 1)
            dup2(out_fd, 1);
        if (err_fd >= 0 && err_fd != 2)
            dup2(err_fd, 2);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid);
    return pid;
}

static void kill_group(pid_t pid)
{
    kill(-pid, SIGTERM);
    for (int i = 0; i < 30; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return;
        usleep(100 * 1000);
    }
    kill(-pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static int exit_status(int st)
{
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    return 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

int xlv_wait_child(pid_t pid, unsigned timeout_s)
{
    int64_t end = xlv_now_ms() + (int64_t)timeout_s * 1000;
    for (;;) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return exit_status(st);
        if (r < 0 && errno != EINTR)
            return vsmr_fail_errno(VSMR_ESYS, "waitpid");
        if (xlv_now_ms() > end) {
            kill_group(pid);
            return vsmr_fail(VSMR_ETIMEDOUT, "gave up after %u s", timeout_s);
        }
        usleep(20 * 1000);
    }
}

/* Runs cmd with in on its stdin, collects stdout+stderr into out. */
static int run_collect(const char *cmd, const void *in, size_t inlen,
                       unsigned timeout_s, char *out, size_t outlen)
{
    int ip[2] = {-1, -1}, op[2];
    if (pipe2(op, O_CLOEXEC) < 0)
        return vsmr_fail_errno(VSMR_ESYS, "pipe");
    int devnull = -1;
    if (in) {
        if (pipe2(ip, O_CLOEXEC) < 0) {
            close(op[0]);
            close(op[1]);
            return vsmr_fail_errno(VSMR_ESYS, "pipe");
        }
    } else {
        devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
    pid_t pid = xlv_spawn_sh(cmd, in ? ip[0] : devnull, op[1], op[1]);
    close(op[1]);
    if (devnull >= 0)
        close(devnull);
    if (in)
        close(ip[0]);
    if (pid < 0) {
        close(op[0]);
        if (in)
            close(ip[1]);
        return pid;
    }
    if (in) {
        const char *p = in;
        while (inlen > 0) {
            ssize_t w = write(ip[1], p, inlen);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break;            /* the command did not read it: its exit
                                     status and output say why */
            p += w;
            inlen -= (size_t)w;
        }
        close(ip[1]);
    }
    size_t got = 0;
    int64_t end = xlv_now_ms() + (int64_t)timeout_s * 1000;
    for (;;) {
        int left = (int)(end - xlv_now_ms());
        if (left <= 0)
            break;
        struct pollfd pf = {.fd = op[0], .events = POLLIN};
        int r = poll(&pf, 1, left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        char tmp[4096];
        ssize_t n = read(op[0], tmp, sizeof tmp);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (outlen > 1 && got < outlen - 1) {
            size_t k = (size_t)n < outlen - 1 - got ? (size_t)n
                                                    : outlen - 1 - got;
            memcpy(out + got, tmp, k);
            got += k;
        }
    }
    close(op[0]);
    if (outlen)
        out[got] = '\0';
    int64_t rest = end - xlv_now_ms();
    return xlv_wait_child(pid, rest > 1000 ? (unsigned)(rest / 1000) : 1);
}

int xlv_run_remote(const struct xlv_opts *o, const char *script,
                   const void *in, size_t inlen, unsigned timeout_s,
                   char *out, size_t outlen)
{
    char cmd[8192];
    int rc = xlv_remote_cmdline(o, script, cmd, sizeof cmd);
    if (rc < 0)
        return rc;
    return run_collect(cmd, in, inlen, timeout_s, out, outlen);
}
