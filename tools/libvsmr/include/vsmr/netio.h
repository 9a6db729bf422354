/*
 * netio.h - the dom0 side of a protected guest's network (docs/netio.md):
 * hooks on its vif (setup/teardown/status), input capture and injection,
 * output buffering per epoch with sch_plug, and the log entry codec for
 * captured frames. All functions follow vsmr.h: 0 or a negative VSMR_E*.
 */
#ifndef VSMR_NETIO_H
#define VSMR_NETIO_H

#include <stddef.h>
#include <stdint.h>

#include "vsmr/vsmr.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- hooks: the IFB devices, qdiscs and filters around one vif -------- */

#define VSMR_NETIO_IFNAMSIZ 16

/* Names of the devices netio puts next to a vif (always the same for the
 * same vif name, so teardown finds them after the vif has gone). */
struct vsmr_netio_names {
    char vif[VSMR_NETIO_IFNAMSIZ];
    char in_dev[VSMR_NETIO_IFNAMSIZ];   /* capture device ("vsi-<vif>") */
    char out_dev[VSMR_NETIO_IFNAMSIZ];  /* output buffer IFB ("vso-<vif>") */
};
/* VSMR_EINVAL if vif is not a valid interface name. */
int vsmr_netio_names(const char *vif, struct vsmr_netio_names *out);

enum {
    VSMR_NETIO_INPUT  = 1u << 0,  /* divert frames going to the guest */
    VSMR_NETIO_OUTPUT = 1u << 1,  /* hold frames coming from the guest */
    VSMR_NETIO_BOTH   = VSMR_NETIO_INPUT | VSMR_NETIO_OUTPUT,
};

/* Creates the hooks over netlink. Output buffering starts plugged (every
 * frame from the guest is held until a release). Idempotent for hooks that
 * already exist. On failure, whatever this call created is removed and the
 * message names the device and the missing kernel module, if any.
 * limit_bytes: sch_plug queue limit (0 = 16 MiB). */
int vsmr_netio_setup(const char *vif, unsigned what, uint32_t limit_bytes);
/* Removes every hook netio owns for vif (also when vif no longer exists).
 * Held output frames are dropped. Removing nothing is not an error. */
int vsmr_netio_teardown(const char *vif);

struct vsmr_netio_status {
    int vif_exists;
    int input;            /* capture filter and capture device present */
    int output;           /* redirect filter, IFB and plug qdisc present */
    int leftovers;        /* netio devices/filters present but incomplete */
    uint32_t out_qlen;    /* frames held in the plug qdisc now */
    uint32_t out_backlog; /* bytes held */
    uint64_t out_sent;    /* frames released since setup */
    uint64_t out_drops;   /* frames dropped (limit reached, or flushed) */
};
int vsmr_netio_status(const char *vif, struct vsmr_netio_status *st);

/* ---- output buffer: sch_plug on the vif's IFB ------------------------- */

struct vsmr_netbuf;

/* Attaches to the output hooks of vif (made by setup or the hotplug
 * script). The handle assumes the qdisc holds and no epoch is closed. */
int vsmr_netbuf_open(const char *vif, struct vsmr_netbuf **out);
void vsmr_netbuf_close(struct vsmr_netbuf *nb);

/* Epoch-aware operations (the primary's vsmrd). Outputs produced before
 * epoch_end(e) belong to epochs <= e and leave only after commit(e') with
 * e' >= e. Epochs must increase. The kernel keeps one closed epoch; when a
 * second ends before the first commits, the two are merged (released at
 * the later commit: later is always safe). */
int vsmr_netbuf_epoch_end(struct vsmr_netbuf *nb, uint64_t epoch);
int vsmr_netbuf_commit(struct vsmr_netbuf *nb, uint64_t epoch);

/* Raw operations (the CLI and the backup). */
int vsmr_netbuf_plug(struct vsmr_netbuf *nb);        /* TCQ_PLUG_BUFFER */
int vsmr_netbuf_release_one(struct vsmr_netbuf *nb); /* ..._RELEASE_ONE */
int vsmr_netbuf_unplug(struct vsmr_netbuf *nb);      /* ..._INDEFINITE */
/* Drops every held frame and keeps holding (the backup at each commit). */
int vsmr_netbuf_drop(struct vsmr_netbuf *nb);

/* ---- input: capture and injection ------------------------------------- */

/* virtio_net_hdr of a frame: GSO and checksum-offload metadata, so a large
 * or partially checksummed frame is replayed exactly (see docs/netio.md). */
