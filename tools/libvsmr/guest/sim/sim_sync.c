/*
 * sim_sync.c - the sim backend's sync stops: a simulated guest has no
 * devices and no domain-side state, so stopping for a sync is a pause,
 * a backup's prepare a pause, begin nothing, end and cancel an unpause;
 * no page is shared with a backend and every page maps. Tests can make
 * one step fail (vsmr_sim_fail_sync_step) to check the engine's recovery,
 * and its devices come back late after an end
 * (vsmr_sim_devices_down_after_end).
 */
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "guest/sim/sim_impl.h"
#include "vsmr/sim.h"

static const char *const steps[] = {
    "stop", "continue", "prepare", "begin", "end", "cancel",
};
enum { STOP, CONTINUE, PREPARE, BEGIN, END, CANCEL };

static struct sim_guest *sim_of(vsmr_guest *g)
{
    return (struct sim_guest *)g;
}

int vsmr_sim_fail_sync_step(vsmr_guest *g, const char *step)
{
    if (!g || g->ops != &vsmr_guest_sim_ops || !step)
        return vsmr_fail(VSMR_EINVAL, "fail sync step: not a sim guest");
    for (unsigned i = 0; i < sizeof steps / sizeof *steps; i++)
        if (!strcmp(steps[i], step)) {
            sim_of(g)->fail_next |= 1u << i;
            return VSMR_OK;
        }
    return vsmr_fail(VSMR_EINVAL, "fail sync step: no step '%s'", step);
}

int vsmr_sim_sync_trace(vsmr_guest *g, char *buf, size_t cap)
{
    if (!g || g->ops != &vsmr_guest_sim_ops || !buf || !cap)
        return vsmr_fail(VSMR_EINVAL, "sync trace: not a sim guest");
    struct sim_guest *s = sim_of(g);
    snprintf(buf, cap, "%s", s->trace);
    s->trace[0] = '\0';
    return VSMR_OK;
}

/* Records the call; whether the step was told to fail (once). */
static bool failing(vsmr_guest *g, unsigned step)
{
    struct sim_guest *s = sim_of(g);
    size_t len = strlen(s->trace);
    snprintf(s->trace + len, sizeof s->trace - len, "%s%s", len ? " " : "",
             steps[step]);
    bool f = s->fail_next & (1u << step);
    s->fail_next &= ~(1u << step);
    return f;
}

static int injected(unsigned step)
{
    return vsmr_fail(VSMR_EIO, "sim guest: injected failure at %s",
                     steps[step]);
}

int sim_stop_for_sync(vsmr_guest *g)
{
    return failing(g, STOP) ? injected(STOP) : sim_pause(g);
}

int sim_continue_after_sync(vsmr_guest *g)
{
    return failing(g, CONTINUE) ? injected(CONTINUE) : sim_unpause(g);
}

int sim_backup_prepare(vsmr_guest *g)
{
    return failing(g, PREPARE) ? injected(PREPARE) : sim_pause(g);
}

int sim_backup_begin(vsmr_guest *g)
{
    return failing(g, BEGIN) ? injected(BEGIN) : VSMR_OK;
}

int vsmr_sim_devices_down_after_end(vsmr_guest *g, unsigned checks)
{
    if (!g || g->ops != &vsmr_guest_sim_ops)
        return vsmr_fail(VSMR_EINVAL, "devices down: not a sim guest");
    sim_of(g)->devices_down = checks;
    return VSMR_OK;
}

int sim_backup_end(vsmr_guest *g, bool reconnect, bool run)
{
    if (failing(g, END))
        return injected(END);
    sim_of(g)->devices_down_left = sim_of(g)->devices_down;
    return run ? sim_unpause(g) : VSMR_OK;
}

int sim_backup_cancel(vsmr_guest *g, bool begun)
{
    if (failing(g, CANCEL))
        return vsmr_fail(VSMR_ESTATE, "sim guest: told to stay stopped "
                         "until a complete copy (as a Xen backup would)");
    return sim_unpause(g);
}

/* Connected, unless a test asked for a reconnect that takes a while. */
int sim_devices_connected(vsmr_guest *g, int timeout_ms, bool *up)
{
    struct sim_guest *s = sim_of(g);
    *up = s->devices_down_left == 0;
    if (!*up)
        s->devices_down_left--;
    return VSMR_OK;
}

int sim_backup_figures(vsmr_guest *g, struct vsmr_guest_backup_figures *f)
{
    *f = (struct vsmr_guest_backup_figures){.store_port = -1,
                                            .console_port = -1};
    return VSMR_OK;
}

int sim_shared_pages(vsmr_guest *g, uint64_t *pfns, size_t cap, size_t *n)
{
    *n = 0;
    return VSMR_OK;
}

int sim_mappable(vsmr_guest *g, uint64_t *bitmap, size_t nwords)
{
    memset(bitmap, 0, nwords * sizeof *bitmap);
    for (uint64_t p = 0; p < g->pages; p++)
        bitmap[p / 64] |= UINT64_C(1) << (p % 64);
    return VSMR_OK;
}
