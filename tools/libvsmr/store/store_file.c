/*
 * store_file.c - dir/log as a shared mapping (store_file.h). The file is
 * grown ahead of the records in zero-filled chunks with posix_fallocate,
 * so a full file system is an error at growth, never a SIGBUS at a copy.
 * An append smaller than a page (one commit's batch) is then a memcpy, no
 * system call; a larger one (a batch at saturation, a witness's batch) is
 * a pwrite at the same offset, which fills whole pages of the page cache
 * without the fault and the zeroing of each fresh page that a copy into
 * the mapping costs (measured: 1024 entries of 64 B, 73 against 110 us on
 * tmpfs, 290-370 against 440-540 us with fdatasync on ext4). Both go
 * through the same page cache, so the mapping sees every byte.
 *
 * Durability: on a disk file system the appended pages are dirty page
 * cache until vsmr_store_file_sync() runs fdatasync, exactly as after a
 * write(). On tmpfs and ramfs (detected with fstatfs at open) the page
 * cache is the medium: fdatasync is a no-op there, and bytes copied into
 * the mapping are as durable as bytes written with write() + fdatasync —
 * they survive the daemon's crash, and a crash of the host loses the
 * whole file either way. So sync does nothing there (vsmrd says so in its
 * startup log).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "common/err.h"
#include "store/store_file.h"

#define GROW_MIN  (1ull << 20)
#define GROW_MAX  (64ull << 20)
#define PAGE      4096ull

static void detect_medium(struct vsmr_store_file *f, bool want_sync)
{
    struct statfs sfs;
    f->fs = "disk";   /* anything else, or unknown: sync to be safe */
    if (fstatfs(f->fd, &sfs) == 0 && sfs.f_type == TMPFS_MAGIC)
        f->fs = "tmpfs";
    else if (fstatfs(f->fd, &sfs) == 0 && sfs.f_type == RAMFS_MAGIC)
        f->fs = "ramfs";
    if (!want_sync)
        f->sync = VSMR_STORE_SYNC_OFF;
    else if (strcmp(f->fs, "disk") != 0)
        f->sync = VSMR_STORE_SYNC_MEMORY;
    else
        f->sync = VSMR_STORE_SYNC_FDATASYNC;
}

int vsmr_store_file_open(struct vsmr_store_file *f, const char *dir,
                         bool want_sync)
{
    memset(f, 0, sizeof *f);
    f->fd = f->dir_fd = -1;
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return vsmr_fail_errno(VSMR_EIO, "cannot create data_dir %s", dir);
    f->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (f->dir_fd < 0)
        return vsmr_fail_errno(VSMR_EIO, "cannot open data_dir %s", dir);
    if (flock(f->dir_fd, LOCK_EX | LOCK_NB) < 0)
        return vsmr_fail_errno(VSMR_ESTATE, "data_dir %s is in use by "
                               "another vsmrd", dir);
    snprintf(f->path, sizeof f->path, "%s/log", dir);
    f->fd = open(f->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (f->fd < 0)
        return vsmr_fail_errno(VSMR_EIO, "cannot open %s", f->path);
    /* The new file's directory entry must survive a crash too. */
    if (fsync(f->dir_fd) < 0)
        return vsmr_fail_errno(VSMR_EIO, "fsync of %s", dir);
    detect_medium(f, want_sync);
    return VSMR_OK;
}

int vsmr_store_file_size(struct vsmr_store_file *f, uint64_t *size)
{
    struct stat st;
    if (fstat(f->fd, &st) < 0)
        return vsmr_fail_errno(VSMR_ESYS, "fstat %s", f->path);
    *size = (uint64_t)st.st_size;
    return VSMR_OK;
}

int vsmr_store_file_cut(struct vsmr_store_file *f, uint64_t off)
{
    /* Truncating also zeroes what a later growth brings back, so no stale
     * record after the cut can ever follow new ones. */
    if (ftruncate(f->fd, (off_t)off) < 0 || fsync(f->fd) < 0)
        return vsmr_fail_errno(VSMR_EIO, "truncating %s", f->path);
    return VSMR_OK;
}

int vsmr_store_file_map(struct vsmr_store_file *f, uint64_t end)
{
    uint64_t size;
    int rc = vsmr_store_file_size(f, &size);
    if (rc < 0)
        return rc;
    if (end > size)
        return vsmr_fail(VSMR_EINVAL, "%s: records end at %llu, beyond its "
                         "%llu bytes", f->path, (unsigned long long)end,
                         (unsigned long long)size);
    if (size) {
        void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, f->fd,
                       0);
        if (m == MAP_FAILED)
            return vsmr_fail_errno(VSMR_ESYS, "mmap of %s (%llu bytes)",
                                   f->path, (unsigned long long)size);
        f->map = m;
    }
    f->map_len = size;
    f->end = end;
    return VSMR_OK;
}

