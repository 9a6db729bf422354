/*
 * sim_spawn.c - starts and stops the simulated guest process: memfds for
 * memory and control, a request socket, posix_spawn of vsmr-simguest.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "guest/sim/sim_impl.h"

extern char **environ;

/* vsmr-simguest: $VSMR_SIMGUEST, beside the running program, $VSMR_BIN,
 * then $PATH. */
static void find_simguest(char *path, size_t cap)
{
    const char *env = getenv("VSMR_SIMGUEST");
    if (env && *env) {
        snprintf(path, cap, "%s", env);
        return;
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            int w = snprintf(path, cap, "%.3800s/vsmr-simguest", self);
            if (w > 0 && (size_t)w < cap && access(path, X_OK) == 0)
                return;
        }
    }
    const char *bin = getenv("VSMR_BIN");
    if (bin && *bin) {
        int w = snprintf(path, cap, "%.3800s/vsmr-simguest", bin);
        if (w > 0 && (size_t)w < cap && access(path, X_OK) == 0)
            return;
    }
    snprintf(path, cap, "vsmr-simguest");
}

static int make_memfd(const char *name, uint64_t bytes, int *fd)
{
    int f = memfd_create(name, MFD_CLOEXEC);
    if (f < 0)
        return vsmr_fail_errno(VSMR_ESYS, "sim guest: memfd_create");
    if (ftruncate(f, (off_t)bytes) < 0) {
        close(f);
        return vsmr_fail_errno(VSMR_ESYS, "sim guest: sizing %llu bytes "
                               "of memory", (unsigned long long)bytes);
    }
    *fd = f;
    return VSMR_OK;
}

static int create_regions(struct sim_guest *s)
{
    int rc = make_memfd("vsmr-sim-memory", s->base.pages << 12, &s->memfd);
    if (rc == VSMR_OK)
        rc = make_memfd("vsmr-sim-control", sim_ctl_bytes(s->base.pages),
                        &s->ctlfd);
    if (rc < 0)
        return rc;
    s->mem = mmap(NULL, s->base.pages << 12, PROT_READ | PROT_WRITE,
                  MAP_SHARED, s->memfd, 0);
    s->ctl = mmap(NULL, sim_ctl_bytes(s->base.pages), PROT_READ | PROT_WRITE,
                  MAP_SHARED, s->ctlfd, 0);
    if (s->mem == MAP_FAILED || s->ctl == MAP_FAILED) {
        s->mem = s->mem == MAP_FAILED ? NULL : s->mem;
        s->ctl = s->ctl == MAP_FAILED ? NULL : s->ctl;
        return vsmr_fail_errno(VSMR_ESYS, "sim guest: mapping memory");
    }
    s->ctl->magic = SIM_CTL_MAGIC;
    s->ctl->version = SIM_CTL_VERSION;
    s->ctl->pages = s->base.pages;
    s->ctl->workers = s->workers;
    return VSMR_OK;
}

/* Moves fd to a number above 5 so the child's dup2 onto 3..5 never
 * collides with it. */
static int raise_fd(int *fd)
{
    if (*fd > 5)
        return VSMR_OK;
    int f = fcntl(*fd, F_DUPFD_CLOEXEC, 6);
    if (f < 0)
        return vsmr_fail_errno(VSMR_ESYS, "sim guest: fcntl");
    close(*fd);
    *fd = f;
    return VSMR_OK;
}

static int spawn_process(struct sim_guest *s)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return vsmr_fail_errno(VSMR_ESYS, "sim guest: socketpair");
    int big = 4 << 20;
    setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    s->sock = sv[0];
    int rc = raise_fd(&sv[1]);
    if (rc < 0) {
        close(sv[1]);
        return rc;
    }

    char path[PATH_MAX], pages[32], workers[16];
    find_simguest(path, sizeof path);
    snprintf(pages, sizeof pages, "%llu", (unsigned long long)s->base.pages);
    snprintf(workers, sizeof workers, "%u", s->workers);
    char *argv[] = {path, "3", "4", "5", pages, workers, NULL};

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    /* Source fds are above 5 (see sim_open), so dup2 always clears
     * close-on-exec on the child's copies. */
    posix_spawn_file_actions_adddup2(&fa, s->memfd, 3);
    posix_spawn_file_actions_adddup2(&fa, s->ctlfd, 4);
    posix_spawn_file_actions_adddup2(&fa, sv[1], 5);
    int err = posix_spawnp(&s->pid, path, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(sv[1]);
    if (err) {
        s->pid = 0;
        errno = err;
        return vsmr_fail_errno(VSMR_ENOENT, "sim guest: cannot start '%s' "
                               "(set VSMR_SIMGUEST or put vsmr-simguest on "
                               "PATH)", path);
    }
    return VSMR_OK;
}

static int wait_ready(struct sim_guest *s)
{
    for (int i = 0; i < 1000; i++) {
        if (atomic_load(&s->ctl->ready))
            return VSMR_OK;
        int status;
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            s->pid = 0;
            return vsmr_fail(VSMR_ECLOSED, "sim guest exited during start-up "
                             "(status %d); its stderr says why", status);
        }
        struct timespec ts = {0, 10 * 1000000L};
        syscall(SYS_futex, &s->ctl->ready, FUTEX_WAIT, 0, &ts, NULL, 0);
    }
    return vsmr_fail(VSMR_ETIMEDOUT, "sim guest did not start within 10 s");
}

int sim_start(struct sim_guest *s)
{
    int rc = create_regions(s);
    if (rc == VSMR_OK)
        rc = raise_fd(&s->memfd);
    if (rc == VSMR_OK)
        rc = raise_fd(&s->ctlfd);
    if (rc == VSMR_OK)
        rc = spawn_process(s);
    if (rc == VSMR_OK)
        rc = wait_ready(s);
    return rc;
}

void sim_stop(struct sim_guest *s)
{
    if (s->sock >= 0)
        close(s->sock);   /* the guest's reader sees EOF and it exits */
    s->sock = -1;
    if (s->pid > 0) {
        if (s->ctl) {
            atomic_store(&s->ctl->pause_req, 0);
            syscall(SYS_futex, &s->ctl->pause_req, FUTEX_WAKE, INT_MAX,
                    NULL, NULL, 0);
        }
        int status;
        for (int i = 0; i < 200; i++) {
            if (waitpid(s->pid, &status, WNOHANG) != 0)
                break;
            if (i == 199) {
                kill(s->pid, SIGKILL);
                waitpid(s->pid, &status, 0);
            }
            usleep(10000);
        }
        s->pid = 0;
    }
    if (s->mem)
        munmap(s->mem, s->base.pages << 12);
    if (s->ctl)
        munmap(s->ctl, sim_ctl_bytes(s->base.pages));
    if (s->memfd >= 0)
        close(s->memfd);
    if (s->ctlfd >= 0)
        close(s->ctlfd);
}
