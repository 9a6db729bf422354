/*
 * report.c - formatting of vsmr-client's output. The summary line's field
 * names and order are a contract with scripts: change them only together
 * with every script that parses them.
 */
#include <inttypes.h>

#include "report.h"
#include "value.h"

void report_figures(const struct client *c, uint64_t reconnects,
                    double seconds, struct figures *f)
{
    *f = (struct figures){
        .requests = c->n.sent, .acknowledged = c->n.acked,
        .unknown = c->n.unknown, .lost = checker_lost(c->ck),
        .contradicted = checker_contradicted(c->ck),
        .reconnects = reconnects, .seconds = seconds,
        .throughput = seconds > 0 ? (double)c->n.acked / seconds : 0,
        .p50_us = latency_quantile(&c->lat, 0.50),
        .p99_us = latency_quantile(&c->lat, 0.99)};
}

void report_live(FILE *out, const struct client *c, double elapsed,
                 double rate, const char *server)
{
    if (c->verifying)
        fprintf(out, "client: %.1fs verify read=%" PRIu64 " left=%u "
                "server=%s\n", elapsed, c->n.verified,
                c->nvq + client_inflight(c), server);
    else
        fprintf(out, "client: %.1fs sent=%" PRIu64 " acked=%" PRIu64
                " unknown=%" PRIu64 " inflight=%u rate=%.0f/s server=%s\n",
                elapsed, c->n.sent, c->n.acked, c->n.unknown,
                client_inflight(c), rate, server);
}

static const char *report_state(char *buf, size_t cap,
                                const struct client *c, uint32_t key,
                                struct ck_state s, bool floor)
{
    if (!s.present && !floor)
        snprintf(buf, cap, "absent");
    else if (!s.present && s.n == 0)
        snprintf(buf, cap, "absent (never written)");
    else if (!s.present)
        snprintf(buf, cap, "absent (DEL #%" PRIu64 ")", s.n);
    else if (s.n == 0)
        snprintf(buf, cap, "a value this run never wrote");
    else
        snprintf(buf, cap, "write #%" PRIu64 " (v%08x:%x:%" PRIx64 "|...)",
                 s.n, c->cfg.tag, key, s.n);
    return buf;
}

void report_problems(FILE *out, const struct client *c)
{
    const struct ck_problem *p;
    size_t n = checker_problems(c->ck, &p);
    for (size_t i = 0; i < n; i++) {
        char name[KEY_MAX_SIZE], exp[80], obs[80];
        value_key_name(name, c->cfg.tag, p[i].key);
        fprintf(out, "client: %s key %s: expected %s, observed %s: %s\n",
                p[i].kind == CK_LOST ? "LOST" : "CONTRADICTED", name,
                report_state(exp, sizeof exp, c, p[i].key, p[i].expected, true),
                report_state(obs, sizeof obs, c, p[i].key, p[i].observed, false),
                p[i].why);
    }
    uint64_t total = checker_lost(c->ck) + checker_contradicted(c->ck);
    if (total > n)
        fprintf(out, "client: ... and %" PRIu64 " more problems\n",
                total - n);
}

void report_bad(FILE *out, const struct client *c)
{
    const uint64_t *b = c->n.bad;
    if (b[BAD_OVERSIZED] + b[BAD_MALFORMED] + b[BAD_UNKNOWN_ID] +
        b[BAD_STATUS] + c->n.rejected == 0)
        return;
    fprintf(out, "client: bad responses oversized=%" PRIu64 " malformed=%"
            PRIu64 " unknown_id=%" PRIu64 " bad_status=%" PRIu64
            "; rejected requests (FULL, BADREQ)=%" PRIu64 "\n",
            b[BAD_OVERSIZED], b[BAD_MALFORMED], b[BAD_UNKNOWN_ID],
            b[BAD_STATUS], c->n.rejected);
}

void report_summary(FILE *out, const struct figures *f)
{
    fprintf(out, "client: summary requests=%" PRIu64 " acknowledged=%" PRIu64
            " unknown=%" PRIu64 " lost=%" PRIu64 " contradicted=%" PRIu64
            " reconnects=%" PRIu64 " seconds=%.3f throughput=%.1f"
            " p50_us=%.1f p99_us=%.1f\n", f->requests, f->acknowledged,
            f->unknown, f->lost, f->contradicted, f->reconnects, f->seconds,
            f->throughput, f->p50_us, f->p99_us);
}

void report_json(FILE *out, const struct figures *f)
{
    fprintf(out, "{\"requests\": %" PRIu64 ", \"acknowledged\": %" PRIu64
            ", \"unknown\": %" PRIu64 ", \"lost\": %" PRIu64
            ", \"contradicted\": %" PRIu64 ", \"reconnects\": %" PRIu64
            ", \"seconds\": %.3f, \"throughput\": %.1f, \"p50_us\": %.1f"
            ", \"p99_us\": %.1f}\n", f->requests, f->acknowledged,
            f->unknown, f->lost, f->contradicted, f->reconnects, f->seconds,
            f->throughput, f->p50_us, f->p99_us);
}
