/*
 * sim_abi.h - the contract between the sim backend (in libvsmr) and the
 * simulated guest process (tools/sim-guest/): the layout of the control
 * region they share, and the request/response messages.
 *
 * Two memfds are handed to the guest process at start: "memory" (the
 * guest's RAM, page-addressed, everything the guest's service keeps lives
 * there) and "control" (hypervisor-side state: pause handshake, counters,
 * the dirty bitmap, the context blob). Requests and responses travel over
 * a SOCK_SEQPACKET socket pair, one message per packet.
 */
#ifndef VSMR_SIM_ABI_H
#define VSMR_SIM_ABI_H

#include <stdatomic.h>
#include <stdint.h>

#define SIM_CTL_MAGIC   0x43534d56u   /* "VMSC" */
#define SIM_CTL_VERSION 1u
#define SIM_MAX_WORKERS 64u
#define SIM_MIN_PAGES   64u
#define SIM_MAX_PAGES   (1ull << 22)  /* 16 GiB */

/* Control region: one page of header, then the dirty bitmap. */
struct sim_ctl {
    uint32_t magic;
    uint32_t version;
    uint64_t pages;
    uint32_t workers;
    _Atomic uint32_t ready;       /* guest finished start-up */
    _Atomic uint32_t pause_req;   /* engine: 1 = park at request boundary */
    _Atomic uint32_t parked;      /* workers currently parked */
    _Atomic uint32_t wake_seq;    /* bumped (futex) to wake idle workers */
    _Atomic uint32_t busy;        /* requests being served right now */
    _Atomic uint64_t received;    /* requests taken off the socket */
    _Atomic uint64_t completed;   /* responses sent */
    _Atomic uint64_t vclock_base; /* the guest's clock offset (context) */
};

#define SIM_CTL_HEADER_BYTES 4096u
static inline _Atomic uint64_t *sim_ctl_dirty(struct sim_ctl *c)
{
    return (_Atomic uint64_t *)((char *)c + SIM_CTL_HEADER_BYTES);
}
static inline uint64_t sim_ctl_bytes(uint64_t pages)
{
    return SIM_CTL_HEADER_BYTES + ((pages + 63) / 64) * 8;
}

/* The context blob: what a vCPU's registers are to a real guest. */
struct sim_context {
    uint32_t magic;
    uint32_t workers;
    uint64_t completed;
    uint64_t vclock_base;
};
#define SIM_CONTEXT_MAGIC 0x58544353u  /* "SCTX" */

/* Requests. Keys up to 24 bytes, values up to SIM_MAX_VALUE bytes. */
enum sim_op {
    SIM_OP_SET  = 1,  /* key, value -> OK */
    SIM_OP_GET  = 2,  /* key -> OK + value | NOTFOUND */
    SIM_OP_DEL  = 3,  /* key -> OK | NOTFOUND */
    SIM_OP_POKE = 4,  /* scratch page index in arg, fill byte in value[0] */
    SIM_OP_PEEK = 5,  /* scratch page index in arg -> first 64 bytes */
};
enum sim_status {
    SIM_ST_OK       = 0,
    SIM_ST_NOTFOUND = 1,
    SIM_ST_FULL     = 2,  /* no room left in the table or heap */
    SIM_ST_BADREQ   = 3,
};

#define SIM_MAX_KEY   24u
#define SIM_MAX_VALUE 2048u

struct sim_req {
    uint32_t id;        /* echoed in the response */
    uint8_t op;
    uint8_t klen;
    uint16_t vlen;
    uint32_t arg;
    uint8_t data[SIM_MAX_KEY + SIM_MAX_VALUE];  /* key, then value */
};
#define SIM_REQ_HEADER 12u

struct sim_resp {
    uint32_t id;
    uint8_t status;
    uint8_t pad;
    uint16_t vlen;
    uint8_t value[SIM_MAX_VALUE];
};
#define SIM_RESP_HEADER 8u

/* Number of scratch pages (at the end of memory) POKE and PEEK may use. */
static inline uint64_t sim_scratch_pages(uint64_t pages)
{
    uint64_t n = pages / 16;
    return n > 64 ? 64 : (n ? n : 1);
}

#endif
