/*
 * options.c - xl-vsmr's command line: subcommands, options in the style of
 * `xl remus`, and strict checks with a message for each mistake. Pure:
 * it reads argv only (the unit tests call it directly).
 */
#include <getopt.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xlvsmr.h"

void xlv_usage(const char *prog, int to_stderr)
{
    FILE *f = to_stderr ? stderr : stdout;
    fprintf(f,
"usage: %s [options] <Domain> <backup-host>   protect a running domain\n"
"       %s status [<Domain>]                  role, epoch, syncs, peers\n"
"       %s stop <Domain>                      stop protecting it\n"
"options:\n"
"  -w HOST:PORT   the witness (a vsmrd --role witness); required\n"
"  -k FILE        cluster key (default /etc/vsmr/cluster.key; the same\n"
"                 file at the same path on the backup host)\n"
"  -i MS          minimum interval between syncs (default 5)\n"
"  -I MS          maximum interval between syncs (default 200)\n"
"  --idle-checks N  idle checks (1 ms apart) before an idle sync (default 3)\n"
"  -t N           hashing threads (default: the host's CPUs)\n"
"  -T tcp|rdma|auto  replication transport (default tcp)\n"
"  --verify       hash all memory on both sides after each sync\n"
"  -s CMD         use CMD instead of ssh to reach the backup host\n"
"                 (passed to sh; run as: CMD <backup-host> <command>)\n"
"  -p PORT        replica port on both hosts (default 7001)\n"
"  -l ADDR        this host's address for the replicas (default: the one\n"
"                 that routes to the backup host)\n"
"  --backup-bridge BR  isolated bridge for the backup copy's vifs\n"
"                 (default vsmrbr0; created on the backup host if missing)\n"
"  --timeout S    how long to wait for the replicas to connect, and then\n"
"                 for the first sync to commit (default 30 each)\n"
"  --election-ms MS  how long the replicas wait for the leader before an\n"
"                 election (default 3000); a sync stops vsmrd's loop, so\n"
"                 it must outlast the longest sync (slow or emulated hosts)\n"
"  -e             do not daemonize: stay in the foreground, print status,\n"
"                 stop protecting on ^C\n"
"  -h             this help\n"
"exit status: 0 ok, 1 runtime error (the domain is left running,\n"
"unprotected), 2 bad options or arguments\n", prog, prog, prog);
}

static int usage_err(char *err, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int usage_err(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return XLV_EXIT_USAGE;
}

static bool parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
    char *end;
    if (!*s || *s == '-' || *s == '+')
        return false;
    unsigned long v = strtoul(s, &end, 10);
    if (*end || v < lo || v > hi)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* "host:port" or "[v6]:port" into host and port. */
static bool split_host_port(const char *s, char *host, size_t hlen,
                            uint16_t *port)
{
    const char *colon;
    size_t n;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            return false;
        n = (size_t)(close - s - 1);
        s++;
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || strchr(s, ':') != colon)
            return false;
        n = (size_t)(colon - s);
    }
    uint32_t p;
    if (n == 0 || n >= hlen || !parse_u32(colon + 1, 1, 65535, &p))
        return false;
    memcpy(host, s, n);
    host[n] = '\0';
    *port = (uint16_t)p;
    return true;
}

enum { OPT_VERIFY = 256, OPT_IDLE, OPT_BRIDGE, OPT_TIMEOUT, OPT_ELECTION };

/* The options that take a number: range and what to say when outside. */
static const struct {
    int ch;
    uint32_t lo, hi;
    size_t off;
    const char *msg;
} numbers[] = {
    {'i', 1, 60000, offsetof(struct xlv_opts, min_ms),
     "-i '%s': the minimum interval must be 1..60000 ms"},
    {'I', 1, 60000, offsetof(struct xlv_opts, max_ms),
     "-I '%s': the maximum interval must be 1..60000 ms"},
    {OPT_IDLE, 1, 1000, offsetof(struct xlv_opts, idle_checks),
     "--idle-checks '%s' must be 1..1000"},
    {'t', 0, 256, offsetof(struct xlv_opts, threads),
     "-t '%s': hashing threads must be 0..256 (0: the host's CPUs)"},
    {'p', 1, 65534, offsetof(struct xlv_opts, port),
     "-p '%s': the replica port must be 1..65534"},
    {OPT_TIMEOUT, 1, 3600, offsetof(struct xlv_opts, timeout_s),
     "--timeout '%s' must be 1..3600 seconds"},
    {OPT_ELECTION, 100, 10000, offsetof(struct xlv_opts, election_ms),
     "--election-ms '%s' must be 100..10000"},
};

/* -1: ch takes no number; 0: stored; XLV_EXIT_USAGE: out of range. */
static int number_option(int ch, struct xlv_opts *o, char *err, size_t len)
{
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
        if (numbers[i].ch != ch)
            continue;
        uint32_t *dst = (uint32_t *)((char *)o + numbers[i].off);
        if (!parse_u32(optarg, numbers[i].lo, numbers[i].hi, dst))
            return usage_err(err, len, numbers[i].msg, optarg);
        return 0;
    }
    return -1;
}

