/*
 * key_file.c - loads the 32-byte cluster key. The file must be a regular
 * file of exactly 32 bytes that group and others cannot read, so a key
 * that leaked through loose permissions is refused rather than used.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "common/err.h"
#include "config/config.h"

int vsmr_key_file_load(const char *path, uint8_t key[VSMR_KEY_LEN])
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return vsmr_fail_errno(VSMR_ENOENT, "key file %s cannot be opened",
                               path);
    struct stat st;
    int rc = VSMR_OK;
    if (fstat(fd, &st) < 0) {
        rc = vsmr_fail_errno(VSMR_ESYS, "key file %s: fstat", path);
    } else if (!S_ISREG(st.st_mode)) {
        rc = vsmr_fail(VSMR_EINVAL, "key file %s is not a regular file",
                       path);
    } else if (st.st_mode & 077) {
        rc = vsmr_fail(VSMR_EINVAL, "key file %s has mode %04o: group and "
                       "others must have no access (chmod 600 %s)", path,
                       (unsigned)(st.st_mode & 07777), path);
    } else if (st.st_size != VSMR_KEY_LEN) {
        rc = vsmr_fail(VSMR_EINVAL, "key file %s has %lld bytes, expected "
                       "exactly %u (create it with: head -c 32 /dev/urandom "
                       "> %s)", path, (long long)st.st_size, VSMR_KEY_LEN,
                       path);
    } else {
        ssize_t n;
        do {
            n = pread(fd, key, VSMR_KEY_LEN, 0);
        } while (n < 0 && errno == EINTR);
        if (n != VSMR_KEY_LEN)
            rc = vsmr_fail_errno(VSMR_EIO, "key file %s: short read", path);
    }
    close(fd);
    if (rc < 0)
        sodium_memzero(key, VSMR_KEY_LEN);
    return rc;
}
