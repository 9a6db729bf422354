/*
 * err.h - internal helpers to fail with a code and a message.
 *
 *     return vsmr_fail(VSMR_ENOENT, "domain %u does not exist", domid);
 *     return vsmr_fail_errno(VSMR_ESYS, "mmap of %zu bytes", len);
 */
#ifndef VSMR_COMMON_ERR_H
#define VSMR_COMMON_ERR_H

#include "vsmr/vsmr.h"

/* Records the message (printf-style) for vsmr_errmsg() and returns code. */
int vsmr_fail(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Same, with ": <strerror(errno)>" appended; errno is preserved. */
int vsmr_fail_errno(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
