/*
 * backup.c - the backup domain's domain-side state, which is not memory:
 * before the copy, a soft reset (event channels closed, vcpu_info unmapped)
 * and a vCPU reset; after it, new toolstack event channels published in
 * B's HVM params (the guest re-reads them on resume), a fresh xenstore
 * connection (release + introduce, ACLs kept); backends to InitWait first.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "statecopy.h"

#include <xen/hvm/params.h>

#include <xenguest.h>   /* after xenctrl.h: xc_domain_resume */

static int shut_down(struct sc *s)
{
    if (xc_domain_shutdown(s->xch, s->db, SHUTDOWN_suspend) < 0) {
        printf("backup: shutdown(suspend) of %u: %s\n", s->db,
               strerror(errno));
        return -1;
    }
    for (int i = 0; i < 2000; i++) {
        xc_dominfo_t info;
        if (xc_domain_getinfo(s->xch, s->db, 1, &info) == 1 && info.shutdown)
            return 0;
        usleep(1000);
    }
    printf("backup: domain %u did not reach the shut-down state\n", s->db);
    return -1;
}

int backup_reset(struct sc *s)
{
    if (shut_down(s) < 0)
        return -1;
    /* Soft reset needs every vCPU paused for shutdown (hence the above). */
    if (xc_domain_soft_reset(s->xch, s->db) < 0) {
        printf("backup: soft reset of %u: %s\n", s->db, strerror(errno));
        return -1;
    }
    xc_dominfo_t info;
    if (xc_domain_getinfo(s->xch, s->db, 1, &info) != 1)
        return -1;
    /* A NULL context resets the vCPU: it drops Xen's "blocked" state left
     * from B's own idle loop, which the HVM context load would not clear. */
    for (uint32_t v = 0; v <= info.max_vcpu_id; v++)
        if (xc_vcpu_setcontext(s->xch, s->db, v, NULL) < 0) {
            printf("backup: vCPU %u reset: %s\n", v, strerror(errno));
            return -1;
        }
    return 0;
}

static void xs_printf(struct xs_handle *xs, const char *path, const char *fmt,
                      int v)
{
    char buf[32];
    snprintf(buf, sizeof buf, fmt, v);
    if (!xs_write(xs, XBT_NULL, path, buf, strlen(buf)))
        printf("backup: cannot write %s\n", path);
}

/* Each frontend of B to Initialising; wait for its backend to offer
 * InitWait again. The backend then has unmapped B's rings and buffers, so
 * it can no longer write into pages the copy is about to replace (and the
 * unmap marks them dirty); the resumed kernel connects fresh rings. */
void backends_to_initwait(struct sc *s)
{
    char dp[64];
    unsigned int nc = 0;
    snprintf(dp, sizeof dp, "/local/domain/%u/device", s->db);
    char **cls = xs_directory(s->xs, XBT_NULL, dp, &nc);
    for (unsigned int i = 0; cls && i < nc; i++) {
        char cp[128];
        unsigned int nd = 0;
        snprintf(cp, sizeof cp, "%s/%s", dp, cls[i]);
        char **devs = xs_directory(s->xs, XBT_NULL, cp, &nd);
        for (unsigned int j = 0; devs && j < nd; j++) {
            char fp[256], bp[256], bsp[300];
            unsigned int len;
            snprintf(bp, sizeof bp, "%s/%s/backend", cp, devs[j]);
            char *be = xs_read(s->xs, XBT_NULL, bp, &len);
            if (!be)
                continue;
            snprintf(bsp, sizeof bsp, "%s/state", be);
            snprintf(fp, sizeof fp, "%s/%s/state", cp, devs[j]);
            xs_write(s->xs, XBT_NULL, fp, "1", 1);
            char *st = NULL;
            for (int k = 0; k < 5000; k++) {
                free(st);
                st = xs_read(s->xs, XBT_NULL, bsp, &len);
                if (st && strcmp(st, "2") == 0)
                    break;
                usleep(1000);
            }
            if (!st || strcmp(st, "2") != 0)
                printf("backup: backend %s stays in state %s\n", be,
                       st ? st : "?");
            free(st);
            free(be);
        }
        free(devs);
    }
    free(cls);
}

