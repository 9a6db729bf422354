/*
 * node.c - the driver around the pure log core: decodes messages from the
 * transport and steps them in, ticks on a timer, and for every ready
 * batch sends the leader's early APPENDs, persists (store; fdatasync on a
 * disk), sends the rest, applies, then advances. It owns no protocol
 * logic; that is the core's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include <sodium.h>

#include "common/err.h"
#include "logline.h"
#include "node_impl.h"
#include "wire/wire.h"

#define LOG_CAPACITY     (1u << 18)
#define COMPACT_AT       (1u << 17)   /* entries held before compacting */
#define COMPACT_KEEP     (1u << 16)   /* kept for followers that lag */
#define MAX_LOG_READ     1000u

/* Rejections come from authenticated peers, but a buggy one could flood
 * the log: at most 10 lines a second. */
static void log_rejection(struct node *n, uint32_t peer, const char *why)
{
    n->rejected_msgs++;
    int64_t sec = vsmr_now_ms() / 1000;
    if (sec != n->reject_log_sec) {
        n->reject_log_sec = sec;
        n->reject_logged = 0;
    }
    if (n->reject_logged++ < 10)
        logline(VSMR_LOG_WARN, "message_rejected", "peer=%u reason=\"%s\"",
                peer, why);
}

/* Match index per follower, as the followers report it to the leader. */
static void observe(struct node *n, const struct vsmr_msg *m)
{
    uint64_t term = vsmr_log_term(n->log);
    if (n->match_term != term) {
        memset(n->match, 0, sizeof n->match);
        n->match_term = term;
    }
    if (m->type == VSMR_MSG_APPEND_RESP && !(m->flags & VSMR_MSG_F_REJECT) &&
        m->term == term && m->from <= VSMR_MAX_PEERS &&
        m->index > n->match[m->from])
        n->match[m->from] = m->index;
    if (m->type == VSMR_MSG_APPEND && n->learner && !n->join_target)
        n->join_target = m->commit ? m->commit : 1;
}

/* Frames of the sync protocol and page batches go to the guest side. */
static bool is_sync_frame(const uint8_t *data, size_t len)
{
    struct vsmr_wire_header h;
    return vsmr_wire_header_decode(data, len, &h) == VSMR_OK &&
           h.type >= VSMR_WIRE_TYPE_SYNC_FIRST &&
           h.type <= VSMR_WIRE_TYPE_PAGES_LAST;
}

static void on_message(void *ctx, uint32_t peer, const uint8_t *data,
                       size_t len)
{
    struct node *n = ctx;
    struct vsmr_msg m;
    if (is_sync_frame(data, len)) {
        if (n->hooks.frame)
            n->hooks.frame(n->hooks.ctx, peer, data, len);
        else
            log_rejection(n, peer, "sync frame, but this replica runs no "
                                   "guest");
        return;
    }
    if (vsmr_wire_log_decode(data, len, &m, n->dec_ents,
                             VSMR_LOG_MAX_MSG_ENTRIES) < 0) {
        log_rejection(n, peer, vsmr_errmsg());
        return;
    }
    if (m.from != peer || m.to != n->cfg.id) {
        char why[96];
        snprintf(why, sizeof why, "message from %u to %u on the link of "
                 "node %u", m.from, m.to, peer);
        log_rejection(n, peer, why);
        return;
    }
    observe(n, &m);
    if (vsmr_log_step(n->log, &m) < 0)
        log_rejection(n, peer, vsmr_errmsg());
}

static void on_peer(void *ctx, uint32_t peer, bool up)
{
    struct node *n = ctx;
    if (!up)
        n->match[peer] = 0;
    if (n->in_ready && !up) {
        /* A flush of early messages reset the link between ready() and
         * advance(); the hook may reach the core (or poll the transport),
         * so it hears about it after advance(). */
        n->peers_down |= 1u << peer;
        return;
    }
    if (n->hooks.peer)
        n->hooks.peer(n->hooks.ctx, peer, up);
}

static void on_transport_log(void *ctx, enum vsmr_log_level lvl,
                             const char *line)
{
    logline_raw(lvl, line);
}

