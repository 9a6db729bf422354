/*
 * sim_guest.c - the "sim" guest backend: the guest interface over a
 * simulated guest process whose memory is a shared memfd.
 *
 * Pause parks every worker at a request boundary (a futex handshake in the
 * control region); the dirty bitmap is maintained by the guest's own write
 * barrier; "mapping" a page is pointing into the shared memory.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "common/err.h"
#include "guest/sim/sim_impl.h"

#define PAUSE_TIMEOUT_MS 10000

static struct sim_guest *sim_of(vsmr_guest *g)
{
    return (struct sim_guest *)g;
}

static int parse_spec(const char *spec, uint64_t *pages, unsigned *workers)
{
    char buf[256];
    if (strlen(spec) >= sizeof buf)
        return vsmr_fail(VSMR_EINVAL, "sim guest spec is too long");
    strcpy(buf, spec);
    *pages = 4096;
    *workers = 4;
    char *save = NULL;
    for (char *kv = strtok_r(buf, ",", &save); kv;
         kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        char *end = NULL;
        unsigned long long v = eq ? (errno = 0, strtoull(eq + 1, &end, 10)) : 0;
        if (!eq || eq[1] == '\0' || *end != '\0' || errno)
            return vsmr_fail(VSMR_EINVAL, "sim guest spec '%s': expected "
                             "key=number, got '%s'", spec, kv);
        *eq = '\0';
        if (!strcmp(kv, "pages"))
            *pages = v;
        else if (!strcmp(kv, "workers"))
            *workers = (unsigned)(v > UINT_MAX ? UINT_MAX : v);
        else
            return vsmr_fail(VSMR_EINVAL, "sim guest spec '%s': unknown key "
                             "'%s' (known: pages, workers)", spec, kv);
    }
    if (*pages == 0)
        return vsmr_fail(VSMR_EINVAL, "sim guest with 0 pages: a guest "
                                      "needs memory");
    if (*pages < SIM_MIN_PAGES || *pages > SIM_MAX_PAGES)
        return vsmr_fail(VSMR_ERANGE, "sim guest pages=%llu: must be "
                         "%u..%llu", (unsigned long long)*pages,
                         SIM_MIN_PAGES, (unsigned long long)SIM_MAX_PAGES);
    if (*workers < 1 || *workers > SIM_MAX_WORKERS)
        return vsmr_fail(VSMR_ERANGE, "sim guest workers=%u: must be 1..%u",
                         *workers, SIM_MAX_WORKERS);
    return VSMR_OK;
}

static void sim_close(vsmr_guest *g);

static int sim_open(const char *spec, vsmr_guest **out)
{
    uint64_t pages = 0;
    unsigned workers = 0;
    int rc = parse_spec(spec, &pages, &workers);
    if (rc < 0)
        return rc;
    struct sim_guest *s = calloc(1, sizeof *s);
    if (!s)
        return vsmr_fail(VSMR_ENOMEM, "sim guest: out of memory");
    s->base.pages = pages;
    s->workers = workers;
    s->memfd = s->ctlfd = s->sock = -1;
    rc = sim_start(s);
    if (rc < 0) {
        char msg[512];
        strncpy(msg, vsmr_errmsg(), sizeof msg - 1);
        msg[sizeof msg - 1] = '\0';
        sim_close(&s->base);
        return vsmr_fail(rc, "%s", msg);
    }
    *out = &s->base;
    return VSMR_OK;
}

static void sim_close(vsmr_guest *g)
{
    struct sim_guest *s = sim_of(g);
    sim_stop(s);
    sim_outbox_free(s);
    free(s);
}

static int alive(struct sim_guest *s)
{
    int status;
    if (s->pid > 0 && waitpid(s->pid, &status, WNOHANG) == s->pid) {
        s->pid = 0;
        return vsmr_fail(VSMR_ECLOSED, "sim guest process has exited "
                         "(status %d)", status);
    }
    if (s->pid <= 0)
        return vsmr_fail(VSMR_ECLOSED, "sim guest process is gone");
    return VSMR_OK;
}

static void futex_wake_all(_Atomic uint32_t *addr)
{
    syscall(SYS_futex, addr, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

int sim_unpause(vsmr_guest *g)
{
    struct sim_guest *s = sim_of(g);
    atomic_store(&s->ctl->pause_req, 0);
    futex_wake_all(&s->ctl->pause_req);
    return VSMR_OK;
}

int sim_pause(vsmr_guest *g)
{
    struct sim_guest *s = sim_of(g);
    int rc = alive(s);
    if (rc < 0)
        return rc;
    atomic_store(&s->ctl->pause_req, 1);
    atomic_fetch_add(&s->ctl->wake_seq, 1);
    futex_wake_all(&s->ctl->wake_seq);
    for (int waited = 0; waited < PAUSE_TIMEOUT_MS; waited++) {
        uint32_t parked = atomic_load(&s->ctl->parked);
        if (parked == s->workers)
            return VSMR_OK;
        if ((rc = sim_drain(s)) < 0 || (rc = alive(s)) < 0)
            break;
        struct timespec ts = {0, 1000000L};
        syscall(SYS_futex, &s->ctl->parked, FUTEX_WAIT, parked, &ts, NULL, 0);
    }
    sim_unpause(g);   /* never leave a half-paused guest behind */
    if (rc < 0)
        return rc;
    return vsmr_fail(VSMR_ETIMEDOUT, "sim guest did not reach a request "
                     "boundary within %d ms", PAUSE_TIMEOUT_MS);
}

