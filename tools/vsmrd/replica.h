/*
 * replica.h - the guest side of a VM-running replica: the guest, the sync
 * engine, the sync trigger and the client service, plugged into the node
 * (node.h). A witness has none of this.
 */
#ifndef VSMRD_REPLICA_H
#define VSMRD_REPLICA_H

#include "config/config.h"
#include "loop.h"
#include "node.h"

struct replica;

/* Opens the guest named by cfg->guest and starts serving. */
int replica_start(const struct vsmr_config *cfg, struct loop *l,
                  struct node *n, struct replica **out);
void replica_stop(struct replica *r);

#endif
