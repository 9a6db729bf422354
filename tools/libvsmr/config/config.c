/*
 * config.c - the strict parser of vsmrd's "key = value" configuration:
 * unknown, duplicate, missing or malformed keys are errors naming the
 * file and line. Only parses and checks; opening sockets and files is the
 * daemon's job (except the key file, see key_file.c).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "config/config.h"

struct parse_ctx {
    struct vsmr_config *c;
    const char *name;
    unsigned line;
    unsigned seen_line[40];       /* line where a plain key was set */
};

typedef int (*key_fn)(struct parse_ctx *p, const char *value);

static int bad(struct parse_ctx *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int bad(struct parse_ctx *p, const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return vsmr_fail(VSMR_EINVAL, "%s:%u: %s", p->name, p->line, msg);
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    if (!isdigit((unsigned char)*s) || strlen(s) > 20)
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max)
        return -1;
    *out = v;
    return 0;
}

static int set_u32(struct parse_ctx *p, const char *v, uint32_t lo,
                   uint32_t hi, uint32_t *out, const char *what)
{
    uint64_t x;
    char range[64];
    snprintf(range, sizeof range, "%u..%u", lo, hi);
    if (parse_u64(v, hi, &x) < 0 || x < lo)
        return bad(p, "%s must be an integer in %s", what, range);
    *out = (uint32_t)x;
    return VSMR_OK;
}

static int set_path(struct parse_ctx *p, const char *v, char *dst,
                    size_t size, const char *what)
{
    if (strlen(v) >= size)
        return bad(p, "%s '%s' is too long", what, v);
    if (v[0] != '/')
        return bad(p, "%s '%s' must be an absolute path", what, v);
    strcpy(dst, v);
    return VSMR_OK;
}

static int set_bool(struct parse_ctx *p, const char *v, bool *out,
                    const char *what)
{
    if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true"))
        *out = true;
    else if (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false"))
        *out = false;
    else
        return bad(p, "%s must be on or off, not '%s'", what, v);
    return VSMR_OK;
}

static int k_id(struct parse_ctx *p, const char *v)
{
    return set_u32(p, v, 1, VSMR_MAX_PEERS, &p->c->id, "id");
}

static int k_role(struct parse_ctx *p, const char *v)
{
    p->c->role = vsmr_role_parse(v);
    if (p->c->role == VSMR_ROLE_NONE)
        return bad(p, "role must be primary, backup or witness, not '%s'",
                   v);
    return VSMR_OK;
}

static int k_cluster_id(struct parse_ctx *p, const char *v)
{
    if (parse_u64(v, UINT64_MAX, &p->c->cluster_id) < 0)
        return bad(p, "cluster_id must be an unsigned integer, not '%s'", v);
    return VSMR_OK;
}

static int k_listen(struct parse_ctx *p, const char *v)
{
    if (vsmr_parse_addr(v, &p->c->listen_addr, &p->c->listen_len) < 0)
        return bad(p, "listen: %s", vsmr_errmsg());
    p->c->has_listen = true;
    return VSMR_OK;
}

static int k_transport(struct parse_ctx *p, const char *v)
{
    if (strcmp(v, "tcp") != 0 && strcmp(v, "rdma") != 0 &&
        strcmp(v, "auto") != 0)
        return bad(p, "transport '%s' is not known (known: tcp, rdma, auto)",
                   v);
    strcpy(p->c->transport, v);
    return VSMR_OK;
}

static int k_key_file(struct parse_ctx *p, const char *v)
{
    return set_path(p, v, p->c->key_file, sizeof p->c->key_file,
                    "key_file");
}

static int k_control(struct parse_ctx *p, const char *v)
{
    return set_path(p, v, p->c->control, sizeof p->c->control, "control");
}

static int k_data_dir(struct parse_ctx *p, const char *v)
{
    return set_path(p, v, p->c->data_dir, sizeof p->c->data_dir, "data_dir");
}

static int k_log_file(struct parse_ctx *p, const char *v)
{
    return set_path(p, v, p->c->log_file, sizeof p->c->log_file, "log_file");
}

static int k_log_level(struct parse_ctx *p, const char *v)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++)
        if (!strcmp(v, names[i])) {
            p->c->log_level = i;
            return VSMR_OK;
        }
    return bad(p, "log_level must be debug, info, warn or error, not '%s'",
               v);
}

