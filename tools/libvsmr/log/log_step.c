/*
 * log_step.c - vsmr_log_step(): checks a message from a peer (never trust
 * the network), applies the term rules, and dispatches it by type.
 */
#include "common/err.h"
#include "log/log_internal.h"

static int reject_msg(struct vsmr_log *l, const char *why,
                      const struct vsmr_msg *m)
{
    l->stats.msgs_rejected++;
    return vsmr_fail(VSMR_EPROTO, "log: message type %u from %u rejected: "
                     "%s", m->type, m->from, why);
}

static const char *check_entries(const struct vsmr_msg *m)
{
    if (m->n_entries > VSMR_LOG_MAX_MSG_ENTRIES)
        return "too many entries";
    if (m->n_entries && (m->type != VSMR_MSG_APPEND || !m->entries))
        return "entries on a message that has none";
    uint64_t prev_term = m->log_term;
    for (size_t i = 0; i < m->n_entries; i++) {
        const struct vsmr_entry *e = &m->entries[i];
        if (e->index != m->index + 1 + i)
            return "entry indexes are not consecutive";
        if (e->term < prev_term || e->term > m->term)
            return "entry terms out of order";
        if (e->type > VSMR_ENTRY_TYPE_MAX || e->len > VSMR_LOG_MAX_ENTRY_DATA ||
            (e->len && !e->data))
            return "malformed entry";
        prev_term = e->term;
    }
    return NULL;
}

static const char *check_msg(const struct vsmr_log *l, const struct vsmr_msg *m)
{
    if (m->type < VSMR_MSG_TYPE_MIN || m->type > VSMR_MSG_TYPE_MAX)
        return "unknown type";
    if (m->from < 1 || m->from > l->cfg.n_nodes || m->from == l->id)
        return "bad sender";
    if (m->to != l->id)
        return "addressed to another replica";
    if (m->term > VSMR_LOG_MAX_INDEX || m->index > VSMR_LOG_MAX_INDEX ||
        m->log_term > VSMR_LOG_MAX_INDEX || m->commit > VSMR_LOG_MAX_INDEX ||
        m->hint > VSMR_LOG_MAX_INDEX ||
        m->index + m->n_entries > VSMR_LOG_MAX_INDEX)
        return "index or term out of range";
    bool response = m->type == VSMR_MSG_APPEND_RESP ||
                    m->type == VSMR_MSG_VOTE_RESP ||
                    m->type == VSMR_MSG_PREVOTE_RESP;
    if (m->term == 0 && !response)   /* only a refusal can come from term 0 */
        return "term 0";
    if ((m->type == VSMR_MSG_APPEND || m->type == VSMR_MSG_SNAPSHOT) &&
        m->log_term > m->term)
        return "log term above message term";
    return check_entries(m);
}

static bool in_lease(const struct vsmr_log *l)
{
    return l->leader != 0 && l->election_elapsed < l->cfg.election_ticks;
}

/* A message from an older term: tell a stale leader or pre-candidate
 * about the newer term, ignore the rest. */
static void answer_stale(struct vsmr_log *l, const struct vsmr_msg *m)
{
    struct vsmr_msg r = {.from = l->id, .to = m->from, .term = l->term,
                         .flags = VSMR_MSG_F_REJECT};
    if (m->type == VSMR_MSG_APPEND || m->type == VSMR_MSG_SNAPSHOT)
        r.type = VSMR_MSG_APPEND_RESP;
    else if (m->type == VSMR_MSG_PREVOTE)
        r.type = VSMR_MSG_PREVOTE_RESP;
    else
        return;
    r.index = m->index;
    r.hint = m->index;
    send_msg(l, &r, 0);
}

/* Returns false when the message is to be dropped. */
static bool apply_term_rules(struct vsmr_log *l, const struct vsmr_msg *m)
{
    if (m->term < l->term) {
        answer_stale(l, m);
        return false;
    }
    if (m->term == l->term)
        return true;
    bool vote_req = m->type == VSMR_MSG_VOTE || m->type == VSMR_MSG_PREVOTE;
    if (vote_req && !(m->flags & VSMR_MSG_F_TRANSFER) && in_lease(l))
        return false;   /* a live leader exists: do not disrupt it */
    if (m->type == VSMR_MSG_PREVOTE ||
        (m->type == VSMR_MSG_PREVOTE_RESP && !(m->flags & VSMR_MSG_F_REJECT)))
        return true;    /* pre-votes never move our term */
    bool from_leader = m->type == VSMR_MSG_APPEND ||
                       m->type == VSMR_MSG_SNAPSHOT;
    become_follower(l, m->term, from_leader ? m->from : 0);
    return true;
}

/* APPEND or SNAPSHOT in our term: the sender is the leader. */
static int follow(struct vsmr_log *l, const struct vsmr_msg *m)
{
    if (l->role == VSMR_LOG_LEADER)
        return reject_msg(l, "a second leader in our term", m);
    if (l->role != VSMR_LOG_FOLLOWER || l->leader != m->from)
        become_follower(l, l->term, m->from);
    l->election_elapsed = 0;
    if (m->type == VSMR_MSG_SNAPSHOT) {
        handle_snapshot(l, m);
        return VSMR_OK;
    }
    int rc = handle_append(l, m);
    if (rc)
        l->stats.msgs_rejected++;
    return rc;
}

static int dispatch(struct vsmr_log *l, const struct vsmr_msg *m)
{
    switch (m->type) {
    case VSMR_MSG_APPEND:
    case VSMR_MSG_SNAPSHOT:
        return follow(l, m);
    case VSMR_MSG_APPEND_RESP:
        if (l->role != VSMR_LOG_LEADER)
            return VSMR_OK;
        if (!(m->flags & VSMR_MSG_F_REJECT) && m->index > l->store.last)
            return reject_msg(l, "acknowledges entries never sent", m);
        handle_append_response(l, m);
        return VSMR_OK;
    case VSMR_MSG_VOTE:
    case VSMR_MSG_PREVOTE:
        handle_vote_request(l, m);
        return VSMR_OK;
    case VSMR_MSG_VOTE_RESP:
    case VSMR_MSG_PREVOTE_RESP:
        handle_vote_response(l, m);
        return VSMR_OK;
    case VSMR_MSG_TIMEOUT_NOW:
        if (l->voter && l->candidate && l->role == VSMR_LOG_FOLLOWER &&
            l->leader == m->from)
            campaign(l, false, true);
        return VSMR_OK;
    }
    return VSMR_OK;
}

int vsmr_log_step(struct vsmr_log *l, const struct vsmr_msg *m)
{
    if (l->rd_open)
        return vsmr_fail(VSMR_ESTATE, "log: step between ready and advance");
    const char *why = check_msg(l, m);
    if (why)
        return reject_msg(l, why, m);
    if (!apply_term_rules(l, m))
        return VSMR_OK;
    if (l->role == VSMR_LOG_LEADER) {
        peer_of(l, m->from)->active = true;
        peer_of(l, m->from)->silent = 0;
    }
    return dispatch(l, m);
}