static void send_msg(struct node *n, const struct vsmr_msg *m)
{
    size_t need = vsmr_wire_log_size(m), written;
    if (need > n->enc_cap) {
        uint8_t *b = realloc(n->enc, need);
        if (!b) {
            n->send_drops++;
            return;
        }
        n->enc = b;
        n->enc_cap = need;
    }
    if (vsmr_wire_log_encode(m, n->enc, n->enc_cap, &written) < 0) {
        logline(VSMR_LOG_ERROR, "encode_failed", "to=%u reason=\"%s\"",
                m->to, vsmr_errmsg());
        return;
    }
    /* Not connected or queue full: dropped like a lost packet; the core
     * retransmits. */
    if (n->tops->send(n->tr, m->to, n->enc, written) < 0)
        n->send_drops++;
}

static void note_soft_state(struct node *n, const struct vsmr_log_ready *rd)
{
    uint64_t term = vsmr_log_term(n->log);
    bool changed = false;
    if (rd->leader != n->last_leader || term != n->last_term) {
        changed = true;
        if (rd->leader != n->last_leader && rd->leader)
            logline(VSMR_LOG_INFO, "leader_changed", "leader=%u term=%llu "
                    "witness=%s", rd->leader, (unsigned long long)term,
                    rd->leader_is_witness ? "yes" : "no");
        n->last_leader = rd->leader;
        n->last_term = term;
    }
    if (rd->role != n->last_role) {
        logline(VSMR_LOG_INFO, "role_changed", "role=%s term=%llu",
                vsmr_log_role_name(rd->role), (unsigned long long)term);
        n->last_role = rd->role;
        changed = true;
    }
    if (changed && n->hooks.role)
        n->hooks.role(n->hooks.ctx, rd->role, rd->leader, term);
}

/* A batch whose only durable change is the commit index: the store would
 * write it without fsync (a commit may lag, docs/log.md), but even that
 * write() sits on the leader's commit path. Keep it and write it with the
 * next batch that writes anything, or at the next tick. */
static bool commit_only(const struct vsmr_log_ready *rd,
                        const struct vsmr_log_hard_state *saved)
{
    return rd->hard_state_changed && !rd->snapshot_changed &&
           !rd->n_entries && rd->hard_state.term == saved->term &&
           rd->hard_state.vote == saved->vote;
}

static int save_ready(struct node *n, const struct vsmr_log_ready *rd)
{
    if (commit_only(rd, &n->hs_saved)) {
        n->hs_pending = rd->hard_state;
        n->commit_pending = true;
        return VSMR_OK;
    }
    struct vsmr_log_ready r = *rd;
    if (n->commit_pending && !r.hard_state_changed &&
        (r.n_entries || r.snapshot_changed)) {
        r.hard_state_changed = true;   /* carry the kept commit index */
        r.hard_state = n->hs_pending;
    }
    int rc = vsmr_store_save_ready(n->store, &r);
    if (rc == VSMR_OK && r.hard_state_changed) {
        n->hs_saved = r.hard_state;
        n->commit_pending = false;
    }
    return rc;
}

/* The tick bounds how far the stored commit index lags. */
static void save_pending_commit(struct node *n)
{
    if (!n->commit_pending)
        return;
    struct vsmr_log_ready r = {.hard_state_changed = true,
                               .hard_state = n->hs_pending};
    if (vsmr_store_save_ready(n->store, &r) == VSMR_OK) {
        n->hs_saved = r.hard_state;
        n->commit_pending = false;
    }
}

static void handle_one_ready(struct node *n)
{
    struct vsmr_log_ready rd;
    vsmr_log_ready(n->log, &rd);
    /* A leader's APPENDs go out before its own write of the entries, so
     * the followers' writes overlap it; the core counts the leader's own
     * copy only at advance(), once saved. Without entries to write there
     * is nothing to overlap: they wait for the flush before sleep and
     * share its frame (one wake-up per follower, not two). */
    for (size_t i = 0; i < rd.n_early_msgs; i++)
        send_msg(n, &rd.msgs[i]);
    if (rd.n_early_msgs && rd.n_entries) {
        n->in_ready = true;
        n->tops->flush(n->tr);
        n->in_ready = false;
    }
    if (save_ready(n, &rd) < 0) {
        /* Sending after a failed write could acknowledge what is not
         * durable: stop instead. */
        logline(VSMR_LOG_ERROR, "store_failed", "reason=\"%s\"",
                vsmr_errmsg());
        n->failed = true;
        loop_stop(n->loop);
        return;
    }
    for (size_t i = rd.n_early_msgs; i < rd.n_msgs; i++)
        send_msg(n, &rd.msgs[i]);
    if (rd.n_committed)
        bench_on_commit(n, rd.committed, rd.n_committed);
    if (rd.n_committed && n->hooks.committed)
        n->hooks.committed(n->hooks.ctx, rd.committed, rd.n_committed);
    note_soft_state(n, &rd);
    vsmr_log_advance(n->log);
    for (uint32_t peer = 1; n->peers_down && peer <= VSMR_MAX_PEERS; peer++)
        if (n->peers_down & (1u << peer)) {
            n->peers_down &= ~(1u << peer);
            if (n->hooks.peer)
                n->hooks.peer(n->hooks.ctx, peer, false);
        }
}

