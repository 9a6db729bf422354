/*
 * options.h - vsmr-client's command line. Parsing only: every bad value
 * gets a message naming its option, and the caller exits with status 2.
 */
#ifndef VSMR_CLIENT_OPTIONS_H
#define VSMR_CLIENT_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "net.h"

#define OPT_MAX_SERVERS 16u

struct options {
    struct net_addr servers[OPT_MAX_SERVERS];
    uint32_t nservers;
    uint64_t requests;          /* 0 when --seconds is given */
    double seconds;             /* 0 when --requests is given */
    uint32_t keys, value_size, window, write_ratio;
    uint64_t seed;
    bool seed_given;            /* else main picks one, prints it */
    bool verify_at_end;
    uint32_t report_ms;         /* 0: no live lines */
    const char *json;
    uint32_t timeout_ms;
    double max_seconds;
};

/* 0: parsed; 1: --help printed; -1: usage error, message printed. */
int options_parse(struct options *o, int argc, char **argv);
void options_usage(FILE *f);

#endif
