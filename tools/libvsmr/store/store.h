/*
 * store.h - durable state of one replica in its data_dir: an append-only
 * file of checksummed records (hard state, compaction point, entries).
 * The daemon writes each ready batch here and makes it durable (fdatasync
 * on a disk; nothing more is needed in memory, store_file.c) before it
 * sends any message that depends on it (acks, votes); only a leader's
 * APPENDs may leave earlier (docs/log.md, "early messages"). A torn or
 * corrupt tail is cut off at load.
 */
#ifndef VSMR_STORE_STORE_H
#define VSMR_STORE_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "log/log.h"
#include "vsmr/vsmr.h"

typedef struct vsmr_store vsmr_store;

/* Opens (creating if needed) dir/log, locks dir against a second daemon,
 * and loads what it holds into *p (valid until vsmr_store_loaded_free()).
 * *fresh is true when the store held nothing at all. */
int vsmr_store_open(const char *dir, bool fsync, vsmr_store **out,
                    struct vsmr_log_persisted *p, bool *fresh);
/* Frees the memory behind the persisted state returned by open. */
void vsmr_store_loaded_free(vsmr_store *s);
/* Appends what a ready batch asks to persist and makes it durable. */
int vsmr_store_save_ready(vsmr_store *s, const struct vsmr_log_ready *rd);
/* Records that entries up to index are compacted away. */
int vsmr_store_save_compaction(vsmr_store *s, uint64_t index, uint64_t term);
/* Bytes in the file, and records cut off as torn/corrupt at load. */
uint64_t vsmr_store_size(const vsmr_store *s);
uint64_t vsmr_store_dropped_tail(const vsmr_store *s);
void vsmr_store_close(vsmr_store *s);
/* How appends are made durable: "fdatasync", "none" (data_dir in
 * memory: tmpfs or ramfs, where fdatasync is a no-op) or "off" (fsync =
 * off); *fs names the medium, *why says what that means. */
const char *vsmr_store_sync_mode(const vsmr_store *s, const char **fs,
                                 const char **why);

#endif