static int parse_options(int argc, char **argv, struct xlv_opts *o,
                         char *err, size_t len)
{
    static const struct option longopts[] = {
        {"verify", no_argument, NULL, OPT_VERIFY},
        {"idle-checks", required_argument, NULL, OPT_IDLE},
        {"backup-bridge", required_argument, NULL, OPT_BRIDGE},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"election-ms", required_argument, NULL, OPT_ELECTION},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    opterr = 0;
    optind = 0;    /* glibc: start afresh (the tests parse many times) */
    while ((ch = getopt_long(argc, argv, ":i:I:t:T:s:w:k:p:l:eh", longopts,
                             NULL)) != -1) {
        int rc = number_option(ch, o, err, len);
        if (rc >= 0) {
            if (rc)
                return rc;
            continue;
        }
        switch (ch) {
        case 'T':
            if (strcmp(optarg, "tcp") && strcmp(optarg, "rdma") &&
                strcmp(optarg, "auto"))
                return usage_err(err, len, "-T '%s': the transport is tcp, "
                                 "rdma or auto", optarg);
            o->transport = optarg;
            break;
        case 's':
            if (!*optarg)
                return usage_err(err, len, "-s: the ssh command is empty");
            o->ssh = optarg;
            break;
        case 'w':
            o->witness = optarg;
            if (!split_host_port(optarg, o->witness_host,
                                 sizeof o->witness_host, &o->witness_port))
                return usage_err(err, len, "-w '%s': the witness must be "
                                 "HOST:PORT (or [IPv6]:PORT)", optarg);
            break;
        case 'k':
            if (optarg[0] != '/')
                return usage_err(err, len, "-k '%s': the key file must be "
                                 "an absolute path (the backup host's "
                                 "vsmrd reads the same path)", optarg);
            o->key_file = optarg;
            break;
        case 'l':
            o->local_addr = optarg;
            break;
        case OPT_BRIDGE:
            if (!*optarg || strlen(optarg) > 15 || strpbrk(optarg, " /:'\""))
                return usage_err(err, len, "--backup-bridge '%s' is not a "
                                 "valid interface name", optarg);
            o->backup_bridge = optarg;
            break;
        case OPT_VERIFY: o->verify = true; break;
        case 'e': o->foreground = true; break;
        case 'h': o->cmd = XLV_HELP; return 0;
        case ':':
            return usage_err(err, len, "option %s needs a value",
                             argv[optind - 1]);
        default:
            if (optopt)
                return usage_err(err, len, "unknown option -%c", optopt);
            return usage_err(err, len, "unknown option %s",
                             argv[optind - 1]);
        }
    }
    return 0;
}

int xlv_parse_args(int argc, char **argv, struct xlv_opts *o, char *err,
                   size_t errlen)
{
    *o = (struct xlv_opts){
        .cmd = XLV_PROTECT, .ssh = "ssh", .key_file = "/etc/vsmr/cluster.key",
        .backup_bridge = "vsmrbr0", .transport = "tcp", .port = 7001,
        .min_ms = 5, .max_ms = 200, .idle_checks = 3, .timeout_s = 30,
        .election_ms = XLV_ELECTION_MS,
    };
    err[0] = '\0';
    if (argc < 2)
        return usage_err(err, errlen, "a domain and a backup host are "
                         "needed (-h for help)");
    int first = 1;
    if (!strcmp(argv[1], "status") || !strcmp(argv[1], "stop")) {
        o->cmd = argv[1][2] == 'a' ? XLV_STATUS : XLV_STOP;
        first = 2;
    } else if (!strcmp(argv[1], "help")) {
        o->cmd = XLV_HELP;
        return 0;
    }
    /* getopt sees the subcommand's arguments as their own argv. */
    int rc = parse_options(argc - first + 1, argv + first - 1, o, err,
                           errlen);
    if (rc || o->cmd == XLV_HELP)
        return rc;
    int nargs = argc - first + 1 - optind;
    char **args = argv + first - 1 + optind;
    if (o->cmd == XLV_STATUS) {
        if (nargs > 1)
            return usage_err(err, errlen, "status takes at most one domain, "
                             "not '%s'", args[1]);
        o->domain = nargs ? args[0] : NULL;
        return 0;
    }
    if (o->cmd == XLV_STOP) {
        if (nargs != 1)
            return usage_err(err, errlen, nargs ? "stop takes one domain, "
                             "not '%s'" : "stop needs a domain%s",
                             nargs ? args[1] : "");
        o->domain = args[0];
        return 0;
    }
    if (nargs < 2)
        return usage_err(err, errlen, nargs ? "a backup host is needed after "
                         "the domain '%s'" : "a domain and a backup host are "
                         "needed%s", nargs ? args[0] : "");
    if (nargs > 2)
        return usage_err(err, errlen, "unexpected argument '%s'", args[2]);
    o->domain = args[0];
    o->backup_host = args[1];
    if (!*o->domain || !*o->backup_host)
        return usage_err(err, errlen, "the domain and the backup host must "
                         "not be empty");
    if (!o->witness)
        return usage_err(err, errlen, "a witness is required: -w HOST:PORT "
                         "(a vsmrd --role witness on a third machine)");
    if (o->max_ms < o->min_ms)
        return usage_err(err, errlen, "-I %u is below -i %u: the maximum "
                         "interval must be at least the minimum", o->max_ms,
                         o->min_ms);
    if (strpbrk(o->backup_host, " '\"\\;&|$`") || o->backup_host[0] == '-')
        return usage_err(err, errlen, "'%s' is not a host name",
                         o->backup_host);
    return 0;
}
