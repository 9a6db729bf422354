/*
 * main.c - vsmrd, the VSMR replica daemon: reads the configuration and
 * the cluster key, starts the replica (node.c) and its control socket
 * (control.c), and runs the event loop until SIGTERM or SIGINT.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <sodium.h>

#include "common/err.h"
#include "config/config.h"
#include "control.h"
#include "logline.h"
#include "loop.h"
#include "node.h"
#include "replica.h"

struct options {
    const char *config;
    uint32_t id;
    enum vsmr_role role;
    bool bootstrap;
    bool check_only;
};

static void usage(FILE *f)
{
    fprintf(f,
        "usage: vsmrd --config FILE [--id N] [--role primary|backup|witness]\n"
        "             [--bootstrap] [--check-config]\n"
        "  --bootstrap     an empty data_dir starts a new cluster (votes at\n"
        "                  once); without it an empty data_dir rejoins as a\n"
        "                  rebuilt replica that votes only once caught up\n"
        "  --check-config  check the configuration and key file, then exit\n");
}

static int parse_args(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"id", required_argument, NULL, 'i'},
        {"role", required_argument, NULL, 'r'},
        {"bootstrap", no_argument, NULL, 'b'},
        {"check-config", no_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    char *end;
    while ((ch = getopt_long(argc, argv, "c:i:r:bkhV", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c': o->config = optarg; break;
        case 'b': o->bootstrap = true; break;
        case 'k': o->check_only = true; break;
        case 'i': {
            unsigned long v = strtoul(optarg, &end, 10);
            if (*end || v < 1 || v > VSMR_MAX_PEERS) {
                fprintf(stderr, "vsmrd: --id '%s' is not in 1..%u\n", optarg,
                        VSMR_MAX_PEERS);
                return 2;
            }
            o->id = (uint32_t)v;
            break;
        }
        case 'r':
            o->role = vsmr_role_parse(optarg);
            if (o->role == VSMR_ROLE_NONE) {
                fprintf(stderr, "vsmrd: --role '%s' is not primary, backup "
                        "or witness\n", optarg);
                return 2;
            }
            break;
        case 'h': usage(stdout); exit(0);
        case 'V': printf("vsmrd %s\n", VSMR_VERSION); exit(0);
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "vsmrd: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!o->config) {
        fprintf(stderr, "vsmrd: --config FILE is required\n");
        usage(stderr);
        return 2;
    }
    return 0;
}

static int signal_fd = -1;

static void on_signal(void *ctx, uint32_t events)
{
    struct loop *l = ctx;
    struct signalfd_siginfo si;
    if (read(signal_fd, &si, sizeof si) == (ssize_t)sizeof si)
        logline(VSMR_LOG_INFO, "signal", "signal=%s",
                si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
    loop_stop(l);
}

static int watch_signals(struct loop *l)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        return vsmr_fail_errno(VSMR_ESYS, "sigprocmask");
    signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (signal_fd < 0)
        return vsmr_fail_errno(VSMR_ESYS, "signalfd");
    signal(SIGPIPE, SIG_IGN);
    return loop_add(l, signal_fd, EPOLLIN, on_signal, l);
}

static int load_config(const struct options *o, struct vsmr_config *cfg,
                       uint8_t key[VSMR_KEY_LEN])
{
    if (vsmr_config_load(o->config, cfg) < 0 ||
        vsmr_config_override(cfg, o->id, o->role) < 0 ||
        vsmr_key_file_load(cfg->key_file, key) < 0) {
        fprintf(stderr, "vsmrd: %s\n", vsmr_errmsg());
        return 1;
    }
    return 0;
}

static int run(const struct options *o, const struct vsmr_config *cfg,
               const uint8_t *key)
{
    struct loop *l = NULL;
    struct node *n = NULL;
    struct control *ctl = NULL;
    struct replica *rep = NULL;
    int rc = loop_new(&l);
    if (rc == VSMR_OK)
        rc = watch_signals(l);
    if (rc == VSMR_OK)
        rc = node_start(cfg, key, o->bootstrap, l, &n);
    if (rc == VSMR_OK && cfg->guest[0])
        rc = replica_start(cfg, l, n, &rep);
    if (rc == VSMR_OK)
        rc = control_start(cfg->control, l, n, &ctl);
    if (rc == VSMR_OK) {
        enum vsmr_cipher cipher = cfg->cipher;
        vsmr_cipher_resolve(cipher, &cipher);   /* as the transport did */
        logline(VSMR_LOG_INFO, "started", "kind=%s peers=%u encrypt=%s "
                "lazy_witness=%s control=%s version=%s",
                vsmr_role_name(cfg->role), cfg->n_peers,
                vsmr_cipher_name(cipher), cfg->lazy_witness ? "on" : "off",
                cfg->control, VSMR_VERSION);
        rc = loop_run(l);
    }
    if (rc < 0)
        logline(VSMR_LOG_ERROR, "fatal", "reason=\"%s\"", vsmr_errmsg());
    control_stop(ctl);
    replica_stop(rep);
    node_stop(n);
    loop_free(l);
    logline(VSMR_LOG_INFO, "stopped", "clean=%s", rc < 0 ? "no" : "yes");
    return rc < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
    struct options o = {0};
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc;
    if (sodium_init() < 0) {
        fprintf(stderr, "vsmrd: libsodium failed to initialise\n");
        return 1;
    }
    struct vsmr_config cfg;
    uint8_t key[VSMR_KEY_LEN];
    if (load_config(&o, &cfg, key))
        return 1;
    if (o.check_only) {
        sodium_memzero(key, sizeof key);
        printf("%s: ok (node %u, %s, %u peers)\n", o.config, cfg.id,
               vsmr_role_name(cfg.role), cfg.n_peers);
        return 0;
    }
    if (logline_open(cfg.log_file, cfg.id, (enum vsmr_log_level)cfg.log_level)
        < 0) {
        fprintf(stderr, "vsmrd: %s\n", vsmr_errmsg());
        return 1;
    }
    rc = run(&o, &cfg, key);
    sodium_memzero(key, sizeof key);
    logline_close();
    return rc;
}
