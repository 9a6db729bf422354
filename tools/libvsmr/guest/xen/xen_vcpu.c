/*
 * xen_vcpu.c - pause and unpause (the toolstack's pause count), vCPU idle
 * (every online vCPU blocked) and the HVM context blob (vCPU registers,
 * LAPIC, platform timers: Xen's HVM save records, opaque to the engine).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "guest/xen/xen_guest.h"

/* From Xen's public hvm/save.h: LAPIC_REGS is record type 6, one page of
 * APIC registers per vCPU; the IRR starts at register offset 0x200. */
#define LAPIC_REGS_TYPECODE 6
#define LAPIC_REGS_SIZE     1024
#define LAPIC_IRR           0x200
/* The vector Linux registers for Xen's event-channel upcall (HVM and PVH:
 * HYPERVISOR_CALLBACK_VECTOR); Xen does not report it to the toolstack. */
#define XEN_UPCALL_VECTOR   0xf3

struct hvm_record {          /* struct hvm_save_descriptor's layout */
    uint16_t typecode;
    uint16_t instance;
    uint32_t length;         /* bytes of data after this descriptor */
};

int xen_pause(vsmr_guest *g)
{
    struct xen_guest *x = xen_of(g);
    if (xc_domain_pause(x->xch, x->domid) < 0) {
        xc_dominfo_t info;
        int rc = xen_domain_info(x, &info);
        if (rc < 0)
            return rc;
        return vsmr_fail_errno(VSMR_ESYS, "domain %u: pause failed",
                               x->domid);
    }
    return VSMR_OK;
}

int xen_unpause(vsmr_guest *g)
{
    struct xen_guest *x = xen_of(g);
    if (x->suspended)        /* closing a suspended guest: cancel it */
        return xen_resume(g, true);
    if (xc_domain_unpause(x->xch, x->domid) < 0) {
        xc_dominfo_t info;
        int rc = xen_domain_info(x, &info);
        if (rc < 0)
            return rc;
        return vsmr_fail_errno(VSMR_ESYS, "domain %u: unpause failed",
                               x->domid);
    }
    return VSMR_OK;
}

int xen_is_idle(vsmr_guest *g, bool *idle)
{
    struct xen_guest *x = xen_of(g);
    xc_dominfo_t info;
    int rc = xen_domain_info(x, &info);
    if (rc < 0)
        return rc;
    *idle = true;
    for (uint32_t v = 0; v <= info.max_vcpu_id; v++) {
        xc_vcpuinfo_t vi;
        if (xc_vcpu_getinfo(x->xch, x->domid, v, &vi) < 0) {
            if (errno == ESRCH)      /* no such vCPU: a hole in the ids */
                continue;
            return vsmr_fail_errno(VSMR_ESYS, "domain %u: cannot read "
                                   "vCPU %u", x->domid, v);
        }
        if (vi.online && (vi.running || !vi.blocked)) {
            *idle = false;
            break;
        }
    }
    return VSMR_OK;
}

int xen_context_get(vsmr_guest *g, void *buf, size_t cap, size_t *len)
{
    struct xen_guest *x = xen_of(g);
    int size = xc_domain_hvm_getcontext(x->xch, x->domid, NULL, 0);
    if (size <= 0)
        return vsmr_fail_errno(VSMR_ESYS, "domain %u: cannot size its HVM "
                               "context", x->domid);
    if (!buf) {
        *len = (size_t)size;
        return VSMR_OK;
    }
    if (cap < (size_t)size)
        return vsmr_fail(VSMR_ERANGE, "domain %u: HVM context needs %d "
                         "bytes, buffer has %zu", x->domid, size, cap);
    int got = xc_domain_hvm_getcontext(x->xch, x->domid, buf, (uint32_t)cap);
    if (got <= 0)
        return vsmr_fail_errno(VSMR_ESYS, "domain %u: cannot read its HVM "
                               "context", x->domid);
    *len = (size_t)got;
    return VSMR_OK;
}

/* The LAPIC_REGS record of vCPU `instance` in an HVM context blob, or
 * NULL. Records: descriptor (typecode, instance, length), then data. */
static uint8_t *lapic_regs(uint8_t *blob, size_t len, uint16_t instance)
{
    size_t off = 0;
    while (off + sizeof(struct hvm_record) <= len) {
        struct hvm_record d;
        memcpy(&d, blob + off, sizeof d);
        off += sizeof d;
        if (d.typecode == 0 || d.length > len - off)
            return NULL;                 /* END record, or malformed */
        if (d.typecode == LAPIC_REGS_TYPECODE && d.instance == instance &&
            d.length >= LAPIC_REGS_SIZE)
            return blob + off;
        off += d.length;
    }
    return NULL;
}

static void set_irr(uint8_t *lapic, unsigned vector)
{
    lapic[LAPIC_IRR + (vector / 32) * 16 + (vector % 32) / 8] |=
        (uint8_t)(1u << (vector % 8));
}

/* Interrupts that reached the paused domain after its context was read
 * (an event's upcall vector set in the LAPIC's IRR) would be wiped by
 * loading the older LAPIC registers, while Xen, seeing the upcall already
 * pending, would never inject it again: the guest would sleep forever.
 * Keep them: OR the current IRR into the record being loaded. */
static void keep_pending_interrupts(struct xen_guest *x, uint8_t *ctx,
                                    size_t len)
{
    /* An upcall can still land between the read below and the load; then
     * nothing would ever raise the vector again. So every vCPU also gets
     * the upcall vector pending: at worst one spurious upcall, which the
     * guest's handler takes as "no events". */
    for (uint16_t v = 0; v < 128; v++) {
        uint8_t *neu = lapic_regs(ctx, len, v);
        if (!neu)
            break;
        set_irr(neu, XEN_UPCALL_VECTOR);
    }

    int size = xc_domain_hvm_getcontext(x->xch, x->domid, NULL, 0);
    uint8_t *cur = size > 0 ? malloc((size_t)size) : NULL;
    if (!cur)
        return;
    int got = xc_domain_hvm_getcontext(x->xch, x->domid, cur, (uint32_t)size);
    for (uint16_t v = 0; got > 0 && v < 128; v++) {
        uint8_t *old = lapic_regs(cur, (size_t)got, v);
        uint8_t *neu = lapic_regs(ctx, len, v);
        if (!old || !neu)
            break;
        for (int r = 0; r < 8; r++)      /* IRR: 8 x 32 bits, 16 apart */
            for (int b = 0; b < 4; b++)
                neu[LAPIC_IRR + r * 16 + b] |= old[LAPIC_IRR + r * 16 + b];
    }
    free(cur);
}

int xen_context_set(vsmr_guest *g, const void *buf, size_t len)
{
    struct xen_guest *x = xen_of(g);
    if (len == 0 || len > UINT32_MAX)
        return vsmr_fail(VSMR_EINVAL, "domain %u: HVM context of %zu bytes",
                         x->domid, len);
    uint8_t *ctx = malloc(len);
    if (!ctx)
        return vsmr_fail(VSMR_ENOMEM, "domain %u: out of memory for the HVM "
                         "context", x->domid);
    memcpy(ctx, buf, len);
    keep_pending_interrupts(x, ctx, len);
    int rc = xc_domain_hvm_setcontext(x->xch, x->domid, ctx, (uint32_t)len);
    free(ctx);
    if (rc < 0)
        return vsmr_fail_errno(VSMR_EINVAL, "domain %u: Xen refused the HVM "
                               "context (%zu bytes; from another Xen "
                               "version or a different vCPU count?)",
                               x->domid, len);
    return VSMR_OK;
}