/* on/off as any boolean, or the AEAD by name (docs/operator-guide.md). */
static int k_encrypt(struct parse_ctx *p, const char *v)
{
    static const struct { const char *name; enum vsmr_cipher c; } names[] = {
        {"aes256gcm", VSMR_CIPHER_AES256GCM},
        {"chacha20poly1305", VSMR_CIPHER_CHACHA20POLY1305},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(v, names[i].name)) {
            p->c->cipher = names[i].c;
            return VSMR_OK;
        }
    bool on;
    if (set_bool(p, v, &on, "encrypt") < 0)
        return bad(p, "encrypt must be on, off, aes256gcm or "
                   "chacha20poly1305, not '%s'", v);
    p->c->cipher = on ? VSMR_CIPHER_AUTO : VSMR_CIPHER_OFF;
    return VSMR_OK;
}

static int k_fsync(struct parse_ctx *p, const char *v)
{
    return set_bool(p, v, &p->c->fsync, "fsync");
}

static int k_lazy_witness(struct parse_ctx *p, const char *v)
{
    return set_bool(p, v, &p->c->lazy_witness, "lazy_witness");
}

static int k_tick_ms(struct parse_ctx *p, const char *v)
{
    return set_u32(p, v, 1, 1000, &p->c->tick_ms, "tick_ms");
}

static int k_election_ticks(struct parse_ctx *p, const char *v)
{
    return set_u32(p, v, 2, 1000, &p->c->election_ticks, "election_ticks");
}

static int k_heartbeat_ticks(struct parse_ctx *p, const char *v)
{
    return set_u32(p, v, 1, 100, &p->c->heartbeat_ticks, "heartbeat_ticks");
}

static int k_idle_timeout_ms(struct parse_ctx *p, const char *v)
{
    return set_u32(p, v, 100, 600000, &p->c->idle_timeout_ms,
                   "idle_timeout_ms");
}

static int k_auto_rdma_window_ms(struct parse_ctx *p, const char *v)
{
    return set_u32(p, v, 100, 60000, &p->c->auto_rdma_window_ms,
                   "auto_rdma_window_ms");
}

static int k_guest(struct parse_ctx *p, const char *v)
{
    if (strlen(v) >= sizeof p->c->guest)
        return bad(p, "guest '%.40s...' is too long", v);
    if (strncmp(v, "sim:", 4) != 0 && strncmp(v, "xen:", 4) != 0)
        return bad(p, "guest must be 'sim:pages=N,workers=W' or "
                   "'xen:DOMAIN', not '%s'", v);
    strcpy(p->c->guest, v);
    return VSMR_OK;
}

/* A network interface name (IFNAMSIZ; the characters Xen's and the usual
 * bridge names use). */
static int set_ifname(struct parse_ctx *p, const char *v, char *out,
                      size_t size, const char *key)
{
    size_t n = strlen(v);
    if (n == 0 || n >= size)
        return bad(p, "%s must be an interface name of 1..%zu characters",
                   key, size - 1);
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)v[i]) && !strchr("._-", v[i]))
            return bad(p, "%s '%s': an interface name has only letters, "
                       "digits, '.', '_' and '-'", key, v);
    memcpy(out, v, n + 1);
    return VSMR_OK;
}

/* The vif netio hooks (vifDOMID.N, or a name the domain's config gave). */
static int k_guest_vif(struct parse_ctx *p, const char *v)
{
    return set_ifname(p, v, p->c->guest_vif, sizeof p->c->guest_vif,
                      "guest_vif");
}

/* The bridge that vif joins when this replica is promoted. */
static int k_guest_bridge(struct parse_ctx *p, const char *v)
{
    return set_ifname(p, v, p->c->guest_bridge, sizeof p->c->guest_bridge,
                      "guest_bridge");
}

static int k_client_listen(struct parse_ctx *p, const char *v)
{
    if (vsmr_parse_addr(v, &p->c->client_addr, &p->c->client_len) < 0)
        return bad(p, "client_listen: %s", vsmr_errmsg());
    p->c->has_client_listen = true;
    return VSMR_OK;
}

