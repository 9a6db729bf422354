/*
 * lock.c - one xl-vsmr per domain: XLV_RUN_DIR/<uuid>.lock, held with
 * flock() for as long as the domain is protected. The fd is inherited by
 * the local vsmrd (no close-on-exec), so the lock lives as long as the
 * replica does; the file holds the pid of the process holding it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "xlvsmr.h"

static void lock_path(const char *uuid, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s.lock", XLV_RUN_DIR, uuid);
}

static pid_t read_pid(int fd)
{
    char buf[32] = "";
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    return (pid_t)strtol(buf, NULL, 10);
}

int xlv_lock_take(const char *uuid, const char *name, int *fd_out)
{
    char path[256];
    lock_path(uuid, path, sizeof path);
    if (mkdir(XLV_RUN_DIR, 0700) < 0 && errno != EEXIST)
        return vsmr_fail_errno(VSMR_ESYS, "cannot create %s", XLV_RUN_DIR);
again:;
    int fd = open(path, O_RDWR | O_CREAT | O_NOCTTY, 0600);
    if (fd < 0)
        return vsmr_fail_errno(VSMR_ESYS, "cannot open the lock file %s",
                               path);
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        pid_t holder = read_pid(fd);
        close(fd);
        if (e == EWOULDBLOCK)
            return vsmr_fail(VSMR_ESTATE, "domain %s is already protected by "
                             "pid %ld (lock %s); see: xl vsmr status %s; to "
                             "stop: xl vsmr stop %s", name, (long)holder,
                             path, name, name);
        errno = e;
        return vsmr_fail_errno(VSMR_ESYS, "flock %s", path);
    }
    /* The holder before us may have unlinked the file after we opened it:
     * then our lock is on a file nobody else will see. */
    struct stat a, b;
    if (fstat(fd, &a) < 0 || stat(path, &b) < 0 || a.st_ino != b.st_ino ||
        a.st_dev != b.st_dev) {
        close(fd);
        goto again;
    }
    xlv_lock_set_pid(fd, getpid());
    *fd_out = fd;
    return VSMR_OK;
}

void xlv_lock_set_pid(int fd, pid_t pid)
{
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%ld\n", (long)pid);
    if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n)
        xlv_say("warning: cannot write the pid into the lock file: %s",
                strerror(errno));
}

void xlv_lock_release(const char *uuid, int fd)
{
    if (fd < 0)
        return;
    char path[256];
    lock_path(uuid, path, sizeof path);
    /* Unlink while still holding it, so a waiter never locks a file that
     * is about to vanish. */
    unlink(path);
    close(fd);
}

pid_t xlv_lock_holder(const char *uuid)
{
    char path[256];
    lock_path(uuid, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return 0;
    pid_t pid = 0;
    if (flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK)
        pid = read_pid(fd);
    close(fd);
    return pid;
}