static int sim_is_idle(vsmr_guest *g, bool *idle)
{
    struct sim_guest *s = sim_of(g);
    /* Every request sent has been answered. (A worker's "busy" count is
     * not used: it also counts workers looking at an empty queue.) */
    *idle = atomic_load(&s->ctl->completed) == s->sent;
    return alive(s);
}

static int sim_logdirty(vsmr_guest *g, bool enable)
{
    struct sim_guest *s = sim_of(g);
    _Atomic uint64_t *bm = sim_ctl_dirty(s->ctl);
    if (enable)
        for (uint64_t w = 0; w < (s->base.pages + 63) / 64; w++)
            atomic_store(&bm[w], 0);
    return VSMR_OK;
}

static int sim_dirty_fetch_clear(vsmr_guest *g, uint64_t *bitmap,
                                 size_t nwords)
{
    struct sim_guest *s = sim_of(g);
    _Atomic uint64_t *bm = sim_ctl_dirty(s->ctl);
    size_t words = (s->base.pages + 63) / 64;
    for (size_t w = 0; w < words; w++)
        bitmap[w] = atomic_exchange(&bm[w], 0);
    memset(bitmap + words, 0, (nwords - words) * sizeof *bitmap);
    return VSMR_OK;
}

static int sim_map(vsmr_guest *g, const uint64_t *pfns, size_t n, int prot,
                   void **pages, void **cookie)
{
    struct sim_guest *s = sim_of(g);
    for (size_t i = 0; i < n; i++)
        pages[i] = s->mem + (pfns[i] << 12);
    *cookie = NULL;
    return VSMR_OK;
}

static int sim_unmap(vsmr_guest *g, void *cookie, void **pages, size_t n)
{
    return VSMR_OK;
}

static int sim_context_get(vsmr_guest *g, void *buf, size_t cap, size_t *len)
{
    struct sim_guest *s = sim_of(g);
    *len = sizeof(struct sim_context);
    if (!buf)
        return VSMR_OK;
    if (cap < sizeof(struct sim_context))
        return vsmr_fail(VSMR_ERANGE, "context buffer of %zu bytes is too "
                         "small (%zu needed)", cap, sizeof(struct sim_context));
    struct sim_context c = {
        .magic = SIM_CONTEXT_MAGIC, .workers = s->workers,
        .completed = atomic_load(&s->ctl->completed),
        .vclock_base = atomic_load(&s->ctl->vclock_base),
    };
    memcpy(buf, &c, sizeof c);
    return VSMR_OK;
}

static int sim_context_set(vsmr_guest *g, const void *buf, size_t len)
{
    struct sim_guest *s = sim_of(g);
    struct sim_context c;
    if (len != sizeof c)
        return vsmr_fail(VSMR_EPROTO, "sim context of %zu bytes, expected "
                         "%zu", len, sizeof c);
    memcpy(&c, buf, sizeof c);
    if (c.magic != SIM_CONTEXT_MAGIC || c.workers != s->workers)
        return vsmr_fail(VSMR_EPROTO, "sim context is not from a sim guest "
                         "with %u workers", s->workers);
    atomic_store(&s->ctl->vclock_base, c.vclock_base);
    return VSMR_OK;
}

static int sim_resume(vsmr_guest *g, bool fast)
{
    return sim_unpause(g);
}

const struct vsmr_guest_ops vsmr_guest_sim_ops = {
    .name = "sim",
    .open = sim_open,
    .close = sim_close,
    .pause = sim_pause,
    .unpause = sim_unpause,
    .is_idle = sim_is_idle,
    .logdirty = sim_logdirty,
    .dirty_fetch_clear = sim_dirty_fetch_clear,
    .map = sim_map,
    .unmap = sim_unmap,
    .context_get = sim_context_get,
    .context_set = sim_context_set,
    .suspend = sim_pause,
    .resume = sim_resume,
    .stop_for_sync = sim_stop_for_sync,
    .continue_after_sync = sim_continue_after_sync,
    .backup_prepare = sim_backup_prepare,
    .backup_begin = sim_backup_begin,
    .backup_end = sim_backup_end,
    .backup_cancel = sim_backup_cancel,
    .devices_connected = sim_devices_connected,
    .backup_figures = sim_backup_figures,
    .shared_pages = sim_shared_pages,
    .mappable = sim_mappable,
};
