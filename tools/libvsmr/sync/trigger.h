/*
 * trigger.h - when to sync: a pure policy fed with observations.
 *
 * PLOVER's rule: sync when the guest is idle (no input being served, no
 * output pending) for `idle_checks` consecutive checks, but not sooner
 * than min_interval after the last sync; sync anyway at max_interval;
 * and sync at once when held output exceeds max_held_bytes.
 */
#ifndef VSMR_SYNC_TRIGGER_H
#define VSMR_SYNC_TRIGGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vsmr_trigger_config {
    uint32_t min_interval_ms;   /* [5] */
    uint32_t max_interval_ms;   /* [200] */
    uint32_t idle_checks;       /* consecutive idle checks [3] */
    size_t max_held_bytes;      /* [1 MiB] */
};

enum vsmr_trigger_reason {
    VSMR_TRIGGER_NONE = 0,
    VSMR_TRIGGER_IDLE,
    VSMR_TRIGGER_MAX_INTERVAL,
    VSMR_TRIGGER_OUTPUT_BOUND,
};

struct vsmr_trigger {
    struct vsmr_trigger_config cfg;
    uint64_t last_sync_ms;
    uint32_t idle_streak;
};

/* Fills defaults for zero fields; VSMR_EINVAL if min > max. */
int vsmr_trigger_init(struct vsmr_trigger *t,
                      const struct vsmr_trigger_config *cfg, uint64_t now_ms);
/* One check. activity: inputs were served or outputs held since the last
 * sync (an idle guest with nothing new needs no sync). */
enum vsmr_trigger_reason vsmr_trigger_check(struct vsmr_trigger *t,
                                            uint64_t now_ms, bool idle,
                                            bool activity, size_t held_bytes);
/* A sync started now. */
void vsmr_trigger_synced(struct vsmr_trigger *t, uint64_t now_ms);
const char *vsmr_trigger_reason_name(enum vsmr_trigger_reason r);

#endif