static void maybe_compact(struct node *n)
{
    uint64_t applied = vsmr_log_applied_index(n->log);
    uint64_t first = vsmr_log_first_index(n->log);
    if (applied < first || applied - first < COMPACT_AT)
        return;
    uint64_t upto = applied - COMPACT_KEEP;
    const struct vsmr_entry *e = vsmr_log_entry(n->log, upto);
    if (!e || vsmr_log_compact(n->log, upto) < 0)
        return;
    if (vsmr_store_save_compaction(n->store, upto, e ? e->term : 0) < 0)
        logline(VSMR_LOG_WARN, "store_compaction_failed", "reason=\"%s\"",
                vsmr_errmsg());
}

static void after_apply(struct node *n)
{
    uint64_t applied = vsmr_log_applied_index(n->log);
    if (n->learner && n->join_target && applied >= n->join_target) {
        vsmr_log_set_voter(n->log);
        n->learner = false;
        logline(VSMR_LOG_INFO, "caught_up", "applied=%llu voter=yes",
                (unsigned long long)applied);
    }
    maybe_compact(n);
    if (n->applied_fn)
        n->applied_fn(n->applied_ctx, applied);
}

/* Runs before every sleep: the core's output goes out in one batch. */
static void before_sleep(void *ctx)
{
    struct node *n = ctx;
    for (int round = 0; round < 8 && !n->failed; round++) {
        bench_refill(n);
        if (!vsmr_log_has_ready(n->log))
            break;
        uint64_t applied = vsmr_log_applied_index(n->log);
        while (vsmr_log_has_ready(n->log) && !n->failed)
            handle_one_ready(n);
        if (vsmr_log_applied_index(n->log) != applied)
            after_apply(n);
    }
    n->tops->flush(n->tr);
}

static void on_tick(void *ctx)
{
    struct node *n = ctx;
    vsmr_log_tick(n->log);
    save_pending_commit(n);
    n->tops->poll(n->tr);   /* reconnects and keepalives run on time */
}

static void on_transport_fd(void *ctx, uint32_t events)
{
    struct node *n = ctx;
    n->tops->poll(n->tr);
}

static int open_core(struct node *n, bool bootstrap)
{
    struct vsmr_log_persisted p;
    bool fresh;
    int rc = vsmr_store_open(n->cfg.data_dir, n->cfg.fsync, &n->store, &p,
                             &fresh);
    if (rc < 0)
        return rc;
    const char *fs, *why;
    const char *mode = vsmr_store_sync_mode(n->store, &fs, &why);
    logline(VSMR_LOG_INFO, "store_sync", "dir=%s fs=%s sync=%s reason=\"%s\"",
            n->cfg.data_dir, fs, mode, why);
    if (vsmr_store_dropped_tail(n->store))
        logline(VSMR_LOG_WARN, "store_tail_dropped", "bytes=%llu "
                "reason=\"torn or corrupt records after a crash\"",
                (unsigned long long)vsmr_store_dropped_tail(n->store));
    struct vsmr_log_config lc = {
        .id = n->cfg.id,
        .n_nodes = n->cfg.n_peers,
        .election_ticks = n->cfg.election_ticks,
        .heartbeat_ticks = n->cfg.heartbeat_ticks,
        .log_capacity = LOG_CAPACITY,
        .learner = fresh && !bootstrap,
        .lazy_witness = n->cfg.lazy_witness,
    };
    randombytes_buf(&lc.seed, sizeof lc.seed);
    for (uint32_t i = 0; i < n->cfg.n_peers; i++)
        lc.kinds[i] = (enum vsmr_log_kind)n->cfg.peers[i + 1].role;
    n->learner = lc.learner;
    n->started_fresh = fresh;
    rc = vsmr_log_new(&lc, &n->log);
    if (rc == VSMR_OK && !fresh)
        rc = vsmr_log_restore(n->log, &p);
    n->hs_saved = p.hs;
    vsmr_store_loaded_free(n->store);
    if (rc < 0)
        return rc;
    logline(VSMR_LOG_INFO, "store_loaded", "dir=%s fresh=%s learner=%s "
            "term=%llu last=%llu", n->cfg.data_dir, fresh ? "yes" : "no",
            n->learner ? "yes" : "no",
            (unsigned long long)vsmr_log_term(n->log),
            (unsigned long long)vsmr_log_last_index(n->log));
    return VSMR_OK;
}

