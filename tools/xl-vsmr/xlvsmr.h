/*
 * xlvsmr.h - what the files of xl-vsmr (`xl vsmr`) share: the parsed
 * command line, the domain being protected, the plan (addresses, paths)
 * and each step's entry point. Each step returns 0 or a negative VSMR_E*
 * code with a message naming the cause in vsmr_errmsg().
 */
#ifndef XLVSMR_H
#define XLVSMR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* vsmrd's election timeout for a Xen guest by default (--election-ms). */
#define XLV_ELECTION_MS 3000

#include "vsmr/vsmr.h"

/* Exit codes (documented in docs/operator-guide.md). */
#define XLV_EXIT_OK    0   /* done: protected, stopped, status shown */
#define XLV_EXIT_FAIL  1   /* a runtime error; the domain is left running */
#define XLV_EXIT_USAGE 2   /* bad options or arguments */

#define XLV_RUN_DIR   "/run/vsmr"
#define XLV_DATA_DIR  "/var/lib/vsmr"
#define XLV_BACKUP_SUFFIX "--vsmr-backup"

enum xlv_command { XLV_PROTECT, XLV_STATUS, XLV_STOP, XLV_HELP };

struct xlv_opts {
    enum xlv_command cmd;
    const char *domain;            /* name or id */
    const char *backup_host;       /* [user@]host as given to ssh */
    const char *ssh;               /* -s: the ssh command (sh syntax) */
    const char *witness;           /* -w HOST:PORT */
    char witness_host[256];
    uint16_t witness_port;
    const char *key_file;          /* -k */
    const char *local_addr;        /* -l: this host's replica address */
    const char *backup_bridge;     /* --backup-bridge */
    const char *transport;         /* -T tcp|rdma|auto */
    uint32_t port;                 /* -p: replica port */
    uint32_t min_ms, max_ms;       /* -i, -I */
    uint32_t idle_checks;          /* --idle-checks */
    uint32_t threads;              /* -t, 0 = the host's CPUs */
    bool verify;                   /* --verify */
    bool foreground;               /* -e */
    uint32_t timeout_s;            /* --timeout: waiting for the replicas */
    uint32_t election_ms;          /* --election-ms */
};

/* options.c: fills o from argv. Returns 0, or XLV_EXIT_USAGE with a
 * one-line message in err. Does not touch the system. */
int xlv_parse_args(int argc, char **argv, struct xlv_opts *o, char *err,
                   size_t errlen);
void xlv_usage(const char *prog, int to_stderr);

/* domain.c: the domain as Xen sees it. */
struct xlv_domain {
    uint32_t domid;
    char name[128];
    char uuid[40];
    uint64_t mem_bytes;            /* its current memory */
    bool paused_at_start;
};
/* Opens Xen through the xen guest backend (its clear errors: no Xen, no
 * such domain, PV, shut down), refuses a paused domain, fills d. Never
 * pauses or changes the domain. */
int xlv_domain_check(const char *spec, struct xlv_domain *d);
/* Leaves the domain running: resumes it if a suspend was left behind,
 * unpauses it if it is paused and was not at start. Says what it did. */
void xlv_domain_ensure_running(const struct xlv_domain *d);

/* lock.c: one xl-vsmr per domain. */
int xlv_lock_take(const char *uuid, const char *name, int *fd_out);
/* Writes pid into the lock file (the process that holds the lock now). */
void xlv_lock_set_pid(int fd, pid_t pid);
void xlv_lock_release(const char *uuid, int fd);
/* The pid in the lock file of a held lock, or 0 if nobody holds it. */
pid_t xlv_lock_holder(const char *uuid);

/* remote.c: commands on the backup host through the ssh command, and
 * local commands, each with a time limit. out gets up to outlen-1 bytes
 * of the command's stdout+stderr. Returns the exit status (0..255), or a
 * negative VSMR_E* code (VSMR_ETIMEDOUT after timeout_s). */
int xlv_run_remote(const struct xlv_opts *o, const char *script,
                   const void *in, size_t inlen, unsigned timeout_s,
                   char *out, size_t outlen);
/* Starts "sh -c CMD" with its stdin/stdout on the given fds (-1: keep),
 * in its own process group (a ^C on the terminal reaches only xl-vsmr),
 * SIGPIPE ignored. Returns the pid or a negative code. */
pid_t xlv_spawn_sh(const char *cmd, int in_fd, int out_fd, int err_fd);
/* The command line "SSH HOST 'SCRIPT'" (script quoted for the remote sh). */
int xlv_remote_cmdline(const struct xlv_opts *o, const char *script,
                       char *buf, size_t len);
/* Appends s quoted for sh ('...') to buf; false if it does not fit. */
bool xlv_sh_quote(char *buf, size_t len, const char *s);
/* Waits for pid up to timeout_s; kills its group with SIGTERM (then
 * SIGKILL) on expiry. Returns the exit status or VSMR_ETIMEDOUT. */
