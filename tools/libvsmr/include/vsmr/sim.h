/*
 * sim.h - talking to a simulated guest ("sim" backend of guest.h).
 *
 * A sim guest runs a key-value service; its input is requests and its
 * output is responses, the way a real guest's are network packets. The
 * engine sends requests (in log order) and receives responses (to hold or
 * release them).
 */
#ifndef VSMR_SIM_H
#define VSMR_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "vsmr/guest.h"

#ifdef __cplusplus
extern "C" {
#endif

enum vsmr_sim_op {
    VSMR_SIM_SET  = 1,   /* key, value */
    VSMR_SIM_GET  = 2,   /* key -> value */
    VSMR_SIM_DEL  = 3,   /* key */
    VSMR_SIM_POKE = 4,   /* fill scratch page arg with value[0] */
    VSMR_SIM_PEEK = 5,   /* first 64 bytes of scratch page arg */
};

enum vsmr_sim_status {
    VSMR_SIM_OK       = 0,
    VSMR_SIM_NOTFOUND = 1,
    VSMR_SIM_FULL     = 2,
    VSMR_SIM_BADREQ   = 3,
};

#define VSMR_SIM_MAX_KEY   24u
#define VSMR_SIM_MAX_VALUE 2048u
#define VSMR_SIM_MAX_MSG   (12u + VSMR_SIM_MAX_KEY + VSMR_SIM_MAX_VALUE)

/* Encodes a request into buf; returns its length, or 0 if it does not fit
 * or key/value are too long. */
size_t vsmr_sim_encode_request(void *buf, size_t cap, uint32_t id, int op,
                               const void *key, size_t klen,
                               const void *value, size_t vlen, uint32_t arg);
/* Decodes a response; *value points into buf. */
int vsmr_sim_decode_response(const void *buf, size_t len, uint32_t *id,
                             int *status, const void **value, size_t *vlen);

/* Sends one encoded request to the guest. */
int vsmr_sim_send(vsmr_guest *g, const void *req, size_t len);
/* Receives one response; waits up to timeout_ms (0: don't wait).
 * VSMR_EAGAIN when none arrived in time. */
int vsmr_sim_recv(vsmr_guest *g, void *buf, size_t cap, size_t *len,
                  int timeout_ms);
/* Requests sent and requests the guest has finished serving. */
uint64_t vsmr_sim_sent(vsmr_guest *g);
uint64_t vsmr_sim_completed(vsmr_guest *g);
/* Scratch pages POKE/PEEK may address, and the frame of scratch page 0. */
uint64_t vsmr_sim_scratch_pages(vsmr_guest *g);
uint64_t vsmr_sim_scratch_first(vsmr_guest *g);
/* A descriptor that becomes readable when a response is waiting. */
int vsmr_sim_fd(vsmr_guest *g);
/* Process id of the guest process (tests kill it to simulate a crash). */
int vsmr_sim_pid(vsmr_guest *g);
/* Tests: the next call of one sync step fails with VSMR_EIO: "stop",
 * "continue", "prepare", "begin", "end"; "cancel" makes the next backup
 * cancel leave the guest stopped (VSMR_ESTATE), as a Xen backup's does.
 * An unknown step is VSMR_EINVAL. */
int vsmr_sim_fail_sync_step(vsmr_guest *g, const char *step);
/* Tests: after each backup end, the next `checks` calls of
 * vsmr_guest_devices_connected say "not connected" (a Xen backup's
 * frontends reconnecting); 0 (the default): connected at once. */
int vsmr_sim_devices_down_after_end(vsmr_guest *g, unsigned checks);
/* Tests: the sync steps called since the last call, space-separated
 * ("prepare begin end"), into buf; then forgets them. */
int vsmr_sim_sync_trace(vsmr_guest *g, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