/* The transport's sockets sit in our loop (no nested epoll fd): each
 * wake-up is one epoll_wait. */
static int loop_add_fd(void *ctx, int fd, uint32_t events,
                       void (*fn)(void *arg, uint32_t events), void *arg)
{
    return loop_add(ctx, fd, events, fn, arg);
}

static int loop_mod_fd(void *ctx, int fd, uint32_t events)
{
    return loop_mod(ctx, fd, events);
}

static void loop_del_fd(void *ctx, int fd)
{
    loop_del(ctx, fd);
}

static int open_transport(struct node *n, const uint8_t *key)
{
    struct vsmr_transport_config tc = {
        .self_id = n->cfg.id,
        .cluster_id = n->cfg.cluster_id,
        .cipher = n->cfg.cipher,
        .listen_addr = n->cfg.listen_addr,
        .listen_len = n->cfg.listen_len,
        .max_message = VSMR_WIRE_MAX_FRAME,
        .send_queue_limit = 32u << 20,   /* a sync's pages in flight */
        .idle_timeout_ms = n->cfg.idle_timeout_ms,
        .auto_window_ms = n->cfg.auto_rdma_window_ms,
        .loop = {.add = loop_add_fd, .mod = loop_mod_fd, .del = loop_del_fd,
                 .ctx = n->loop},
    };
    memcpy(tc.key, key, sizeof tc.key);
    for (uint32_t id = 1; id <= n->cfg.n_peers; id++) {
        if (id == n->cfg.id)
            continue;
        struct vsmr_peer_addr *pa = &tc.peers[tc.n_peers++];
        pa->id = id;
        pa->addr = n->cfg.peers[id].addr;
        pa->addr_len = n->cfg.peers[id].addr_len;
    }
    struct vsmr_transport_handler h = {
        .on_message = on_message, .on_peer = on_peer,
        .log = on_transport_log, .ctx = n,
    };
    char why[256];
    int rc = vsmr_transport_select(n->cfg.transport, &n->tops, why,
                                   sizeof why);
    if (rc < 0)
        return rc;
    logline(VSMR_LOG_INFO, "transport_selected", "%s", why);
    rc = n->tops->open(&tc, &h, &n->tr);
    sodium_memzero(tc.key, sizeof tc.key);
    if (rc < 0)
        return rc;
    int fd = n->tops->fd(n->tr);   /* -1: its sockets are in our loop */
    return fd < 0 ? VSMR_OK : loop_add(n->loop, fd, EPOLLIN, on_transport_fd,
                                       n);
}

int node_start(const struct vsmr_config *cfg, const uint8_t *key,
               bool bootstrap, struct loop *l, struct node **out)
{
    if (cfg->n_peers > VSMR_LOG_MAX_NODES)
        return vsmr_fail(VSMR_EINVAL, "%s: %u peers, the log supports at "
                         "most %u", cfg->file, cfg->n_peers,
                         VSMR_LOG_MAX_NODES);
    struct node *n = calloc(1, sizeof *n);
    if (!n)
        return vsmr_fail(VSMR_ENOMEM, "node");
    n->cfg = *cfg;
    n->loop = l;
    n->last_role = VSMR_LOG_FOLLOWER;
    int rc = open_core(n, bootstrap);
    if (rc == VSMR_OK)
        rc = open_transport(n, key);
    if (rc == VSMR_OK)
        rc = loop_every(l, cfg->tick_ms, on_tick, n);
    if (rc < 0) {
        int saved = rc;
        char msg[512];
        snprintf(msg, sizeof msg, "%s", vsmr_errmsg());
        node_stop(n);
        return vsmr_fail(saved, "%s", msg);
    }
    loop_before_sleep(l, before_sleep, n);
    *out = n;
    return VSMR_OK;
}