static int k_sync_mode(struct parse_ctx *p, const char *v)
{
    if (!strcmp(v, "vsmr") || !strcmp(v, "remus")) {
        p->c->remus = !strcmp(v, "remus");
        return VSMR_OK;
    }
    return bad(p, "sync_mode must be vsmr or remus, not '%s'", v);
}

static int k_verify(struct parse_ctx *p, const char *v)
{
    return set_bool(p, v, &p->c->verify, "verify");
}

/* How this replica sends bitmaps and pages; it receives either way. */
static int k_sync_compress(struct parse_ctx *p, const char *v)
{
    if (!strcmp(v, "zstd") || !strcmp(v, "off")) {
        p->c->sync_compress = !strcmp(v, "zstd");
        return VSMR_OK;
    }
    return bad(p, "sync_compress must be zstd or off, not '%s'", v);
}

static int k_hash_threads(struct parse_ctx *p, const char *v)
{
    return set_u32(p, v, 0, 256, &p->c->hash_threads, "hash_threads");
}

static int k_sync_min_ms(struct parse_ctx *p, const char *v)
{
    return set_u32(p, v, 1, 60000, &p->c->sync_min_ms, "sync_min_ms");
}

static int k_sync_max_ms(struct parse_ctx *p, const char *v)
{
    return set_u32(p, v, 1, 60000, &p->c->sync_max_ms, "sync_max_ms");
}

static int k_sync_idle_checks(struct parse_ctx *p, const char *v)
{
    return set_u32(p, v, 1, 1000, &p->c->sync_idle_checks,
                   "sync_idle_checks");
}

static int k_sync_timeout_ms(struct parse_ctx *p, const char *v)
{
    return set_u32(p, v, 100, 600000, &p->c->sync_timeout_ms,
                   "sync_timeout_ms");
}

static int k_sync_backup_wait_ms(struct parse_ctx *p, const char *v)
{
    p->c->sync_backup_wait_set = true;
    return set_u32(p, v, 0, 600000, &p->c->sync_backup_wait_ms,
                   "sync_backup_wait_ms");
}

/* One protection of a guest (xl vsmr draws one per start): inputs that
 * were logged before its PROTECT entry belong to an earlier one. */
static int k_protection_id(struct parse_ctx *p, const char *v)
{
    if (parse_u64(v, UINT64_MAX, &p->c->protection_id) < 0 ||
        !p->c->protection_id)
        return bad(p, "protection_id must be an integer in 1..2^64-1");
    return VSMR_OK;
}

static int k_max_held_bytes(struct parse_ctx *p, const char *v)
{
    if (parse_u64(v, UINT64_C(1) << 40, &p->c->max_held_bytes) < 0 ||
        p->c->max_held_bytes < 4096)
        return bad(p, "max_held_bytes must be an integer in 4096..2^40");
    return VSMR_OK;
}

static const struct {
    const char *key;
    key_fn fn;
} plain_keys[] = {
    {"guest", k_guest},
    {"guest_vif", k_guest_vif},
    {"guest_bridge", k_guest_bridge},
    {"client_listen", k_client_listen},
    {"sync_mode", k_sync_mode},
    {"verify", k_verify},
    {"sync_compress", k_sync_compress},
    {"hash_threads", k_hash_threads},
    {"sync_min_ms", k_sync_min_ms},
    {"sync_max_ms", k_sync_max_ms},
    {"sync_idle_checks", k_sync_idle_checks},
    {"sync_timeout_ms", k_sync_timeout_ms},
    {"sync_backup_wait_ms", k_sync_backup_wait_ms},
    {"max_held_bytes", k_max_held_bytes},
    {"protection_id", k_protection_id},
    {"id", k_id},
    {"role", k_role},
    {"cluster_id", k_cluster_id},
    {"listen", k_listen},
    {"transport", k_transport},
    {"key_file", k_key_file},
    {"control", k_control},
    {"data_dir", k_data_dir},
    {"log_file", k_log_file},
    {"log_level", k_log_level},
    {"encrypt", k_encrypt},
    {"fsync", k_fsync},
    {"lazy_witness", k_lazy_witness},
    {"tick_ms", k_tick_ms},
    {"election_ticks", k_election_ticks},
    {"heartbeat_ticks", k_heartbeat_ticks},
    {"idle_timeout_ms", k_idle_timeout_ms},
    {"auto_rdma_window_ms", k_auto_rdma_window_ms},
};
_Static_assert(sizeof plain_keys / sizeof plain_keys[0] <=
                   sizeof ((struct parse_ctx *)0)->seen_line /
                   sizeof ((struct parse_ctx *)0)->seen_line[0],
               "parse_ctx.seen_line needs a slot per plain key");

