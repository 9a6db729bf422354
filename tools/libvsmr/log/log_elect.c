/*
 * log_elect.c - elections: pre-vote (a node that cannot win does not bump
 * its term), the vote proper, and the leader lease that makes followers
 * ignore campaigns while they hear from a live leader.
 */
#include "log/log_internal.h"

bool log_up_to_date(const struct vsmr_log *l, uint64_t last_index,
                    uint64_t last_term)
{
    uint64_t my_term = store_last_term(&l->store);
    return last_term > my_term ||
           (last_term == my_term && last_index >= l->store.last);
}

static size_t count_votes(struct vsmr_log *l, bool granted)
{
    size_t n = 0;
    for (uint32_t p = 1; p <= l->cfg.n_nodes; p++)
        n += granted ? peer_of(l, p)->vote_granted
                     : peer_of(l, p)->vote_rejected;
    return n;
}

static void tally(struct vsmr_log *l, bool transfer)
{
    if (count_votes(l, true) >= quorum(l)) {
        if (l->role == VSMR_LOG_PRE_CANDIDATE)
            campaign(l, false, transfer);
        else
            become_leader(l);
    } else if (count_votes(l, false) >= quorum(l)) {
        become_follower(l, l->term, 0);
    }
}

void campaign(struct vsmr_log *l, bool pre_vote, bool transfer)
{
    l->stats.elections++;
    for (uint32_t p = 1; p <= l->cfg.n_nodes; p++)
        peer_of(l, p)->vote_granted = peer_of(l, p)->vote_rejected = false;
    uint64_t vote_term = l->term + 1;
    if (pre_vote) {
        l->role = VSMR_LOG_PRE_CANDIDATE;
    } else {
        set_term(l, vote_term);
        l->vote = l->id;
        l->role = VSMR_LOG_CANDIDATE;
    }
    l->leader = 0;
    reset_election_timer(l);
    peer_of(l, l->id)->vote_granted = true;
    FOR_EACH_PEER(l, p) {
        struct vsmr_msg m = {
            .type = pre_vote ? VSMR_MSG_PREVOTE : VSMR_MSG_VOTE,
            .flags = transfer ? VSMR_MSG_F_TRANSFER : 0,
            .from = l->id, .to = p, .term = vote_term,
            .index = l->store.last,
            .log_term = store_last_term(&l->store),
        };
        send_msg(l, &m, 0);
    }
    tally(l, transfer);
}

void handle_vote_request(struct vsmr_log *l, const struct vsmr_msg *m)
{
    bool pre = m->type == VSMR_MSG_PREVOTE;
    bool can_vote = l->vote == m->from ||
                    (l->vote == 0 && l->leader == 0) ||
                    (pre && m->term > l->term);
    bool grant = l->voter && can_vote &&
                 log_up_to_date(l, m->index, m->log_term);
    if (grant && !pre) {
        l->vote = m->from;
        l->hard_dirty = true;
        reset_election_timer(l);
    }
    struct vsmr_msg r = {
        .type = pre ? VSMR_MSG_PREVOTE_RESP : VSMR_MSG_VOTE_RESP,
        .flags = grant ? 0 : VSMR_MSG_F_REJECT,
        .from = l->id, .to = m->from,
        /* a granted pre-vote answers in the term the candidate asked for */
        .term = grant && pre ? m->term : l->term,
    };
    send_msg(l, &r, 0);
}

void handle_vote_response(struct vsmr_log *l, const struct vsmr_msg *m)
{
    bool pre = m->type == VSMR_MSG_PREVOTE_RESP;
    bool reject = m->flags & VSMR_MSG_F_REJECT;
    if (pre ? l->role != VSMR_LOG_PRE_CANDIDATE : l->role != VSMR_LOG_CANDIDATE)
        return;
    uint64_t expect = pre && !reject ? l->term + 1 : l->term;
    if (m->term != expect)
        return;
    struct peer *p = peer_of(l, m->from);
    p->vote_granted |= !reject;
    p->vote_rejected |= reject;
    tally(l, false);
}