void node_stop(struct node *n)
{
    if (!n)
        return;
    if (n->tr)
        n->tops->close(n->tr);
    if (n->store && !n->failed)
        save_pending_commit(n);
    bench_free(&n->bench);
    vsmr_log_free(n->log);
    vsmr_store_close(n->store);
    free(n->enc);
    free(n);
}

void node_on_applied(struct node *n, node_applied_fn fn, void *ctx)
{
    n->applied_fn = fn;
    n->applied_ctx = ctx;
}

int node_propose(struct node *n, const struct vsmr_entry *ents, size_t count,
                 uint64_t *index, uint64_t *term)
{
    if (n->bench.active)
        return vsmr_fail(VSMR_EAGAIN, "a benchmark is running");
    int rc = vsmr_log_propose(n->log, ents, count, index);
    if (rc == VSMR_ESTATE)
        return vsmr_fail(rc, "not the leader (leader is %u, term %llu)",
                         vsmr_log_leader(n->log),
                         (unsigned long long)vsmr_log_term(n->log));
    if (rc < 0)
        return rc;
    *term = vsmr_log_term(n->log);
    return VSMR_OK;
}

uint64_t node_committed_term(struct node *n, uint64_t index)
{
    if (index > vsmr_log_commit_index(n->log))
        return 0;
    const struct vsmr_entry *e = vsmr_log_entry(n->log, index);
    return e ? e->term : 0;
}

static const char *entry_type_name(uint8_t t)
{
    switch (t) {
    case VSMR_ENTRY_NOOP: return "noop";
    case VSMR_ENTRY_NORMAL: return "normal";
    case VSMR_ENTRY_SYNC: return "sync";
    case VSMR_ENTRY_PROTECT: return "protect";
    default: return "unknown";
    }
}

int node_read_log(struct node *n, uint64_t from, uint64_t count,
                  struct strbuf *out)
{
    uint64_t first = vsmr_log_first_index(n->log);
    uint64_t commit = vsmr_log_commit_index(n->log);
    if (from < 1 || count < 1 || count > MAX_LOG_READ)
        return vsmr_fail(VSMR_ERANGE, "log FROM COUNT: FROM >= 1 and COUNT "
                         "in 1..%u", MAX_LOG_READ);
    if (from < first)
        return vsmr_fail(VSMR_ERANGE, "entries before %llu are compacted",
                         (unsigned long long)first);
    for (uint64_t i = from; i < from + count && i <= commit; i++) {
        const struct vsmr_entry *e = vsmr_log_entry(n->log, i);
        if (!e)
            break;
        sb_printf(out, "index=%llu term=%llu type=%s len=%u data=",
                  (unsigned long long)e->index, (unsigned long long)e->term,
                  entry_type_name(e->type), e->len);
        sb_hex(out, e->data, e->len);
        sb_append(out, "\n", 1);
    }
    return VSMR_OK;
}

static void peer_status(struct node *n, uint32_t id, struct strbuf *out)
{
    struct vsmr_peer_stats st;
    n->tops->stats(n->tr, id, &st);
    bool leader = vsmr_log_role(n->log) == VSMR_LOG_LEADER;
    int64_t ago = st.last_contact_ms < 0 ? -1
                                         : vsmr_now_ms() - st.last_contact_ms;
    sb_printf(out, "peer=%u kind=%s addr=%s connected=%s transport=%s ", id,
              vsmr_role_name(n->cfg.peers[id].role), n->cfg.peers[id].text,
              st.connected ? "yes" : "no",
              st.transport ? st.transport : n->tops->name);
    if (leader)
        sb_printf(out, "match=%llu ", (unsigned long long)n->match[id]);
    else
        sb_printf(out, "match=- ");
    sb_printf(out, "last_contact_ms=%lld connects=%llu msgs_sent=%llu "
              "msgs_received=%llu bytes_sent=%llu bytes_received=%llu "
              "auth_failures=%llu queued_bytes=%zu\n",
              (long long)ago, (unsigned long long)st.connects,
              (unsigned long long)st.msgs_sent,
              (unsigned long long)st.msgs_received,
              (unsigned long long)st.bytes_sent,
              (unsigned long long)st.bytes_received,
              (unsigned long long)st.auth_failures, st.queued_bytes);
}