struct vsmr_netio_vnet {
    uint8_t flags;
    uint8_t gso_type;
    uint16_t hdr_len;
    uint16_t gso_size;
    uint16_t csum_start;
    uint16_t csum_offset;
};

#define VSMR_NETIO_FRAME_MIN 14u        /* an Ethernet header */
#define VSMR_NETIO_FRAME_MAX 65550u     /* 64 KiB GSO frame + headers */

struct vsmr_netio_frame {
    const uint8_t *data;   /* from the destination MAC on */
    uint32_t len;
    uint64_t ts_ns;        /* capture time, CLOCK_REALTIME */
    struct vsmr_netio_vnet vnet;
};

struct vsmr_netcap;

/* Opens a TPACKET_V3 ring on vif's capture device (setup with INPUT must
 * have run). ring_bytes 0 = 8 MiB. */
int vsmr_netcap_open(const char *vif, size_t ring_bytes,
                     struct vsmr_netcap **out);
void vsmr_netcap_close(struct vsmr_netcap *cap);
/* Readable when frames wait (for epoll). */
int vsmr_netcap_fd(const struct vsmr_netcap *cap);
/* Hands every waiting frame to fn (at most max_frames; 0 = no limit) and
 * returns how many (>= 0). The frame's memory is valid during the call. */
typedef void (*vsmr_netcap_fn)(void *arg, const struct vsmr_netio_frame *f);
int vsmr_netcap_drain(struct vsmr_netcap *cap, vsmr_netcap_fn fn, void *arg,
                      unsigned max_frames);
/* Frames the kernel dropped because the ring was full, since the last call. */
uint64_t vsmr_netcap_drops(struct vsmr_netcap *cap);

struct vsmr_netinj;

/* A socket that writes frames into vif toward the guest, bypassing the
 * vif's qdisc and tc hooks (so they are never captured again). */
int vsmr_netinj_open(const char *vif, struct vsmr_netinj **out);
void vsmr_netinj_close(struct vsmr_netinj *inj);
int vsmr_netinj_send(struct vsmr_netinj *inj, const struct vsmr_netio_frame *f);

/* ---- failover: the promoted guest's vif joins the production bridge --- */

#define VSMR_NETIO_ANNOUNCEMENTS 3u

/* What a promoted backup does so clients reach its guest (docs/netio.md,
 * "Failover"):
 *   1. vif becomes a port of bridge (moved off any other bridge, e.g. the
 *      isolated one the backup copy ran on; nothing to do if it is one);
 *   2. the bridge forgets mac on every port but vif (entries learned while
 *      the guest ran elsewhere: the bridge would drop clients' frames for
 *      mac arriving on the port the entry names);
 *   3. VSMR_NETIO_ANNOUNCEMENTS RARP frames (what QEMU sends after a
 *      migration), source mac, to broadcast, sent from the bridge device,
 *      so switches upstream learn where mac is now.
 * Idempotent. On failure the message names the step; a failed step 1
 * stops the others, a failed step 2 still announces. VSMR_EINVAL: a bad
 * name or a MAC that is not unicast, bridge is not a bridge; VSMR_ENOENT:
 * no such device; VSMR_ESTATE: another port owns mac, bridge is down. */
int vsmr_netio_bridge_takeover(const char *vif, const char *bridge,
                               const uint8_t mac[6]);
/* Whether bridge exists and is a bridge (step 1's checks, changing
 * nothing): VSMR_ENOENT, VSMR_EINVAL with the cause. */
int vsmr_netio_bridge_check(const char *bridge);

/* ---- log entry payload carrying frames (docs/netio.md, "Entry format") - */

#define VSMR_NETIO_ENTRY_MAX_FRAMES 1024u

/* Bytes needed to encode these frames. */
size_t vsmr_netio_entry_size(const struct vsmr_netio_frame *frames, size_t n);
/* Encodes n frames into buf; *out_len gets the size. VSMR_ERANGE if cap is
 * too small, VSMR_EINVAL for a frame out of bounds. */
int vsmr_netio_entry_encode(const struct vsmr_netio_frame *frames, size_t n,
                            uint8_t *buf, size_t cap, size_t *out_len);
/* Decodes an untrusted entry, all or nothing: on success frames[0..*n)
 * point into buf. VSMR_EPROTO (message says why) for anything malformed,
 * VSMR_ERANGE if more than max frames. */
int vsmr_netio_entry_decode(const uint8_t *buf, size_t len,
                            struct vsmr_netio_frame *frames, size_t max,
                            size_t *n);

#ifdef __cplusplus
}
#endif
#endif
