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
};

int sim_start(struct sim_guest *s);
void sim_stop(struct sim_guest *s);

/* Moves every response waiting on the socket into the outbox, so a guest
 * worker blocked on a full socket can reach its request boundary. */
int sim_drain(struct sim_guest *s);
void sim_outbox_free(struct sim_guest *s);

#endif
