/*
 * trigger.c - the sync trigger policy (see trigger.h).
 */
#include "common/err.h"
#include "sync/trigger.h"

int vsmr_trigger_init(struct vsmr_trigger *t,
                      const struct vsmr_trigger_config *cfg, uint64_t now_ms)
{
    struct vsmr_trigger_config c = cfg ? *cfg : (struct vsmr_trigger_config){0};
    if (!c.min_interval_ms) c.min_interval_ms = 5;
    if (!c.max_interval_ms) c.max_interval_ms = 200;
    if (!c.idle_checks) c.idle_checks = 3;
    if (!c.max_held_bytes) c.max_held_bytes = 1u << 20;
    if (c.min_interval_ms > c.max_interval_ms)
        return vsmr_fail(VSMR_EINVAL, "sync interval: minimum %u ms is above "
                         "the maximum %u ms", c.min_interval_ms,
                         c.max_interval_ms);
    t->cfg = c;
    t->last_sync_ms = now_ms;
    t->idle_streak = 0;
    return VSMR_OK;
}

enum vsmr_trigger_reason vsmr_trigger_check(struct vsmr_trigger *t,
                                            uint64_t now_ms, bool idle,
                                            bool activity, size_t held_bytes)
{
    uint64_t since = now_ms - t->last_sync_ms;
    t->idle_streak = idle ? t->idle_streak + 1 : 0;
    if (held_bytes >= t->cfg.max_held_bytes)
        return VSMR_TRIGGER_OUTPUT_BOUND;
    if (since >= t->cfg.max_interval_ms)
        return VSMR_TRIGGER_MAX_INTERVAL;
    if (since >= t->cfg.min_interval_ms && activity &&
        t->idle_streak >= t->cfg.idle_checks)
        return VSMR_TRIGGER_IDLE;
    return VSMR_TRIGGER_NONE;
}

void vsmr_trigger_synced(struct vsmr_trigger *t, uint64_t now_ms)
{
    t->last_sync_ms = now_ms;
    t->idle_streak = 0;
}

const char *vsmr_trigger_reason_name(enum vsmr_trigger_reason r)
{
    switch (r) {
    case VSMR_TRIGGER_IDLE:         return "idle";
    case VSMR_TRIGGER_MAX_INTERVAL: return "max-interval";
    case VSMR_TRIGGER_OUTPUT_BOUND: return "output-bound";
    default:                        return "none";
    }
}
