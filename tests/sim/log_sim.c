/*
 * log_sim.c - the simulator's driver loop and its invariant checker (see
 * log_sim.h). Each replica is driven exactly as vsmrd drives it: tick,
 * step decoded messages, persist/send/apply the ready batch, advance.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "vsmr/vsmr.h"
#include "log_sim.h"
#include "sim_disk.c"
#include "sim_net.c"

struct sim_node {
    struct vsmr_log *log;
    struct sim_disk disk;
    bool up;
    bool learner;            /* restarted wiped: no vote until promoted */
    uint64_t term_at_wipe;
    uint64_t applied;        /* what the application has applied */
    uint64_t verified;       /* entries up to here checked vs. record */
};

struct sim_rec { uint64_t term, digest; };

struct sim {
    uint64_t rng, now;
    struct sim_node nodes[SIM_N + 1];   /* 1-based */
    struct sim_net net;
    struct sim_rec *rec;                /* committed entries, by index */
    uint64_t n_rec, cap_rec;
    uint32_t *leader_of_term;
    uint64_t cap_terms;
    uint64_t next_payload, proposed_marker;
    uint32_t crash_per_mille;           /* per tick, chosen per seed */
    bool faults_on;                     /* crashes allowed (fault phase) */
    uint32_t log_capacity, outbox_capacity;
    bool lazy_witness;
    struct sim_result *res;
    bool verbose;
};

static const enum vsmr_log_kind sim_kinds[SIM_N] = {
    VSMR_LOG_PRIMARY, VSMR_LOG_BACKUP, VSMR_LOG_WITNESS};