static int grow(struct vsmr_store_file *f, uint64_t need)
{
    uint64_t step = f->map_len / 8;
    step = step < GROW_MIN ? GROW_MIN : step > GROW_MAX ? GROW_MAX : step;
    uint64_t len = need > f->map_len + step ? need : f->map_len + step;
    len = (len + PAGE - 1) / PAGE * PAGE;
    int err = posix_fallocate(f->fd, (off_t)f->map_len,
                              (off_t)(len - f->map_len));
    if (err) {
        errno = err;
        return vsmr_fail_errno(VSMR_EIO, "cannot grow %s to %llu bytes (is "
                               "its file system full?)", f->path,
                               (unsigned long long)len);
    }
    void *m = f->map ? mremap(f->map, f->map_len, len, MREMAP_MAYMOVE)
                     : mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
                            f->fd, 0);
    if (m == MAP_FAILED)
        return vsmr_fail_errno(VSMR_ESYS, "mapping %s (%llu bytes)", f->path,
                               (unsigned long long)len);
    f->map = m;
    f->map_len = len;
    return VSMR_OK;
}

static int write_at(struct vsmr_store_file *f, const uint8_t *p, uint64_t len)
{
    uint64_t off = 0;
    while (off < len) {
        ssize_t n = pwrite(f->fd, p + off, len - off, (off_t)(f->end + off));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return vsmr_fail_errno(VSMR_EIO, "write to %s", f->path);
        off += (uint64_t)n;
    }
    return VSMR_OK;
}

int vsmr_store_file_append(struct vsmr_store_file *f, const uint8_t *p,
                           uint64_t len)
{
    if (len > f->map_len - f->end) {
        int rc = grow(f, f->end + len);
        if (rc < 0)
            return rc;
    }
    if (len >= PAGE) {
        int rc = write_at(f, p, len);
        if (rc < 0)
            return rc;
    } else {
        memcpy(f->map + f->end, p, len);
    }
    f->end += len;
    return VSMR_OK;
}

int vsmr_store_file_sync(struct vsmr_store_file *f)
{
    if (f->sync == VSMR_STORE_SYNC_FDATASYNC && fdatasync(f->fd) < 0)
        return vsmr_fail_errno(VSMR_EIO, "fdatasync of %s", f->path);
    return VSMR_OK;
}

void vsmr_store_file_close(struct vsmr_store_file *f)
{
    if (f->map) {
        munmap(f->map, f->map_len);
        if (f->map_len > f->end && ftruncate(f->fd, (off_t)f->end) < 0) {
            /* the zero tail stays; the next load skips it */
        }
        f->map = NULL;
    }
    if (f->fd >= 0)
        close(f->fd);
    if (f->dir_fd >= 0)
        close(f->dir_fd);
    f->fd = f->dir_fd = -1;
}

const char *vsmr_store_file_sync_text(const struct vsmr_store_file *f)
{
    switch (f->sync) {
    case VSMR_STORE_SYNC_FDATASYNC:
        return "fdatasync before anything that promises durability";
    case VSMR_STORE_SYNC_MEMORY:
        return "none: data_dir is in memory, where fdatasync is a no-op; "
               "a copy survives a daemon crash, a host crash loses the "
               "whole data_dir";
    default:
        return "off (fsync = off): a host crash can lose acknowledged "
               "entries";
    }
}
