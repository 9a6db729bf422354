/*
 * xen_guest.c - the Xen guest backend's operation table. The operations
 * live in one file per job (xen_open.c, xen_vcpu.c, xen_logdirty.c,
 * xen_memory.c, xen_suspend.c, and for a running backup xen_backup.c,
 * xen_devices.c, xen_reconnect.c, xen_xsacl.c, xen_shared.c,
 * xen_mappable.c; the MAC of a vif: xen_vifmac.c); see
 * docs/xen-backend.md for the contract.
 */
#include "guest/xen/xen_guest.h"

const struct vsmr_guest_ops vsmr_guest_xen_ops = {
    .name = "xen",
    .open = xen_open,
    .close = xen_close,
    .pause = xen_pause,
    .unpause = xen_unpause,
    .is_idle = xen_is_idle,
    .logdirty = xen_logdirty,
    .dirty_fetch_clear = xen_dirty_fetch_clear,
    .map = xen_map,
    .unmap = xen_unmap,
    .context_get = xen_context_get,
    .context_set = xen_context_set,
    .suspend = xen_suspend,
    .resume = xen_resume,
    .stop_for_sync = xen_stop_for_sync,
    .continue_after_sync = xen_continue_after_sync,
    .backup_prepare = xen_backup_prepare,
    .backup_begin = xen_backup_begin,
    .backup_end = xen_backup_end,
    .backup_cancel = xen_backup_cancel,
    .devices_connected = xen_devices_connected,
    .backup_figures = xen_backup_figures,
    .shared_pages = xen_shared_pages,
    .mappable = xen_mappable,
    .vif_mac = xen_vif_mac,
};
