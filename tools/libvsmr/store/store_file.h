/*
 * store_file.h - the medium under the store: dir/log, locked against a
 * second daemon and mapped into memory. A small append is a copy into
 * the mapping (a page or more: one pwrite); vsmr_store_file_sync() makes
 * the appended bytes durable where the medium needs a system call for it
 * (fdatasync on a disk), and is free where it does not (tmpfs, ramfs: see
 * store_file.c).
 */
#ifndef VSMR_STORE_FILE_H
#define VSMR_STORE_FILE_H

#include <stdbool.h>
#include <stdint.h>

enum vsmr_store_sync {
    VSMR_STORE_SYNC_FDATASYNC,   /* a disk: fdatasync before promising */
    VSMR_STORE_SYNC_MEMORY,      /* tmpfs/ramfs: the copy is all there is */
    VSMR_STORE_SYNC_OFF,         /* fsync = off (benchmarks only) */
};

struct vsmr_store_file {
    int fd, dir_fd;
    char path[512];
    const char *fs;              /* "tmpfs", "ramfs" or "disk" */
    enum vsmr_store_sync sync;
    uint8_t *map;                /* the whole file, map_len bytes */
    uint64_t map_len;            /* = the file's size */
    uint64_t end;                /* bytes of records; zeros after */
};

/* Creates dir if needed, locks it, opens (creating) dir/log. want_sync is
 * vsmrd's fsync setting; the medium may make it unnecessary. */
int vsmr_store_file_open(struct vsmr_store_file *f, const char *dir,
                         bool want_sync);
/* The file's size now (before vsmr_store_file_map). */
int vsmr_store_file_size(struct vsmr_store_file *f, uint64_t *size);
/* Discards everything from off on (a torn or corrupt tail), durably. */
int vsmr_store_file_cut(struct vsmr_store_file *f, uint64_t off);
/* Maps the file; records end at end, only zeros may follow. */
int vsmr_store_file_map(struct vsmr_store_file *f, uint64_t end);
/* Appends len bytes after the records (growing the file if needed). */
int vsmr_store_file_append(struct vsmr_store_file *f, const uint8_t *p,
                           uint64_t len);
/* Makes every appended byte durable (see enum vsmr_store_sync). */
int vsmr_store_file_sync(struct vsmr_store_file *f);
/* Unmaps, trims the zero tail (the file ends with its last record, as
 * files did before the mapping) and closes. */
void vsmr_store_file_close(struct vsmr_store_file *f);
/* One line for the startup log: how appends are made durable, and why. */
const char *vsmr_store_file_sync_text(const struct vsmr_store_file *f);

#endif