/* "peer.N = ADDRESS ROLE" */
static int k_peer(struct parse_ctx *p, const char *key, const char *v)
{
    uint64_t id;
    if (parse_u64(key + 5, VSMR_MAX_PEERS, &id) < 0 || id == 0)
        return bad(p, "'%s': peer ids are 1..16", key);
    struct vsmr_config_peer *peer = &p->c->peers[id];
    if (peer->set)
        return bad(p, "%s is given twice", key);
    char addr[80], role[16], extra[2];
    int n = sscanf(v, "%79s %15s %1s", addr, role, extra);
    if (n != 2)
        return bad(p, "%s must be 'ADDRESS:PORT ROLE' (role primary, backup "
                   "or witness), not '%s'", key, v);
    peer->role = vsmr_role_parse(role);
    if (peer->role == VSMR_ROLE_NONE)
        return bad(p, "%s: role must be primary, backup or witness, not "
                   "'%s'", key, role);
    if (vsmr_parse_addr(addr, &peer->addr, &peer->addr_len) < 0)
        return bad(p, "%s: %s", key, vsmr_errmsg());
    for (unsigned i = 1; i <= VSMR_MAX_PEERS; i++)
        if (p->c->peers[i].set && !strcmp(p->c->peers[i].text, addr))
            return bad(p, "%s has the same address as peer.%u", key, i);
    snprintf(peer->text, sizeof peer->text, "%s", addr);
    peer->set = true;
    return VSMR_OK;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static int parse_line(struct parse_ctx *p, char *line)
{
    char *s = trim(line);
    if (*s == '\0' || *s == '#')
        return VSMR_OK;
    char *eq = strchr(s, '=');
    if (!eq)
        return bad(p, "expected 'key = value', got '%.60s'", s);
    *eq = '\0';
    char *key = trim(s), *value = trim(eq + 1);
    for (char *k = key; *k; k++)
        if (!islower((unsigned char)*k) && !isdigit((unsigned char)*k) &&
            *k != '_' && *k != '.')
            return bad(p, "key '%.60s' has characters other than a-z 0-9 _ .",
                       key);
    if (*value == '\0')
        return bad(p, "key '%s' has an empty value", key);
    if (!strncmp(key, "peer.", 5))
        return k_peer(p, key, value);
    for (size_t i = 0; i < sizeof plain_keys / sizeof plain_keys[0]; i++) {
        if (strcmp(key, plain_keys[i].key) != 0)
            continue;
        if (p->seen_line[i]) {
            return bad(p, "'%s' is already set on line %u", key,
                       p->seen_line[i]);
        }
        p->seen_line[i] = p->line;
        return plain_keys[i].fn(p, value);
    }
    return bad(p, "unknown key '%.60s'", key);
}

static void set_defaults(struct vsmr_config *c, const char *name)
{
    memset(c, 0, sizeof *c);
    snprintf(c->file, sizeof c->file, "%s", name);
    c->cluster_id = 1;
    strcpy(c->transport, "tcp");
    c->log_level = VSMR_LOG_INFO;
    c->cipher = VSMR_CIPHER_AUTO;
    c->fsync = true;
    c->lazy_witness = true;
    c->sync_compress = true;
    c->tick_ms = 10;
}

static int validate_guest(struct vsmr_config *c);

/* Checks what no single line can: required keys and consistency. */
static int validate(struct vsmr_config *c)
{
    const char *f = c->file;
    if (!c->id)
        return vsmr_fail(VSMR_EINVAL, "%s: missing key 'id'", f);
    for (uint32_t i = 1; i <= VSMR_MAX_PEERS; i++)
        if (c->peers[i].set)
            c->n_peers = i;
    if (c->n_peers == 0)
        return vsmr_fail(VSMR_EINVAL, "%s: no peer.N lines", f);
    unsigned primaries = 0;
    for (uint32_t i = 1; i <= c->n_peers; i++) {
        if (!c->peers[i].set)
            return vsmr_fail(VSMR_EINVAL, "%s: peer.%u is missing (peers "
                             "are numbered 1..%u without gaps)", f, i,
                             c->n_peers);
        primaries += c->peers[i].role == VSMR_ROLE_PRIMARY;
    }
    if (primaries != 1)
        return vsmr_fail(VSMR_EINVAL, "%s: %u peers have role primary; "
                         "exactly one must", f, primaries);
    if (c->id > c->n_peers)
        return vsmr_fail(VSMR_EINVAL, "%s: id %u has no peer.%u line", f,
                         c->id, c->id);
    if (c->role == VSMR_ROLE_NONE)
        c->role = c->peers[c->id].role;
    if (c->role != c->peers[c->id].role)
        return vsmr_fail(VSMR_EINVAL, "%s: role %s disagrees with peer.%u "
                         "(%s)", f, vsmr_role_name(c->role), c->id,
                         vsmr_role_name(c->peers[c->id].role));
    if (!c->key_file[0])
        return vsmr_fail(VSMR_EINVAL, "%s: missing key 'key_file'", f);
    if (!c->control[0])
        return vsmr_fail(VSMR_EINVAL, "%s: missing key 'control'", f);
    if (!c->data_dir[0])
        return vsmr_fail(VSMR_EINVAL, "%s: missing key 'data_dir'", f);
    if (!c->election_ticks)
        c->election_ticks = 1000 / c->tick_ms > 10 ? 1000 / c->tick_ms / 3
                                                   : 10;
    if (!c->heartbeat_ticks)
        c->heartbeat_ticks = c->election_ticks / 10 ? c->election_ticks / 10
                                                    : 1;
    if (c->heartbeat_ticks >= c->election_ticks)
        return vsmr_fail(VSMR_EINVAL, "%s: heartbeat_ticks (%u) must be "
                         "below election_ticks (%u)", f, c->heartbeat_ticks,
                         c->election_ticks);
    if (!c->idle_timeout_ms)
        c->idle_timeout_ms = 3000;
    if (!c->has_listen) {
        c->listen_addr = c->peers[c->id].addr;
        c->listen_len = c->peers[c->id].addr_len;
    }
    return validate_guest(c);
}

/* The guest side: only VM-running replicas have one; sane sync bounds. */
static int validate_guest(struct vsmr_config *c)
{
    const char *f = c->file;
    if (c->guest[0] && c->role == VSMR_ROLE_WITNESS)
        return vsmr_fail(VSMR_EINVAL, "%s: a witness runs no guest; remove "
                         "'guest'", f);
    if (c->has_client_listen && !c->guest[0])
        return vsmr_fail(VSMR_EINVAL, "%s: client_listen needs a 'guest' "
                         "to serve", f);
    if (c->protection_id && !c->guest[0])
        return vsmr_fail(VSMR_EINVAL, "%s: protection_id names a protection "
                         "of a guest; this replica runs none", f);
    bool xen = strncmp(c->guest, "xen:", 4) == 0;
    if (xen && !c->guest_vif[0])
        return vsmr_fail(VSMR_EINVAL, "%s: a Xen guest needs 'guest_vif' "
                         "(its vif in dom0, e.g. vif5.0): vsmrd orders the "
                         "frames that reach the guest through it", f);
    if (!xen && c->guest_vif[0])
        return vsmr_fail(VSMR_EINVAL, "%s: guest_vif is for a Xen guest "
                         "(guest = xen:DOMAIN)", f);
    if (!xen && c->guest_bridge[0])
        return vsmr_fail(VSMR_EINVAL, "%s: guest_bridge is for a Xen guest "
                         "(guest = xen:DOMAIN, with guest_vif)", f);
    if (c->guest_bridge[0] && !strcmp(c->guest_bridge, c->guest_vif))
        return vsmr_fail(VSMR_EINVAL, "%s: guest_bridge names the guest's "
                         "vif (%s); it is the bridge the vif joins", f,
                         c->guest_vif);
    if (xen && c->has_client_listen)
        return vsmr_fail(VSMR_EINVAL, "%s: client_listen is the sim guest's "
                         "service; a Xen guest's clients reach it over its "
                         "own network", f);
    if (!c->sync_min_ms)
        c->sync_min_ms = 5;
    if (!c->sync_max_ms)
        c->sync_max_ms = 200;
    if (!c->sync_idle_checks)
        c->sync_idle_checks = 3;
    if (!c->sync_timeout_ms)
        c->sync_timeout_ms = 10000;
    if (!c->sync_backup_wait_set)
        c->sync_backup_wait_ms = 10000;
    if (!c->max_held_bytes)
        c->max_held_bytes = 1u << 20;
    if (c->sync_min_ms > c->sync_max_ms)
        return vsmr_fail(VSMR_EINVAL, "%s: sync_min_ms (%u) is above "
                         "sync_max_ms (%u)", f, c->sync_min_ms,
                         c->sync_max_ms);
    return VSMR_OK;
}

int vsmr_config_parse(const char *text, size_t len, const char *name,
                      struct vsmr_config *out)
{
    set_defaults(out, name);
    if (len > VSMR_CONFIG_MAX_FILE)
        return vsmr_fail(VSMR_EINVAL, "%s: larger than %u bytes", name,
                         VSMR_CONFIG_MAX_FILE);
    struct parse_ctx p = {.c = out, .name = name};
    char line[VSMR_CONFIG_MAX_LINE + 1];
    size_t pos = 0;
    while (pos < len) {
        p.line++;
        size_t n = 0;
        while (pos < len && text[pos] != '\n') {
            if (text[pos] == '\0')
                return bad(&p, "contains a NUL byte");
            if (n == VSMR_CONFIG_MAX_LINE)
                return bad(&p, "line longer than %u bytes", VSMR_CONFIG_MAX_LINE);
            line[n++] = text[pos++];
        }
        line[n] = '\0';
        pos++;   /* the newline */
        int rc = parse_line(&p, line);
        if (rc < 0)
            return rc;
    }
    return validate(out);
}

int vsmr_config_load(const char *path, struct vsmr_config *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return vsmr_fail_errno(VSMR_ENOENT, "cannot open config %s", path);
    char *buf = malloc(VSMR_CONFIG_MAX_FILE + 1);
    if (!buf) {
        close(fd);
        return vsmr_fail(VSMR_ENOMEM, "config buffer");
    }
    size_t len = 0;
    ssize_t n;
    while ((n = read(fd, buf + len, VSMR_CONFIG_MAX_FILE + 1 - len)) > 0) {
        len += (size_t)n;
        if (len > VSMR_CONFIG_MAX_FILE)
            break;
    }
    int rc = n < 0 ? vsmr_fail_errno(VSMR_EIO, "cannot read config %s", path)
                   : vsmr_config_parse(buf, len, path, out);
    free(buf);
    close(fd);
    return rc;
}

int vsmr_config_override(struct vsmr_config *c, uint32_t id,
                         enum vsmr_role role)
{
    if (id) {
        if (id > c->n_peers)
            return vsmr_fail(VSMR_EINVAL, "--id %u: %s has no peer.%u", id,
                             c->file, id);
        c->id = id;
        if (!c->has_listen) {
            c->listen_addr = c->peers[id].addr;
            c->listen_len = c->peers[id].addr_len;
        }
        if (role == VSMR_ROLE_NONE)
            c->role = c->peers[id].role;
    }
    if (role != VSMR_ROLE_NONE) {
        if (role != c->peers[c->id].role)
            return vsmr_fail(VSMR_EINVAL, "--role %s disagrees with peer.%u "
                             "(%s) in %s", vsmr_role_name(role), c->id,
                             vsmr_role_name(c->peers[c->id].role), c->file);
        c->role = role;
    }
    return VSMR_OK;
}

enum vsmr_role vsmr_role_parse(const char *s)
{
    if (!strcmp(s, "primary"))
        return VSMR_ROLE_PRIMARY;
    if (!strcmp(s, "backup"))
        return VSMR_ROLE_BACKUP;
    if (!strcmp(s, "witness"))
        return VSMR_ROLE_WITNESS;
    return VSMR_ROLE_NONE;
}

const char *vsmr_role_name(enum vsmr_role r)
{
    switch (r) {
    case VSMR_ROLE_PRIMARY: return "primary";
    case VSMR_ROLE_BACKUP: return "backup";
    case VSMR_ROLE_WITNESS: return "witness";
    default: return "none";
    }
}
