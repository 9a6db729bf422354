/*
 * vsmr.h - the umbrella header of libvsmr: error codes and error messages.
 *
 * Every libvsmr function that can fail returns 0 (VSMR_OK) or a negative
 * VSMR_E* code, and leaves a message naming the cause in a thread-local
 * buffer that vsmr_errmsg() returns ("domain 7 does not exist"), the way
 * SQLite's sqlite3_errmsg() does per connection.
 */
#ifndef VSMR_VSMR_H
#define VSMR_VSMR_H

#ifdef __cplusplus
extern "C" {
#endif

#define VSMR_VERSION "0.1.0"

enum vsmr_error {
    VSMR_OK        = 0,
    VSMR_EINVAL    = -1,   /* an argument is invalid */
    VSMR_ENOMEM    = -2,   /* out of memory */
    VSMR_ERANGE    = -3,   /* an index or size is out of range */
    VSMR_ENOENT    = -4,   /* no such thing: backend, domain, file, peer */
    VSMR_ESYS      = -5,   /* a system call failed; the message has errno */
    VSMR_ETIMEDOUT = -6,   /* gave up waiting */
    VSMR_ESTATE    = -7,   /* the object is in the wrong state for this */
    VSMR_EPROTO    = -8,   /* malformed or unexpected message */
    VSMR_EAUTH     = -9,   /* authentication failed */
    VSMR_ENOTSUP   = -10,  /* not supported (here, or not yet) */
    VSMR_EIO       = -11,  /* input/output error */
    VSMR_EAGAIN    = -12,  /* try again later (would block) */
    VSMR_ECLOSED   = -13,  /* the peer or the guest has gone away */
    VSMR_EDIVERGED = -14,  /* verify mode found replicas that differ */
};

/* Short description of an error code ("invalid argument"). */
const char *vsmr_strerror(int err);
/* Name of an error code ("VSMR_EINVAL"). */
const char *vsmr_err_name(int err);
/* Message of the last failure in the calling thread; never NULL. */
const char *vsmr_errmsg(void);

#ifdef __cplusplus
}
#endif
#endif
