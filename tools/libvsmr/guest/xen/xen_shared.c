/*
 * xen_shared.c - the pages a domain shares with its device backends,
 * which they write through grant or foreign mappings and Xen marks dirty
 * only at unmap: the xenstore and console rings (frames in the HVM params)
 * and each vif's tx/rx rings (the grant entries its tx-ring-ref /
 * rx-ring-ref name; grant table v1, mapped read-only as a resource).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "common/err.h"
#include "guest/xen/xen_guest.h"

#include <xen/grant_table.h>
#include <xen/hvm/params.h>
#include <xen/memory.h>

/* Adds gfn once; counts past cap so the caller learns the size. */
static void add(uint64_t *out, size_t *n, size_t cap, uint64_t gfn)
{
    for (size_t i = 0; i < *n && i < cap; i++)
        if (out[i] == gfn)
            return;
    if (*n < cap)
        out[*n] = gfn;
    (*n)++;
}

/* The frame granted under reference ref, or 0. */
static uint64_t granted_gfn(struct xen_guest *x, unsigned long ref)
{
    const unsigned long per = XC_PAGE_SIZE / sizeof(grant_entry_v1_t);
    void *addr = NULL;
    xenforeignmemory_resource_handle *h = xenforeignmemory_map_resource(
        x->fmem, (domid_t)x->domid, XENMEM_resource_grant_table,
        XENMEM_resource_grant_table_id_shared, ref / per, 1, &addr,
        PROT_READ, 0);
    if (!h)
        return 0;
    const grant_entry_v1_t *e = (const grant_entry_v1_t *)addr + ref % per;
    uint64_t gfn = (e->flags & GTF_type_mask) == GTF_permit_access ? e->frame
                                                                   : 0;
    xenforeignmemory_unmap_resource(x->fmem, h);
    return gfn;
}

static void vif_rings(struct xen_guest *x, struct xs_handle *xs,
                      uint64_t *out, size_t *n, size_t cap)
{
    static const char *const refs[] = {"tx-ring-ref", "rx-ring-ref"};
    char p[96];
    unsigned int nd = 0;
    snprintf(p, sizeof p, "/local/domain/%u/device/vif", x->domid);
    char **devs = xs_directory(xs, XBT_NULL, p, &nd);
    for (unsigned int i = 0; devs && i < nd; i++)
        for (int k = 0; k < 2; k++) {
            char rp[160];
            unsigned int len;
            snprintf(rp, sizeof rp, "%s/%s/%s", p, devs[i], refs[k]);
            char *v = xs_read(xs, XBT_NULL, rp, &len);
            if (!v)
                continue;
            uint64_t gfn = granted_gfn(x, strtoul(v, NULL, 10));
            free(v);
            if (gfn)
                add(out, n, cap, gfn);
        }
    free(devs);
}

int xen_shared_pages(vsmr_guest *g, uint64_t *pfns, size_t cap, size_t *n)
{
    struct xen_guest *x = xen_of(g);
    struct xs_handle *xs;
    int rc = xen_xs(x, &xs);
    if (rc < 0)
        return rc;
    *n = 0;
    static const int params[] = {HVM_PARAM_STORE_PFN, HVM_PARAM_CONSOLE_PFN};
    for (int i = 0; i < 2; i++) {
        uint64_t v = 0;
        if (xc_hvm_param_get(x->xch, x->domid, params[i], &v) == 0 && v &&
            v < g->pages)
            add(pfns, n, cap, v);
    }
    vif_rings(x, xs, pfns, n, cap);
    return VSMR_OK;
}