int xlv_wait_child(pid_t pid, unsigned timeout_s);

/* reach.c: the plan's addresses, then the backup host, the witness and
 * the cluster key. */
struct xlv_plan {
    char primary[64], backup[64], witness[64];   /* "ip:port" */
    char backup_ip[48];
    char dir[160];                 /* XLV_RUN_DIR/<uuid> on both hosts */
    char data[160];                /* XLV_DATA_DIR/<uuid> */
    char backup_name[160];         /* the backup domain's name */
    uint32_t backup_domid;
    char guest_bridge[16];         /* the first vif's bridge before the
                                      copy moved it ("": no vif) */
    uint64_t protection_id;        /* drawn at each start (conf.c) */
};
int xlv_key_check(const char *path);
int xlv_plan_addresses(const struct xlv_opts *o, struct xlv_plan *p);
int xlv_reach_backup(const struct xlv_opts *o);
int xlv_reach_witness(const struct xlv_opts *o, const struct xlv_plan *p);

/* copy.c: the initial full copy (xl save -c | xl restore on the backup). */
int xlv_copy(const struct xlv_opts *o, const struct xlv_domain *d,
             struct xlv_plan *p);
/* Destroys the backup copy (by its name, never the protected domain). */
void xlv_copy_destroy(const struct xlv_opts *o, const struct xlv_plan *p);

/* progress.c: the progress bar / plain lines of the copy. */
struct xlv_progress {
    bool tty;
    uint64_t total, done;
    int64_t start_ms, last_ms;
};
void xlv_progress_start(struct xlv_progress *pg, uint64_t total, bool tty);
void xlv_progress_update(struct xlv_progress *pg, uint64_t done, bool final);
/* One line of the bar into buf (no newline). */
void xlv_progress_format(uint64_t done, uint64_t total, double secs,
                         int width, char *buf, size_t len);

/* conf.c: the vsmrd configuration of each side. */
enum xlv_side { XLV_PRIMARY = 1, XLV_BACKUP = 2 };
/* A fresh, non-zero id for this protection: a witness kept from an
 * earlier one holds inputs logged before it, which both sides skip. */
int xlv_protection_id_draw(struct xlv_plan *p);
int xlv_conf_write(const struct xlv_opts *o, const struct xlv_domain *d,
                   const struct xlv_plan *p, enum xlv_side side,
                   uint32_t domid, char *buf, size_t len);
/* Keeps the bridge the domain's first vif is on (NULL or "": libxl's
 * default, xenbr0) as the bridge the backup's vif joins at a failover.
 * VSMR_EINVAL if vsmrd could not take it as guest_bridge. */
int xlv_plan_guest_bridge(struct xlv_plan *p, const char *bridge);
/* Paths on either host for this side: "<dir>/<role>.<what>". */
void xlv_side_path(const struct xlv_plan *p, enum xlv_side side,
                   const char *what, char *buf, size_t len);

/* replicas.c: start vsmrd on both hosts, wait until connected; stop. */
struct xlv_replicas {
    pid_t local_pid;
    bool remote_started;
};
int xlv_replicas_start(const struct xlv_opts *o, const struct xlv_domain *d,
                       struct xlv_plan *p, int lock_fd,
                       struct xlv_replicas *r);
void xlv_replicas_stop(const struct xlv_opts *o, const struct xlv_plan *p,
                       struct xlv_replicas *r);

/* state.c: what `xl vsmr stop` and `status` need to find later. */
int xlv_state_save(const struct xlv_opts *o, const struct xlv_domain *d,
                   const struct xlv_plan *p, const struct xlv_replicas *r);
struct xlv_state {
    char name[128], uuid[40], host[256], ssh[512];
    char dir[160], data[160], backup_name[160];
    pid_t local_pid;
};
int xlv_state_load(const char *domain, struct xlv_state *s);
/* The skip-th state matching domain (NULL: any). */
int xlv_state_find(const char *domain, int skip, struct xlv_state *s);
/* Removes the state, configuration and socket of a protection (not its
 * logs). */
void xlv_state_remove(const char *dir);

/* status.c: the status subcommand and vsmrd's control socket. */
int xlv_control_query(const char *sock, const char *cmd, char *out,
                      size_t len);
/* The value of key in a "k=v k=v" line ("" if absent). */
void xlv_kv(const char *line, const char *key, char *val, size_t len);
int xlv_cmd_status(const struct xlv_opts *o);
int xlv_cmd_stop(const struct xlv_opts *o);

/* main.c */
extern const char *xlv_prog;       /* "xl vsmr", "xl-vsmr" or "vsmr-xl" */
extern volatile int xlv_interrupted; /* SIGINT/SIGTERM seen */
int64_t xlv_now_ms(void);
void xlv_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Fails with code and "prefix: <the last message>". */
int xlv_wrap(int code, const char *prefix);

#endif