void node_status(struct node *n, struct strbuf *out)
{
    struct vsmr_log *g = n->log;
    struct vsmr_log_stats ls;
    vsmr_log_stats(g, &ls);
    enum vsmr_cipher cipher = n->cfg.cipher;
    vsmr_cipher_resolve(cipher, &cipher);   /* the transport did, too */
    sb_printf(out, "node=%u kind=%s role=%s term=%llu leader=%u voter=%s "
              "commit=%llu last=%llu applied=%llu first=%llu encrypt=%s "
              "rejected_msgs=%llu send_drops=%llu elections=%llu "
              "store_bytes=%llu\n", n->cfg.id, vsmr_role_name(n->cfg.role),
              vsmr_log_role_name(vsmr_log_role(g)),
              (unsigned long long)vsmr_log_term(g), vsmr_log_leader(g),
              vsmr_log_is_voter(g) ? "yes" : "no",
              (unsigned long long)vsmr_log_commit_index(g),
              (unsigned long long)vsmr_log_last_index(g),
              (unsigned long long)vsmr_log_applied_index(g),
              (unsigned long long)vsmr_log_first_index(g),
              vsmr_cipher_name(cipher),
              (unsigned long long)(n->rejected_msgs + ls.msgs_rejected),
              (unsigned long long)n->send_drops,
              (unsigned long long)ls.elections,
              (unsigned long long)vsmr_store_size(n->store));
    for (uint32_t id = 1; id <= n->cfg.n_peers; id++)
        if (id != n->cfg.id)
            peer_status(n, id, out);
    if (n->hooks.status)
        n->hooks.status(n->hooks.ctx, out);
}

void node_set_hooks(struct node *n, const struct node_hooks *h)
{
    n->hooks = *h;
}

int node_send_frame(struct node *n, uint32_t peer, const uint8_t *data,
                    size_t len, unsigned timeout_ms)
{
    int64_t deadline = vsmr_now_ms() + timeout_ms;
    for (;;) {
        int rc = n->tops->send(n->tr, peer, data, len);
        if (rc != VSMR_EAGAIN)
            return rc;
        /* The peer's queue is full: push it out and read what came in
         * (acks), then try again. The guest is paused meanwhile. */
        n->tops->flush(n->tr);
        n->tops->poll(n->tr);
        if (vsmr_now_ms() > deadline)
            return vsmr_fail(VSMR_ETIMEDOUT, "peer %u did not drain %zu "
                             "bytes within %u ms", peer, len, timeout_ms);
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
}

void node_flush(struct node *n)
{
    n->tops->flush(n->tr);
}

bool node_is_serving(struct node *n)
{
    return vsmr_log_role(n->log) == VSMR_LOG_LEADER &&
           n->cfg.role != VSMR_ROLE_WITNESS;
}

uint32_t node_id(const struct node *n)
{
    return n->cfg.id;
}

uint32_t node_leader(const struct node *n)
{
    return vsmr_log_leader(n->log);
}

void node_compact(struct node *n, uint64_t index)
{
    const struct vsmr_entry *e = vsmr_log_entry(n->log, index);
    if (!e || index > vsmr_log_applied_index(n->log) ||
        index <= vsmr_log_first_index(n->log))
        return;
    uint64_t term = e->term;
    if (vsmr_log_compact(n->log, index) < 0)
        return;
    if (vsmr_store_save_compaction(n->store, index, term) < 0)
        logline(VSMR_LOG_WARN, "store_compaction_failed", "reason=\"%s\"",
                vsmr_errmsg());
}

uint32_t node_vm_peer(const struct node *n)
{
    for (uint32_t id = 1; id <= n->cfg.n_peers; id++)
        if (id != n->cfg.id && n->cfg.peers[id].role != VSMR_ROLE_WITNESS)
            return id;
    return 0;
}

bool node_peer_connected(struct node *n, uint32_t peer)
{
    struct vsmr_peer_stats st;
    n->tops->stats(n->tr, peer, &st);
    return st.connected;
}

void node_set_candidate(struct node *n, bool candidate)
{
    vsmr_log_set_candidate(n->log, candidate);
}

int node_transfer_leadership(struct node *n, uint32_t to)
{
    return vsmr_log_transfer_leadership(n->log, to);
}

bool node_started_fresh(const struct node *n)
{
    return n->started_fresh;
}
