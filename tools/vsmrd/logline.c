/*
 * logline.c - writes vsmrd's structured log lines with a UTC timestamp,
 * the level and the node id, one write() per line so lines from several
 * processes sharing a file never interleave.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "logline.h"

static int log_fd = 2;
static uint32_t log_node;
static enum vsmr_log_level log_min = VSMR_LOG_INFO;

int logline_open(const char *path, uint32_t node, enum vsmr_log_level min)
{
    log_node = node;
    log_min = min;
    if (!path || !path[0])
        return VSMR_OK;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0)
        return vsmr_fail_errno(VSMR_EIO, "cannot open log_file %s", path);
    log_fd = fd;
    return VSMR_OK;
}

void logline_close(void)
{
    if (log_fd != 2)
        close(log_fd);
    log_fd = 2;
}

static const char *level_name(enum vsmr_log_level l)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    return l <= VSMR_LOG_ERROR ? names[l] : "?";
}

void logline_raw(enum vsmr_log_level lvl, const char *rest)
{
    if (lvl < log_min)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char line[1024];
    int n = snprintf(line, sizeof line,
                     "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s "
                     "node=%u %s\n", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000, level_name(lvl), log_node, rest);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line) {
        n = sizeof line - 1;
        line[n - 1] = '\n';
    }
    ssize_t w;
    do {
        w = write(log_fd, line, (size_t)n);
    } while (w < 0 && errno == EINTR);
}

void logline(enum vsmr_log_level lvl, const char *event, const char *fmt, ...)
{
    if (lvl < log_min)
        return;
    char rest[900];
    int n = snprintf(rest, sizeof rest, "event=%s", event);
    if (fmt && fmt[0] && n > 0 && (size_t)n < sizeof rest - 1) {
        rest[n++] = ' ';
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(rest + n, sizeof rest - (size_t)n, fmt, ap);
        va_end(ap);
    }
    logline_raw(lvl, rest);
}
