/*
 * options.c - parsing vsmr-client's command line into struct options.
 * Each number is checked whole and against its range; each message names
 * the option and the value it refused.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "options.h"
#include "value.h"

void options_usage(FILE *f)
{
    fprintf(f,
        "usage: vsmr-client --servers ADDR:PORT[,ADDR:PORT...]\n"
        "         [--requests N | --seconds S] [--keys K] [--value-size B]\n"
        "         [--window W] [--write-ratio 0..100] [--seed S]\n"
        "         [--verify-at-end] [--report-ms MS] [--json FILE]\n"
        "         [--timeout-ms T] [--max-seconds X]\n"
        "  Writes and reads keys of the simulated guest's service, keeping W\n"
        "  requests in flight, and checks that nothing acknowledged is lost.\n"
        "  Defaults: --requests 10000 --keys 1000 --value-size 64 --window 16\n"
        "  --write-ratio 50 --report-ms 1000 --timeout-ms 2000\n"
        "  --max-seconds 120. Exit: 0 all acknowledged writes found, 1 the\n"
        "  checker found a problem (or nothing was acknowledged), 2 usage.\n");
}

static int opt_bad(const char *name, const char *val, const char *want)
{
    fprintf(stderr, "vsmr-client: --%s: '%s' is not %s\n", name, val, want);
    return -1;
}

static int opt_u64(const char *name, const char *val, uint64_t lo,
                   uint64_t hi, uint64_t *out)
{
    char want[64], *end;
    snprintf(want, sizeof want, "a whole number in %llu..%llu",
             (unsigned long long)lo, (unsigned long long)hi);
    errno = 0;
    unsigned long long v = strtoull(val, &end, 10);
    if (!*val || *end || errno || val[0] == '-' || v < lo || v > hi)
        return opt_bad(name, val, want);
    *out = v;
    return 0;
}

static int opt_u32(const char *name, const char *val, uint32_t lo,
                   uint32_t hi, uint32_t *out)
{
    uint64_t v;
    if (opt_u64(name, val, lo, hi, &v) < 0)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static int opt_secs(const char *name, const char *val, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(val, &end);
    if (!*val || *end || errno || !isfinite(v) || v <= 0 || v > 86400)
        return opt_bad(name, val, "a number of seconds in (0, 86400]");
    *out = v;
    return 0;
}

static int opt_servers(struct options *o, const char *val)
{
    char copy[1024], err[160];
    if (strlen(val) >= sizeof copy)
        return opt_bad("servers", val, "a list shorter than 1024 bytes");
    snprintf(copy, sizeof copy, "%s", val);
    char *save = NULL;
    o->nservers = 0;
    for (char *t = strtok_r(copy, ",", &save); t;
         t = strtok_r(NULL, ",", &save)) {
        if (o->nservers == OPT_MAX_SERVERS)
            return opt_bad("servers", val, "a list of at most 16 addresses");
        if (net_parse(&o->servers[o->nservers++], t, err, sizeof err) < 0) {
            fprintf(stderr, "vsmr-client: --servers: %s\n", err);
            return -1;
        }
    }
    if (o->nservers == 0)
        return opt_bad("servers", val, "a list of ADDR:PORT");
    return 0;
}

static int opt_one(struct options *o, int ch, const char *v)
{
    switch (ch) {
    case 's': return opt_servers(o, v);
    case 'n': return opt_u64("requests", v, 1, UINT64_MAX / 2, &o->requests);
    case 'S': return opt_secs("seconds", v, &o->seconds);
    case 'k': return opt_u32("keys", v, 1, 10000000, &o->keys);
    case 'b': return opt_u32("value-size", v, VALUE_MIN_SIZE,
                             VALUE_MAX_SIZE, &o->value_size);
    case 'w': return opt_u32("window", v, 1, CLIENT_MAX_WINDOW, &o->window);
    case 'r': return opt_u32("write-ratio", v, 0, 100, &o->write_ratio);
    case 'e': return opt_u64("seed", v, 0, UINT64_MAX, &o->seed);
    case 'v': o->verify_at_end = true; return 0;
    case 'R': return opt_u32("report-ms", v, 0, 3600000, &o->report_ms);
    case 'j': o->json = v; return 0;
    case 't': return opt_u32("timeout-ms", v, 1, 600000, &o->timeout_ms);
    case 'x': return opt_secs("max-seconds", v, &o->max_seconds);
    default: return -1;
    }
}

static int opt_check(struct options *o, bool seeded)
{
    if (o->nservers == 0) {
        fprintf(stderr, "vsmr-client: --servers is required\n");
        return -1;
    }
    if (o->requests && o->seconds > 0) {
        fprintf(stderr, "vsmr-client: --requests and --seconds exclude "
                "each other\n");
        return -1;
    }
    if (!o->requests && o->seconds <= 0)
        o->requests = 10000;
    if (o->window > o->keys) {
        fprintf(stderr, "vsmr-client: --window %u needs at least %u --keys "
                "(one request per key in flight), not %u\n", o->window,
                o->window, o->keys);
        return -1;
    }
    o->seed_given = seeded;
    return 0;
}

int options_parse(struct options *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"servers", required_argument, NULL, 's'},
        {"requests", required_argument, NULL, 'n'},
        {"seconds", required_argument, NULL, 'S'},
        {"keys", required_argument, NULL, 'k'},
        {"value-size", required_argument, NULL, 'b'},
        {"window", required_argument, NULL, 'w'},
        {"write-ratio", required_argument, NULL, 'r'},
        {"seed", required_argument, NULL, 'e'},
        {"verify-at-end", no_argument, NULL, 'v'},
        {"report-ms", required_argument, NULL, 'R'},
        {"json", required_argument, NULL, 'j'},
        {"timeout-ms", required_argument, NULL, 't'},
        {"max-seconds", required_argument, NULL, 'x'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (struct options){.keys = 1000, .value_size = 64, .window = 16,
                          .write_ratio = 50, .report_ms = 1000,
                          .timeout_ms = 2000, .max_seconds = 120};
    bool seeded = false;
    int ch;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        if (ch == 'h') {
            options_usage(stdout);
            return 1;
        }
        if (ch == '?' || ch == ':') {
            fprintf(stderr, "vsmr-client: %s '%s'\n", ch == ':' ?
                    "missing value for" : "unknown option", argv[optind - 1]);
            return -1;
        }
        seeded |= ch == 'e';
        if (opt_one(o, ch, optarg) < 0)
            return -1;
    }
    if (optind < argc) {
        fprintf(stderr, "vsmr-client: unexpected argument '%s'\n",
                argv[optind]);
        return -1;
    }
    return opt_check(o, seeded);
}
