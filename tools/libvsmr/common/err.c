/*
 * err.c - error codes, their names, and the thread-local last message.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"

static _Thread_local char last_msg[512] = "no error";

static const struct {
    int code;
    const char *name;
    const char *text;
} error_table[] = {
    {VSMR_OK, "VSMR_OK", "success"},
    {VSMR_EINVAL, "VSMR_EINVAL", "invalid argument"},
    {VSMR_ENOMEM, "VSMR_ENOMEM", "out of memory"},
    {VSMR_ERANGE, "VSMR_ERANGE", "out of range"},
    {VSMR_ENOENT, "VSMR_ENOENT", "not found"},
    {VSMR_ESYS, "VSMR_ESYS", "system call failed"},
    {VSMR_ETIMEDOUT, "VSMR_ETIMEDOUT", "timed out"},
    {VSMR_ESTATE, "VSMR_ESTATE", "wrong state"},
    {VSMR_EPROTO, "VSMR_EPROTO", "protocol error"},
    {VSMR_EAUTH, "VSMR_EAUTH", "authentication failed"},
    {VSMR_ENOTSUP, "VSMR_ENOTSUP", "not supported"},
    {VSMR_EIO, "VSMR_EIO", "input/output error"},
    {VSMR_EAGAIN, "VSMR_EAGAIN", "try again"},
    {VSMR_ECLOSED, "VSMR_ECLOSED", "connection closed"},
    {VSMR_EDIVERGED, "VSMR_EDIVERGED", "replicas diverged"},
};

static int find_error(int code)
{
    for (size_t i = 0; i < sizeof error_table / sizeof error_table[0]; i++)
        if (error_table[i].code == code)
            return (int)i;
    return -1;
}

const char *vsmr_strerror(int err)
{
    int i = find_error(err);
    return i < 0 ? "unknown error" : error_table[i].text;
}

const char *vsmr_err_name(int err)
{
    int i = find_error(err);
    return i < 0 ? "VSMR_E?" : error_table[i].name;
}

const char *vsmr_errmsg(void)
{
    return last_msg;
}

int vsmr_fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_msg, sizeof last_msg, fmt, ap);
    va_end(ap);
    return code;
}

int vsmr_fail_errno(int code, const char *fmt, ...)
{
    int saved = errno;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(last_msg, sizeof last_msg, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof last_msg)
        snprintf(last_msg + n, sizeof last_msg - (size_t)n, ": %s",
                 strerror(saved));
    errno = saved;
    return code;
}
