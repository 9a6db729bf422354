/*
 * log_status.c - read-only getters of the consensus core and the names of
 * its enums, for the driver, logs and tests.
 */
#include "log/log_internal.h"

uint32_t vsmr_log_id(const struct vsmr_log *l) { return l->id; }
uint64_t vsmr_log_term(const struct vsmr_log *l) { return l->term; }
enum vsmr_log_role vsmr_log_role(const struct vsmr_log *l) { return l->role; }
uint32_t vsmr_log_leader(const struct vsmr_log *l) { return l->leader; }
uint64_t vsmr_log_commit_index(const struct vsmr_log *l) { return l->commit; }
uint64_t vsmr_log_applied_index(const struct vsmr_log *l) { return l->applied; }
uint64_t vsmr_log_last_index(const struct vsmr_log *l) { return l->store.last; }
bool vsmr_log_is_voter(const struct vsmr_log *l) { return l->voter; }

uint64_t vsmr_log_first_index(const struct vsmr_log *l)
{
    return l->store.snap_index + 1;
}

bool vsmr_log_leader_is_witness(const struct vsmr_log *l)
{
    return l->leader && l->cfg.kinds[l->leader - 1] == VSMR_LOG_WITNESS;
}

const struct vsmr_entry *vsmr_log_entry(const struct vsmr_log *l,
                                        uint64_t index)
{
    return store_get(&l->store, index);
}

void vsmr_log_stats(const struct vsmr_log *l, struct vsmr_log_stats *st)
{
    *st = l->stats;
}

const char *vsmr_log_role_name(enum vsmr_log_role role)
{
    switch (role) {
    case VSMR_LOG_FOLLOWER:      return "follower";
    case VSMR_LOG_PRE_CANDIDATE: return "pre-candidate";
    case VSMR_LOG_CANDIDATE:     return "candidate";
    case VSMR_LOG_LEADER:        return "leader";
    }
    return "?";
}

const char *vsmr_log_kind_name(enum vsmr_log_kind kind)
{
    switch (kind) {
    case VSMR_LOG_PRIMARY: return "primary";
    case VSMR_LOG_BACKUP:  return "backup";
    case VSMR_LOG_WITNESS: return "witness";
    }
    return "?";
}
