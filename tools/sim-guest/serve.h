/*
 * serve.h - the simulated guest's "vCPUs": a reader thread that takes
 * requests off the socket and worker threads that serve them, parking at
 * a request boundary when the engine asks for a pause.
 */
#ifndef SIMGUEST_SERVE_H
#define SIMGUEST_SERVE_H

#include "guest/sim/sim_abi.h"

/* Runs until the engine closes the socket; returns the exit status. */
int serve_run(struct sim_ctl *ctl, int sock, unsigned workers);

#endif
