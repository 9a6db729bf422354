/*
 * config.h - vsmrd's configuration file: strict "key = value" lines, and
 * the cluster key file. Parsing works on a buffer (so it can be fuzzed);
 * every error names the file and line. Nothing here opens sockets.
 */
#ifndef VSMR_CONFIG_CONFIG_H
#define VSMR_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "transport/transport.h"

#define VSMR_CONFIG_MAX_FILE  (64u << 10)
#define VSMR_CONFIG_MAX_LINE  1024u
#define VSMR_CONFIG_PATH_MAX  256u
#define VSMR_KEY_LEN          32u

/* Same values as enum vsmr_log_kind in log/log.h. */
enum vsmr_role { VSMR_ROLE_NONE = 0, VSMR_ROLE_PRIMARY = 1,
                 VSMR_ROLE_BACKUP = 2, VSMR_ROLE_WITNESS = 3 };

struct vsmr_config_peer {
    bool set;
    enum vsmr_role role;
    char text[80];                 /* as written */
    struct sockaddr_storage addr;
    socklen_t addr_len;
};

struct vsmr_config {
    char file[VSMR_CONFIG_PATH_MAX];  /* for error messages */
    uint32_t id;
    enum vsmr_role role;
    uint64_t cluster_id;
    struct vsmr_config_peer peers[VSMR_MAX_PEERS + 1];  /* by id */
    uint32_t n_peers;                 /* ids are 1..n_peers */
    bool has_listen;
    struct sockaddr_storage listen_addr;
    socklen_t listen_len;
    char transport[16];
    char key_file[VSMR_CONFIG_PATH_MAX];
    char control[108];                /* sun_path */
    char data_dir[VSMR_CONFIG_PATH_MAX];
    char log_file[VSMR_CONFIG_PATH_MAX];  /* "" = stderr */
    int log_level;                    /* enum vsmr_log_level */
    enum vsmr_cipher cipher;          /* encrypt = on (AUTO), off, ... */
    bool fsync;
    bool lazy_witness;                /* witness APPENDs in batches */
    uint32_t tick_ms;
    uint32_t election_ticks;
    uint32_t heartbeat_ticks;
    uint32_t idle_timeout_ms;
    uint32_t auto_rdma_window_ms;     /* transport auto: one rdma attempt
                                         (0: the transport's 3000) */

    /* The guest side (primary and backup; a witness runs no guest). */
    char guest[128];                  /* "sim:pages=N,workers=W", "" = none */
    char guest_vif[16];               /* a Xen guest's vif (IFNAMSIZ) */
    char guest_bridge[16];            /* the bridge it joins if promoted
                                         ("": none) */
    bool has_client_listen;           /* the guest's service address */
    struct sockaddr_storage client_addr;
    socklen_t client_len;
    bool remus;                       /* sync_mode = remus (the baseline) */
    bool verify;                      /* hash all memory after each sync */
    bool sync_compress;               /* sync_compress = zstd (default) */
    uint32_t hash_threads;            /* 0: online CPUs */
    uint32_t sync_min_ms, sync_max_ms, sync_idle_checks;
    uint32_t sync_timeout_ms;         /* an epoch taking longer aborts */
    uint32_t sync_backup_wait_ms;     /* primary: how long the next sync
                                         waits for the backup's READY */
    bool sync_backup_wait_set;
    uint64_t max_held_bytes;          /* held output that forces a sync */
    uint64_t protection_id;           /* 0: none; else inputs count from
                                         the PROTECT entry with this id */
};

/* Parses text (len bytes, need not be NUL-terminated); name is used in
 * messages ("FILE:LINE: unknown key 'x'"). Fills defaults, then checks
 * that required keys are present and consistent. */
int vsmr_config_parse(const char *text, size_t len, const char *name,
                      struct vsmr_config *out);
/* Reads and parses a file (at most VSMR_CONFIG_MAX_FILE bytes). */
int vsmr_config_load(const char *path, struct vsmr_config *out);
/* Applies command-line overrides (0 / VSMR_ROLE_NONE: keep), then checks
 * the result again. */
int vsmr_config_override(struct vsmr_config *c, uint32_t id,
                         enum vsmr_role role);
/* Loads the cluster key: a regular file of exactly 32 bytes that neither
 * group nor others may read. */
int vsmr_key_file_load(const char *path, uint8_t key[VSMR_KEY_LEN]);

enum vsmr_role vsmr_role_parse(const char *s);
const char *vsmr_role_name(enum vsmr_role r);

#endif
