/*
 * main.c - vsmr-client: the workload and "nothing acknowledged lost"
 * checker for the simulated guest's service. Parses the command line,
 * runs the workload (and the final check), prints the verdict and exits
 * 0 (clean), 1 (a problem found) or 2 (usage).
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "core.h"
#include "options.h"
#include "report.h"
#include "run.h"

static uint64_t main_entropy(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^
                 ((uint64_t)getpid() << 40);
    struct workload w;
    workload_init(&w, x, 1, 0);
    return workload_rand(&w);
}

static void main_banner(const struct options *o, const struct client_cfg *cfg)
{
    fprintf(stderr, "client: %u servers, first %s; ", o->nservers,
            o->servers[0].text);
    if (o->requests)
        fprintf(stderr, "requests=%" PRIu64, o->requests);
    else
        fprintf(stderr, "seconds=%g", o->seconds);
    fprintf(stderr, " keys=%u window=%u value-size=%u write-ratio=%u "
            "seed=%" PRIu64 " tag=%08x\n", cfg->keys, cfg->window,
            cfg->value_size, cfg->write_ratio, cfg->seed, cfg->tag);
}

/* The final check; false if it could not read every key. */
static bool main_verify(struct run *r, struct client *c)
{
    client_begin_verify(c);
    uint32_t keys = c->nvq;
    run_phase(r);
    uint32_t left = c->nvq + client_inflight(c);
    fprintf(stderr, "client: verify read %" PRIu64 " of %u keys ever "
            "written%s\n", c->n.verified, keys,
            left ? ": INCOMPLETE, --max-seconds ran out" : "");
    return left == 0;
}

static int main_verdict(const struct client *c, const struct figures *f,
                        bool verified)
{
    report_problems(stderr, c);
    report_bad(stderr, c);
    report_summary(stdout, f);
    fflush(stdout);
    if (f->acknowledged == 0)
        fprintf(stderr, "client: FAILED: no request was acknowledged\n");
    if (!verified)
        fprintf(stderr, "client: FAILED: the final check did not finish\n");
    return f->lost || f->contradicted || !f->acknowledged || !verified;
}

static int main_run(const struct options *o, FILE *json)
{
    struct client_cfg cfg = {
        .keys = o->keys, .window = o->window, .value_size = o->value_size,
        .write_ratio = o->write_ratio, .requests = o->requests,
        .seed = o->seed_given ? o->seed : main_entropy(),
        .tag = (uint32_t)main_entropy()};
    static struct client c;
    static struct run r;
    if (client_init(&c, &cfg) < 0) {
        fprintf(stderr, "vsmr-client: out of memory\n");
        return 1;
    }
    main_banner(o, &cfg);
    run_init(&r, o, &c);
    run_phase(&r);
    struct figures f;
    report_figures(&c, r.reconnects, (double)(r.end_us - r.start_us) / 1e6,
                   &f);
    bool verified = !o->verify_at_end || (!r.gave_up && main_verify(&r, &c));
    report_figures(&c, r.reconnects, f.seconds, &f);
    run_close(&r);
    int rc = main_verdict(&c, &f, verified);
    if (json)
        report_json(json, &f);
    client_fini(&c);
    return rc;
}

static void main_on_signal(int sig)
{
    (void)sig;
    if (run_interrupted < 2)
        run_interrupted++;
}

/* SIGINT/SIGTERM end the run with a summary; poll() sees EINTR. */
static void main_signals(void)
{
    struct sigaction sa = {.sa_handler = main_on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int main(int argc, char **argv)
{
    struct options o;
    int rc = options_parse(&o, argc, argv);
    if (rc != 0) {
        if (rc < 0)
            fprintf(stderr, "(vsmr-client --help shows the options)\n");
        return rc < 0 ? 2 : 0;
    }
    FILE *json = NULL;
    if (o.json && !(json = fopen(o.json, "w"))) {
        perror("vsmr-client: --json");
        return 2;
    }
    main_signals();
    rc = main_run(&o, json);
    if (json && fclose(json) != 0) {
        perror("vsmr-client: --json");
        rc = rc ? rc : 1;
    }
    return rc;
}
