/*
 * report.h - what vsmr-client prints: live lines, the problems the checker
 * found, the closing summary line scripts parse, and the same figures as
 * JSON. Formatting only; the figures come from the caller.
 */
#ifndef VSMR_CLIENT_REPORT_H
#define VSMR_CLIENT_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "core.h"

struct figures {
    uint64_t requests, acknowledged, unknown, lost, contradicted, reconnects;
    double seconds, throughput, p50_us, p99_us;
};

void report_figures(const struct client *c, uint64_t reconnects,
                    double seconds, struct figures *f);
/* "client: 3.0s sent=... acked=... unknown=... rate=.../s ..." */
void report_live(FILE *out, const struct client *c, double elapsed,
                 double rate, const char *server);
/* At most CK_MAX_PROBLEMS lines, one per problem found. */
void report_problems(FILE *out, const struct client *c);
/* Counts of bad responses, if there were any. */
void report_bad(FILE *out, const struct client *c);
void report_summary(FILE *out, const struct figures *f);
void report_json(FILE *out, const struct figures *f);

#endif