static void sim_fail(struct sim *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void sim_fail(struct sim *s, const char *fmt, ...)
{
    if (!s->res->ok)
        return;
    s->res->ok = false;
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(s->res->why, sizeof s->res->why, "tick %llu: ",
                     (unsigned long long)s->now);
    vsnprintf(s->res->why + n, sizeof s->res->why - (size_t)n, fmt, ap);
    va_end(ap);
}

static uint64_t digest(const struct vsmr_entry *e)
{
    uint64_t h = UINT64_C(1469598103934665603) ^ e->type ^ (e->aux << 8);
    for (uint32_t i = 0; i < e->len; i++)
        h = (h ^ e->data[i]) * UINT64_C(1099511628211);
    return h;
}

/* --- the record of committed entries -------------------------------- */

static void record(struct sim *s, uint32_t id, const struct vsmr_entry *e)
{
    while (e->index >= s->cap_rec) {
        s->cap_rec = s->cap_rec ? s->cap_rec * 2 : 1024;
        s->rec = realloc(s->rec, s->cap_rec * sizeof *s->rec);
        memset(s->rec + s->n_rec, 0, (s->cap_rec - s->n_rec) * sizeof *s->rec);
    }
    struct sim_rec *r = &s->rec[e->index];
    if (e->index < s->n_rec && r->term) {
        if (r->term != e->term || r->digest != digest(e))
            sim_fail(s, "committed entry %llu differs on replica %u",
                 (unsigned long long)e->index, id);
        return;
    }
    if (e->index > s->n_rec)
        sim_fail(s, "replica %u committed %llu past a gap at %llu", id,
             (unsigned long long)e->index, (unsigned long long)s->n_rec);
    r->term = e->term;
    r->digest = digest(e);
    s->n_rec = e->index + 1;
}

static void check_leader_unique(struct sim *s, uint32_t id)
{
    struct vsmr_log *l = s->nodes[id].log;
    if (vsmr_log_role(l) != VSMR_LOG_LEADER)
        return;
    uint64_t t = vsmr_log_term(l);
    while (t >= s->cap_terms) {
        uint64_t old = s->cap_terms;
        s->cap_terms = old ? old * 2 : 64;
        s->leader_of_term = realloc(s->leader_of_term,
                                    s->cap_terms * sizeof(uint32_t));
        memset(s->leader_of_term + old, 0, (s->cap_terms - old) * 4);
    }
    if (s->leader_of_term[t] && s->leader_of_term[t] != id)
        sim_fail(s, "two leaders in term %llu: %u and %u",
             (unsigned long long)t, s->leader_of_term[t], id);
    s->leader_of_term[t] = id;
}

/* Every entry a replica holds up to its commit index is the record's. */
static void check_commits(struct sim *s, uint32_t id)
{
    struct sim_node *n = &s->nodes[id];
    uint64_t commit = vsmr_log_commit_index(n->log);
    uint64_t from = vsmr_log_first_index(n->log);
    if (from <= n->verified)
        from = n->verified + 1;
    for (uint64_t i = from; i <= commit; i++) {
        const struct vsmr_entry *e = vsmr_log_entry(n->log, i);
        if (!e) {
            sim_fail(s, "replica %u lost committed entry %llu", id,
                 (unsigned long long)i);
            return;
        }
        record(s, id, e);
    }
    n->verified = commit;
}

/* Each committed entry is durable on a majority: any single failure
 * (even a wiped disk) leaves it on another replica. `from` 0 checks all
 * entries not compacted everywhere. */
static void check_durable(struct sim *s, uint64_t from)
{
    uint64_t lo = UINT64_MAX;
    for (uint32_t id = 1; id <= SIM_N; id++)
        if (s->nodes[id].disk.snap_index < lo)
            lo = s->nodes[id].disk.snap_index;
    if (from > lo)
        lo = from;
    for (uint64_t i = lo + 1; i < s->n_rec; i++) {
        int holders = 0;
        for (uint32_t id = 1; id <= SIM_N; id++)
            holders += disk_has(&s->nodes[id].disk, i, s->rec[i].term);
        if (holders < SIM_N / 2 + 1) {
            sim_fail(s, "committed entry %llu is on %d disk(s) only",
                 (unsigned long long)i, holders);
            return;
        }
    }
}

static uint32_t find_leader(struct sim *s);
static void crash(struct sim *s, uint32_t id);

/* --- driving one replica -------------------------------------------- */

static void persist(struct sim_node *n, const struct vsmr_log_ready *rd)
{
    if (rd->hard_state_changed)
        n->disk.hs = rd->hard_state;
    if (rd->snapshot_changed) {
        disk_drop_from(&n->disk, 0);
        n->disk.snap_index = rd->snap_index;
        n->disk.snap_term = rd->snap_term;
        n->applied = rd->snap_index;   /* state restored by the sync */
    }
    for (size_t i = 0; i < rd->n_entries; i++)
        disk_append(&n->disk, &rd->entries[i]);
}

static void apply(struct sim *s, uint32_t id, const struct vsmr_log_ready *rd)
{
    struct sim_node *n = &s->nodes[id];
    for (size_t i = 0; i < rd->n_committed; i++) {
        const struct vsmr_entry *e = &rd->committed[i];
        if (e->index != n->applied + 1)
            sim_fail(s, "replica %u applied %llu after %llu", id,
                 (unsigned long long)e->index,
                 (unsigned long long)n->applied);
        record(s, id, e);
        n->applied = e->index;
    }
}

static void send(struct sim *s, uint32_t id, const struct vsmr_msg *m)
{
    if (!net_send(&s->net, &s->rng, s->now, m))
        sim_fail(s, "replica %u built an unencodable message: %s", id,
                 vsmr_errmsg());
}

static void drive(struct sim *s, uint32_t id)
{
    struct sim_node *n = &s->nodes[id];
    struct vsmr_log_ready rd;
    while (n->up && vsmr_log_has_ready(n->log)) {
        vsmr_log_ready(n->log, &rd);
        /* As vsmrd: a leader's APPENDs leave before its own write, and a
         * crash may fall in between (followers then hold entries that
         * the leader's disk never got). */
        for (size_t i = 0; i < rd.n_early_msgs; i++)
            send(s, id, &rd.msgs[i]);
        if (rd.n_early_msgs && s->faults_on &&
            chance(&s->rng, 1 + s->crash_per_mille / 8)) {
            s->res->early_crashes++;
            crash(s, id);
            return;
        }
        persist(n, &rd);
        for (size_t i = rd.n_early_msgs; i < rd.n_msgs; i++)
            send(s, id, &rd.msgs[i]);
        apply(s, id, &rd);
        vsmr_log_advance(n->log);
    }
    check_leader_unique(s, id);
    check_commits(s, id);
}

static void start(struct sim *s, uint32_t id, bool learner)
{
    struct sim_node *n = &s->nodes[id];
    struct vsmr_log_config cfg = {
        .id = id, .n_nodes = SIM_N, .seed = sim_rand(&s->rng),
        .election_ticks = 10, .log_capacity = s->log_capacity,
        .outbox_capacity = s->outbox_capacity,
        .max_append_entries = 1 + (uint32_t)(sim_rand(&s->rng) % 16),
        .learner = learner, .lazy_witness = s->lazy_witness,
    };
    memcpy(cfg.kinds, sim_kinds, sizeof sim_kinds);
    if (vsmr_log_new(&cfg, &n->log) != 0)
        abort();
    struct vsmr_log_persisted p = {
        .hs = n->disk.hs, .snap_index = n->disk.snap_index,
        .snap_term = n->disk.snap_term, .entries = n->disk.ents,
        .n_entries = n->disk.n, .applied = n->disk.snap_index,
    };
    if (vsmr_log_restore(n->log, &p) != 0)
        sim_fail(s, "replica %u cannot restore: %s", id, vsmr_errmsg());
    n->applied = n->disk.snap_index;
    n->verified = 0;
    n->learner = learner;
    n->up = true;
}

/* A core's counters, added to the run's before it goes away. */
static void add_stats(struct sim *s, const struct vsmr_log *l)
{
    struct vsmr_log_stats st;
    vsmr_log_stats(l, &st);
    s->res->elections += st.elections;
    s->res->merged += st.appends_merged;
    s->res->deferred += st.appends_deferred;
}

static void crash(struct sim *s, uint32_t id)
{
    struct sim_node *n = &s->nodes[id];
    add_stats(s, n->log);
    vsmr_log_free(n->log);
    n->log = NULL;
    n->up = false;
    s->res->crashes++;
}

/* Wiping is safe only if the other replicas hold every committed entry
 * and every entry the wiped disk held: a leader may still count the
 * replica's old acknowledgements (docs/log.md, "Wiped disks"). The wiped
 * replica returns as a learner. */
static bool others_hold(struct sim *s, uint32_t id, uint64_t index,
                        uint64_t term)
{
    for (uint32_t o = 1; o <= SIM_N; o++)
        if (o != id && !disk_has(&s->nodes[o].disk, index, term))
            return false;
    return true;
}

static bool can_wipe(struct sim *s, uint32_t id)
{
    for (uint64_t i = 1; i < s->n_rec; i++)
        if (!others_hold(s, id, i, s->rec[i].term))
            return false;
    const struct sim_disk *d = &s->nodes[id].disk;
    for (size_t k = 0; k < d->n; k++)
        if (!others_hold(s, id, d->ents[k].index, d->ents[k].term))
            return false;
    return true;
}

static void restart(struct sim *s, uint32_t id, bool wipe)
{
    struct sim_node *n = &s->nodes[id];
    if (wipe) {
        n->term_at_wipe = n->disk.hs.term;
        disk_wipe(&n->disk);
        s->res->wipes++;
    }
    start(s, id, wipe || n->learner);
}

/* The operator's rule: a wiped replica votes again once its term is past
 * any term in which it could have voted before the wipe. */
static void maybe_promote(struct sim *s, uint32_t id)
{
    struct sim_node *n = &s->nodes[id];
    if (!n->up || !n->learner)
        return;
    if (vsmr_log_term(n->log) > n->term_at_wipe) {
        vsmr_log_set_voter(n->log);
        n->learner = false;
        return;
    }
    /* A stable leader never moves the term: the operator bumps it by
     * handing leadership to the other voter. */
    uint32_t leader = find_leader(s);
    if (leader && leader != id && chance(&s->rng, 50))
        for (uint32_t o = 1; o <= SIM_N && s->nodes[leader].up; o++)
            if (o != id && o != leader && s->nodes[o].up) {
                vsmr_log_transfer_leadership(s->nodes[leader].log, o);
                drive(s, leader);
            }
}

static bool other_learner(struct sim *s, uint32_t id)
{
    for (uint32_t o = 1; o <= SIM_N; o++)
        if (o != id && s->nodes[o].learner)
            return true;
    return false;
}

/* --- events ---------------------------------------------------------- */

static void deliver(struct sim *s, const struct sim_packet *p)
{
    static struct vsmr_entry ents[VSMR_LOG_MAX_MSG_ENTRIES];
    struct sim_node *n = &s->nodes[p->to];
    if (!n->up || s->net.cut[p->from][p->to])
        return;
    struct vsmr_msg m;
    if (vsmr_wire_log_decode(p->buf, p->len, &m, ents,
                             VSMR_LOG_MAX_MSG_ENTRIES) != 0) {
        sim_fail(s, "wire cannot decode its own message: %s", vsmr_errmsg());
        return;
    }
    if (s->verbose)
        fprintf(stderr, "t%llu %u->%u type %u flags %u term %llu index %llu "
                "log_term %llu commit %llu hint %llu n %zu\n",
                (unsigned long long)s->now, m.from, m.to, m.type, m.flags,
                (unsigned long long)m.term, (unsigned long long)m.index,
                (unsigned long long)m.log_term, (unsigned long long)m.commit,
                (unsigned long long)m.hint, m.n_entries);
    int rc = vsmr_log_step(n->log, &m);
    if (rc != 0)
        sim_fail(s, "replica %u refused an honest message: %s", p->to,
             vsmr_errmsg());
    drive(s, p->to);
}

static uint32_t find_leader(struct sim *s)
{
    uint32_t best = 0;
    uint64_t best_term = 0;
    for (uint32_t id = 1; id <= SIM_N; id++) {
        struct sim_node *n = &s->nodes[id];
        if (n->up && vsmr_log_role(n->log) == VSMR_LOG_LEADER &&
            vsmr_log_term(n->log) >= best_term) {
            best = id;
            best_term = vsmr_log_term(n->log);
        }
    }
    return best;
}

/* Proposes one input (or a SYNC marker) at the leader, if any. */
static void propose(struct sim *s, uint64_t *index_out)
{
    uint32_t id = find_leader(s);
    if (!id)
        return;
    uint8_t data[4][40];
    struct vsmr_entry e[4];
    size_t n = 1 + (size_t)(sim_rand(&s->rng) % 4);
    for (size_t i = 0; i < n; i++) {
        uint64_t tag = ++s->next_payload;
        memcpy(data[i], &tag, 8);
        memset(data[i] + 8, (int)tag, sizeof data[i] - 8);
        e[i] = (struct vsmr_entry){.type = VSMR_ENTRY_NORMAL,
            .data = data[i], .len = 8 + (uint32_t)(sim_rand(&s->rng) % 33)};
        if (chance(&s->rng, 100))
            e[i] = (struct vsmr_entry){.type = VSMR_ENTRY_SYNC, .aux = tag};
    }
    int rc = vsmr_log_propose(s->nodes[id].log, e, n, index_out);
    bool witness = sim_kinds[id - 1] == VSMR_LOG_WITNESS;
    if (witness && rc != VSMR_ESTATE)
        sim_fail(s, "the witness leader accepted an input (rc %d)", rc);
    if (!witness && rc != 0 && rc != VSMR_EAGAIN)
        sim_fail(s, "leader %u refused a proposal: %s", id, vsmr_errmsg());
    if (index_out || !chance(&s->rng, 400))
        drive(s, id);   /* else several proposals share one ready batch */
}

static void maybe_compact(struct sim *s, uint32_t id)
{
    struct sim_node *n = &s->nodes[id];
    uint64_t applied = vsmr_log_applied_index(n->log);
    uint64_t first = vsmr_log_first_index(n->log);
    uint32_t keep = s->log_capacity / 8;   /* like checkpoints: often */
    if (applied < first + 2 * keep)
        return;
    uint64_t to = applied - sim_rand(&s->rng) % keep;
    const struct vsmr_entry *e = vsmr_log_entry(n->log, to);
    uint64_t term = e ? e->term : 0;
    if (!e || vsmr_log_compact(n->log, to) != 0) {
        sim_fail(s, "replica %u cannot compact to %llu", id,
             (unsigned long long)to);
        return;
    }
    disk_compact(&n->disk, to, term);
}

static void random_partition(struct sim *s)
{
    memset(s->net.cut, 0, sizeof s->net.cut);
    if (chance(&s->rng, 500))
        return;   /* healed */
    uint32_t alone = 1 + (uint32_t)(sim_rand(&s->rng) % SIM_N);
    for (uint32_t o = 1; o <= SIM_N; o++)
        if (o != alone && (chance(&s->rng, 700)))
            s->net.cut[alone][o] = s->net.cut[o][alone] = true;
}

static void faults(struct sim *s)
{
    uint32_t id = 1 + (uint32_t)(sim_rand(&s->rng) % SIM_N);
    struct sim_node *n = &s->nodes[id];
    if (n->up && chance(&s->rng, s->crash_per_mille))
        crash(s, id);
    else if (!n->up && chance(&s->rng, 60))
        restart(s, id, chance(&s->rng, 250) && !other_learner(s, id) &&
                       can_wipe(s, id));
    if (chance(&s->rng, 10))
        random_partition(s);
    uint32_t leader = find_leader(s);
    if (leader && chance(&s->rng, 5)) {
        vsmr_log_transfer_leadership(s->nodes[leader].log,
                                     1 + (uint32_t)(sim_rand(&s->rng) % SIM_N));
        drive(s, leader);
    }
}

static void tick_all(struct sim *s)
{
    for (uint32_t id = 1; id <= SIM_N; id++) {
        if (!s->nodes[id].up)
            continue;
        vsmr_log_tick(s->nodes[id].log);
        drive(s, id);
        if (!s->nodes[id].up)
            continue;   /* crashed in the middle of a batch */
        maybe_promote(s, id);
        if (chance(&s->rng, 50) || vsmr_log_last_index(s->nodes[id].log) -
                                   vsmr_log_first_index(s->nodes[id].log) >
                                   s->log_capacity / 2)
            maybe_compact(s, id);
    }
}

static void deliver_due(struct sim *s)
{
    struct sim_packet p;
    uint32_t n = 0;
    while (s->res->ok && net_pop_due(&s->net, &s->rng, s->now, &p)) {
        uint64_t before = s->n_rec;
        deliver(s, &p);
        free(p.buf);
        check_durable(s, before - 1);   /* new commits; all: each tick */
        if (++n == 20000)   /* replicas that never converge */
            sim_fail(s, "message storm: %u deliveries in one tick", n);
    }
}

static void one_tick(struct sim *s, bool with_faults)
{
    s->now++;
    s->faults_on = with_faults;
    check_durable(s, 0);
    tick_all(s);
    deliver_due(s);
    if (with_faults)
        faults(s);
    for (int i = 0; i < 3; i++)
        if (chance(&s->rng, 300))
            propose(s, NULL);
}

/* --- the run ---------------------------------------------------------- */

static void heal(struct sim *s)
{
    memset(s->net.cut, 0, sizeof s->net.cut);
    s->net.loss_pct = s->net.dup_pct = 0;
    for (uint32_t id = 1; id <= SIM_N; id++)
        if (!s->nodes[id].up)
            restart(s, id, false);
}

/* After healing: a VM-running leader exists and a new input commits and
 * is applied everywhere. */
static void check_liveness(struct sim *s, uint32_t max_ticks)
{
    uint64_t marker = 0;
    for (uint32_t t = 0; t < max_ticks && s->res->ok; t++) {
        one_tick(s, false);
        uint32_t id = find_leader(s);
        if (!marker && id && sim_kinds[id - 1] != VSMR_LOG_WITNESS)
            propose(s, &marker);
        bool all = marker != 0;
        for (uint32_t n = 1; n <= SIM_N; n++)
            all = all && s->nodes[n].applied >= marker;
        if (all)
            return;
    }
    sim_fail(s, "no progress %u ticks after healing (marker %llu)", max_ticks,
         (unsigned long long)marker);
}

/* Prints each replica's state: the first thing to read on a failure. */
static void dump(struct sim *s)
{
    for (uint32_t id = 1; id <= SIM_N; id++) {
        struct sim_node *n = &s->nodes[id];
        struct vsmr_log *l = n->log;
        fprintf(stderr, "  replica %u (%s)%s%s: %s term %llu leader %u "
                "commit %llu last %llu applied %llu\n", id,
                vsmr_log_kind_name(sim_kinds[id - 1]), n->up ? "" : " down",
                n->learner ? " learner" : "",
                vsmr_log_role_name(vsmr_log_role(l)),
                (unsigned long long)vsmr_log_term(l), vsmr_log_leader(l),
                (unsigned long long)vsmr_log_commit_index(l),
                (unsigned long long)vsmr_log_last_index(l),
                (unsigned long long)n->applied);
    }
}

static void sim_free(struct sim *s)
{
    for (uint32_t id = 1; id <= SIM_N; id++) {
        vsmr_log_free(s->nodes[id].log);
        disk_wipe(&s->nodes[id].disk);
    }
    net_free(&s->net);
    free(s->rec);
    free(s->leader_of_term);
}

static void collect_stats(struct sim *s)
{
    s->res->committed = s->n_rec ? s->n_rec - 1 : 0;
    s->res->msgs = s->net.sent;
    for (uint32_t id = 1; id <= SIM_N; id++)
        add_stats(s, s->nodes[id].log);
}

void sim_run(const struct sim_params *p, struct sim_result *r)
{
    struct sim s = {.rng = p->seed, .verbose = p->verbose, .res = r,
                    .lazy_witness = p->lazy_witness,
                    .n_rec = 1 /* index 0 is never an entry */};
    memset(r, 0, sizeof *r);
    r->ok = true;
    s.net.loss_pct = (uint32_t)(sim_rand(&s.rng) % 25);
    s.net.dup_pct = (uint32_t)(sim_rand(&s.rng) % 10);
    s.net.max_delay = (uint32_t)(sim_rand(&s.rng) % 6);
    s.crash_per_mille = 2 + (uint32_t)(sim_rand(&s.rng) % 40);
    /* A lazy witness waits only while the backup keeps up, which loss,
     * delay and reordering rarely allow: give a third of those runs a
     * calm, TCP-like network, so crashes and partitions hit a witness
     * that really lags. */
    if (p->lazy_witness && chance(&s.rng, 333)) {
        s.net.loss_pct = s.net.dup_pct = s.net.max_delay = 0;
        s.net.fifo = true;
    }
    s.log_capacity = chance(&s.rng, 300) ? 64 : 512;
    s.outbox_capacity = chance(&s.rng, 300) ? 6 : 64;
    for (uint32_t id = 1; id <= SIM_N; id++)
        start(&s, id, false);
    for (uint32_t t = 0; t < p->fault_ticks && r->ok; t++)
        one_tick(&s, true);
    heal(&s);
    if (r->ok)
        check_liveness(&s, p->heal_ticks);
    collect_stats(&s);
    if (!r->ok || p->verbose)
        dump(&s);
    sim_free(&s);
}