int backup_reconnect(struct sc *s, struct sync_stats *st)
{
    /* Toolstack event channels: whatever numbers Xen gives; the guest
     * reads them back from its HVM params when it resumes. --spare-port
     * burns one first so they differ from A's, to prove that. */
    if (s->spare_port)
        xc_evtchn_alloc_unbound(s->xch, s->db, 0);
    st->store_port = xc_evtchn_alloc_unbound(s->xch, s->db, 0);
    st->console_port = xc_evtchn_alloc_unbound(s->xch, s->db, 0);
    if (st->store_port < 0 || st->console_port < 0) {
        printf("backup: event channel allocation: %s\n", strerror(errno));
        return -1;
    }
    if (xc_hvm_param_set(s->xch, s->db, HVM_PARAM_STORE_EVTCHN,
                         (uint64_t)st->store_port) < 0 ||
        xc_hvm_param_set(s->xch, s->db, HVM_PARAM_CONSOLE_EVTCHN,
                         (uint64_t)st->console_port) < 0) {
        printf("backup: setting B's event channel params: %s\n",
               strerror(errno));
        return -1;
    }
    /* A fresh xenstore connection for B: its previous kernel's watches go
     * with the old one (the copied kernel re-registers the same ones). */
    struct acl_snapshot *snap = acl_snapshot(s->xs, s->db);
    if (!snap)
        return -1;
    if (!xs_release_domain(s->xs, s->db))
        printf("backup: xs_release_domain(%u): %s\n", s->db, strerror(errno));
    if (!xs_introduce_domain(s->xs, s->db, s->b_store_pfn,
                             (unsigned int)st->store_port)) {
        printf("backup: xs_introduce_domain(%u): %s\n", s->db,
               strerror(errno));
        acl_free(snap);
        return -1;
    }
    acl_restore(s->xs, snap, &st->acl_restored, &st->acl_changed_by_release,
                &st->xs_recreated);
    acl_free(snap);
    char p[96];
    snprintf(p, sizeof p, "/local/domain/%u/store/port", s->db);
    xs_printf(s->xs, p, "%d", st->store_port);
    snprintf(p, sizeof p, "/local/domain/%u/console/port", s->db);
    xs_printf(s->xs, p, "%d", st->console_port);   /* xenconsoled rebinds */
    return 0;
}

int backup_resume(struct sc *s)
{
    /* Slow resume: the guest sees "resumed in a new domain" and reconnects. */
    if (xc_domain_resume(s->xch, s->db, 0) < 0) {
        printf("backup: resume of %u: %s\n", s->db, strerror(errno));
        return -1;
    }
    xs_resume_domain(s->xs, s->db);
    int rc = vsmr_guest_unpause(s->b);
    if (rc < 0)
        printf("backup: unpause: %s\n", vsmr_errmsg());
    return rc;
}

int backup_wait_connected(struct sc *s, int timeout_ms)
{
    char p[96];
    unsigned int nd = 0;
    snprintf(p, sizeof p, "/local/domain/0/backend/vif/%u", s->db);
    char **devs = xs_directory(s->xs, XBT_NULL, p, &nd);
    int rc = devs && nd ? 0 : -1;
    for (unsigned int i = 0; devs && i < nd; i++) {
        char sp[160];
        snprintf(sp, sizeof sp, "%s/%s/state", p, devs[i]);
        bool up = false;
        for (int k = 0; k < timeout_ms && !up; k++) {
            unsigned int len;
            char *v = xs_read(s->xs, XBT_NULL, sp, &len);
            up = v && strcmp(v, "4") == 0;
            free(v);
            if (!up)
                usleep(1000);
        }
        if (!up)
            rc = -1;
    }
    free(devs);
    return rc;
}
