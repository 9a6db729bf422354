/*
 * shared.c - the pages a domain shares with its backends (xenstore and
 * console rings, each vif's tx/rx rings). Backends write them through
 * foreign or grant mappings, which Xen does not log as dirty, so a sync
 * must always compare them. Ring gfns come from the grant entries named by
 * the frontend's ring refs in xenstore (grant table v1, read-only map).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "statecopy.h"

#include <xen/grant_table.h>
#include <xen/hvm/params.h>
#include <xen/memory.h>

static void add(uint64_t *out, size_t *n, size_t cap, uint64_t gfn)
{
    for (size_t i = 0; i < *n; i++)
        if (out[i] == gfn)
            return;
    if (*n < cap)
        out[(*n)++] = gfn;
}

/* gfn granted by domid under grant reference ref, or 0. */
static uint64_t granted_gfn(struct sc *s, uint32_t domid, unsigned long ref)
{
    const unsigned long per = XC_PAGE_SIZE / sizeof(grant_entry_v1_t);
    void *addr = NULL;
    xenforeignmemory_resource_handle *h = xenforeignmemory_map_resource(
        s->fmem, (domid_t)domid, XENMEM_resource_grant_table,
        XENMEM_resource_grant_table_id_shared, ref / per, 1, &addr,
        PROT_READ, 0);
    if (!h)
        return 0;
    const grant_entry_v1_t *e = (const grant_entry_v1_t *)addr + ref % per;
    uint64_t gfn = (e->flags & GTF_type_mask) == GTF_permit_access ? e->frame
                                                                   : 0;
    xenforeignmemory_unmap_resource(s->fmem, h);
    return gfn;
}

static void vif_rings(struct sc *s, uint32_t domid, uint64_t *out, size_t *n,
                      size_t cap)
{
    char p[96];
    unsigned int nd = 0;
    snprintf(p, sizeof p, "/local/domain/%u/device/vif", domid);
    char **devs = xs_directory(s->xs, XBT_NULL, p, &nd);
    for (unsigned int i = 0; devs && i < nd; i++) {
        static const char *const names[] = {"tx-ring-ref", "rx-ring-ref"};
        for (int k = 0; k < 2; k++) {
            char rp[160];
            unsigned int len;
            snprintf(rp, sizeof rp, "%s/%s/%s", p, devs[i], names[k]);
            char *v = xs_read(s->xs, XBT_NULL, rp, &len);
            if (!v)
                continue;
            uint64_t gfn = granted_gfn(s, domid, strtoul(v, NULL, 10));
            free(v);
            if (gfn)
                add(out, n, cap, gfn);
        }
    }
    free(devs);
}

size_t shared_pages(struct sc *s, uint32_t domid, uint64_t *out, size_t cap)
{
    size_t n = 0;
    uint64_t v = 0;
    if (xc_hvm_param_get(s->xch, domid, HVM_PARAM_STORE_PFN, &v) == 0 && v)
        add(out, &n, cap, v);
    if (xc_hvm_param_get(s->xch, domid, HVM_PARAM_CONSOLE_PFN, &v) == 0 && v)
        add(out, &n, cap, v);
    vif_rings(s, domid, out, &n, cap);
    return n;
}
