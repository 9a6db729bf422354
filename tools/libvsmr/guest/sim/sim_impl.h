/*
 * sim_impl.h - the sim backend's handle (internal to guest/sim/).
 */
#ifndef VSMR_SIM_IMPL_H
#define VSMR_SIM_IMPL_H

#include <sys/types.h>

#include "guest/guest_impl.h"
#include "guest/sim/sim_abi.h"

struct sim_outbox;                  /* responses drained while pausing */

struct sim_guest {
    struct vsmr_guest base;
    unsigned workers;
    int memfd, ctlfd, sock;
    pid_t pid;
    uint8_t *mem;
    struct sim_ctl *ctl;
    uint64_t sent;
    struct sim_outbox *outbox;
    unsigned fail_next;             /* sim_sync.c: steps told to fail */
    unsigned devices_down;          /* sim_sync.c: checks that say "not
                                       connected" after the next end */
    unsigned devices_down_left;
    char trace[512];                /* sim_sync.c: steps called */
};

int sim_pause(vsmr_guest *g);
int sim_unpause(vsmr_guest *g);

/* sim_sync.c: the sync stops, as plain pause and unpause */
int sim_stop_for_sync(vsmr_guest *g);
int sim_continue_after_sync(vsmr_guest *g);
int sim_backup_prepare(vsmr_guest *g);
int sim_backup_begin(vsmr_guest *g);
int sim_backup_end(vsmr_guest *g, bool reconnect, bool run);
int sim_backup_cancel(vsmr_guest *g, bool begun);
int sim_devices_connected(vsmr_guest *g, int timeout_ms, bool *up);
int sim_backup_figures(vsmr_guest *g, struct vsmr_guest_backup_figures *f);
int sim_shared_pages(vsmr_guest *g, uint64_t *pfns, size_t cap, size_t *n);
int sim_mappable(vsmr_guest *g, uint64_t *bitmap, size_t nwords);

int sim_start(struct sim_guest *s);
void sim_stop(struct sim_guest *s);

/* Moves every response waiting on the socket into the outbox, so a guest
 * worker blocked on a full socket can reach its request boundary. */
int sim_drain(struct sim_guest *s);
void sim_outbox_free(struct sim_guest *s);

#endif
