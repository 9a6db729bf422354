/*
 * main.c - vsmr-xen-conformance: runs the guest-backend conformance checks
 * against a running domain, and the small helpers the lab tests need.
 *   run DOMAIN HOST:PORT             all checks; exit 0 iff all passed
 *   expect-error CODE SPEC [TEXT]    opening SPEC must fail with CODE
 *                                    (e.g. VSMR_ENOENT) and mention TEXT
 *   force-shutdown DOMID             put a domain into the shut-down state
 *   paused DOMID                     print 1 if the domain is paused, else 0
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xenctrl.h>

#include "checks.h"
#include "common/err.h"

static vsmr_guest *current;

/* A test killed by its timeout must not leave the guest paused. */
static void on_signal(int sig)
{
    if (current)
        vsmr_guest_close(current);
    _exit(128 + sig);
}

static int dom_flags(uint32_t domid, xc_dominfo_t *info)
{
    xc_interface *xch = xc_interface_open(NULL, NULL, 0);
    if (!xch)
        return -1;
    int n = xc_domain_getinfo(xch, domid, 1, info);
    xc_interface_close(xch);
    return n == 1 && info->domid == domid ? 0 : -1;
}

static int cmd_run(const char *spec, const char *addr)
{
    struct agent a = {.fd = -1};
    struct conf c = {.a = &a, .seed = 0x5eed0000ULL + (uint64_t)getpid()};
    int rc = vsmr_guest_open("xen", spec, &c.g);
    if (rc < 0) {
        printf("CONFORMANCE: cannot open domain %s: %s: %s\n", spec,
               vsmr_err_name(rc), vsmr_errmsg());
        return 1;
    }
    current = c.g;
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    printf("domain %s: %llu pages (max gpfn + 1)\n", spec,
           (unsigned long long)vsmr_guest_page_count(c.g));
    if (agent_connect(&a, addr, 60000) < 0) {
        printf("CONFORMANCE: cannot reach the guest's service at %s\n", addr);
        vsmr_guest_close(c.g);
        return 1;
    }
    check_pause(&c);
    check_idle(&c);
    check_dirty_and_content(&c);
    check_paused_hash_stable(&c);
    check_write_seen(&c);
    check_context_roundtrip(&c);
    check_suspend_resume(&c);
    check_error_paths(&c);
    vsmr_guest_logdirty(c.g, false);
    uint32_t domid = (uint32_t)atoi(spec);
    vsmr_guest_close(c.g);
    current = NULL;
    xc_dominfo_t info;
    if (domid && dom_flags(domid, &info) == 0) {
        int ok = !info.paused && !info.shutdown;
        printf("CHECK left-running %s paused=%d shutdown=%d\n",
               ok ? "PASS" : "FAIL", info.paused, info.shutdown);
        ok ? c.passed++ : c.failed++;
    }
    char r[160];
    int got = agent_call(&a, "INC", r, sizeof r, 15000);
    printf("CHECK service-alive-after-close %s %s\n", got == 1 ? "PASS"
           : "FAIL", got == 1 ? r : "no answer");
    got == 1 ? c.passed++ : c.failed++;
    agent_close(&a);
    free(c.bitmap);
    printf("CONFORMANCE: %d passed, %d failed, %d skipped\n", c.passed,
           c.failed, c.skipped);
    return c.failed ? 1 : 0;
}

static int cmd_expect_error(const char *code, const char *spec,
                            const char *text)
{
    vsmr_guest *g = NULL;
    int rc = vsmr_guest_open("xen", spec, &g);
    if (rc == VSMR_OK) {
        printf("EXPECT-ERROR FAIL opening '%s' succeeded\n", spec);
        vsmr_guest_close(g);
        return 1;
    }
    int ok = strcmp(vsmr_err_name(rc), code) == 0 &&
             (!text || strstr(vsmr_errmsg(), text));
    printf("EXPECT-ERROR %s '%s': %s: %s\n", ok ? "PASS" : "FAIL", spec,
           vsmr_err_name(rc), vsmr_errmsg());
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 4 && strcmp(argv[1], "run") == 0)
        return cmd_run(argv[2], argv[3]);
    if ((argc == 4 || argc == 5) && strcmp(argv[1], "expect-error") == 0)
        return cmd_expect_error(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
    if (argc == 3 && strcmp(argv[1], "force-shutdown") == 0) {
        xc_interface *xch = xc_interface_open(NULL, NULL, 0);
        int rc = xch ? xc_domain_shutdown(xch, (uint32_t)atoi(argv[2]),
                                          SHUTDOWN_poweroff) : -1;
        if (xch)
            xc_interface_close(xch);
        if (rc < 0)
            perror("force-shutdown");
        return rc < 0;
    }
    if (argc == 3 && strcmp(argv[1], "paused") == 0) {
        xc_dominfo_t info;
        if (dom_flags((uint32_t)atoi(argv[2]), &info) < 0)
            return 1;
        printf("%d\n", info.paused);
        return 0;
    }
    fprintf(stderr, "usage: %s run DOMAIN HOST:PORT\n"
            "       %s expect-error VSMR_CODE SPEC [TEXT]\n"
            "       %s force-shutdown DOMID | paused DOMID\n",
            argv[0], argv[0], argv[0]);
    return 2;
}
