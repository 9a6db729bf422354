/*
 * kv.h - the key-value service the simulated guest runs on its memory.
 */
#ifndef SIMGUEST_KV_H
#define SIMGUEST_KV_H

#include <stdint.h>

#include "guest/sim/sim_abi.h"

/* Lays out a fresh memory (all zero) or adopts one already laid out
 * (a copy received from a primary). Returns 0 or -1 with a message. */
int kv_init(uint32_t workers, char *err, size_t errlen);
/* Serves one request on behalf of worker w; fills resp, returns its size. */
size_t kv_serve(unsigned w, const struct sim_req *req, size_t len,
                struct sim_resp *resp, uint64_t now_ns);

#endif
