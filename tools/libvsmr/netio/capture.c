/*
 * capture.c - reads the frames diverted from a vif's transmit direction:
 * an AF_PACKET socket with a TPACKET_V3 ring on the capture IFB, each frame
 * with its virtio_net_hdr (GSO/checksum state). Reads; never injects.
 */
#include <stdio.h>
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/err.h"
#include "netio/netio_internal.h"

#define BLOCK_SIZE (1u << 20)   /* holds a 64 KiB GSO frame with room */
#define FRAME_HINT 2048u

struct vsmr_netcap {
    int fd;
    uint8_t *ring;
    size_t ring_len;
    unsigned nblocks, cur;
    uint64_t drops_seen;
    char dev[VSMR_NETIO_IFNAMSIZ];
};

static int setopt(int fd, int opt, const void *v, socklen_t len,
                  const char *dev, const char *what)
{
    if (setsockopt(fd, SOL_PACKET, opt, v, len) < 0)
        return vsmr_fail_errno(VSMR_ESYS, "capture socket on %s: %s", dev,
                               what);
    return 0;
}

int vsmr_netcap_open(const char *vif, size_t ring_bytes,
                     struct vsmr_netcap **out)
{
    struct vsmr_netio_names n;
    int err = vsmr_netio_names(vif, &n);
    if (err < 0)
        return err;
    int ifindex = netio_ifindex(n.in_dev);
    if (!ifindex)
        return vsmr_fail(VSMR_ENOENT, "capture device %s of %s does not "
                         "exist (run: vsmr-netbuf setup %s)", n.in_dev, vif,
                         vif);
    struct vsmr_netcap *cap = calloc(1, sizeof *cap);
    if (!cap)
        return vsmr_fail(VSMR_ENOMEM, "allocating a capture");
    snprintf(cap->dev, sizeof cap->dev, "%s", n.in_dev);
    /* Protocol 0 until bound: no frames from other devices slip in. */
    cap->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (cap->fd < 0) {
        free(cap);
        return vsmr_fail_errno(VSMR_ESYS, "AF_PACKET socket for %s", n.in_dev);
    }
    int one = 1, v3 = TPACKET_V3;
    if (!ring_bytes)
        ring_bytes = 8u << 20;
    cap->nblocks = (unsigned)(ring_bytes / BLOCK_SIZE);
    if (cap->nblocks < 2)
        cap->nblocks = 2;
    struct tpacket_req3 req = {
        .tp_block_size = BLOCK_SIZE,
        .tp_block_nr = cap->nblocks,
        .tp_frame_size = FRAME_HINT,
        .tp_frame_nr = (BLOCK_SIZE / FRAME_HINT) * cap->nblocks,
        .tp_retire_blk_tov = 1,   /* ms: hand over a partial block soon */
    };
    if ((err = setopt(cap->fd, PACKET_VNET_HDR, &one, sizeof one, n.in_dev,
                      "PACKET_VNET_HDR")) < 0 ||
        (err = setopt(cap->fd, PACKET_VERSION, &v3, sizeof v3, n.in_dev,
                      "TPACKET_V3")) < 0 ||
        (err = setopt(cap->fd, PACKET_RX_RING, &req, sizeof req, n.in_dev,
                      "PACKET_RX_RING")) < 0)
        goto fail;
    cap->ring_len = (size_t)BLOCK_SIZE * cap->nblocks;
    cap->ring = mmap(NULL, cap->ring_len, PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_LOCKED, cap->fd, 0);
    if (cap->ring == MAP_FAILED)   /* MAP_LOCKED may exceed RLIMIT_MEMLOCK */
        cap->ring = mmap(NULL, cap->ring_len, PROT_READ | PROT_WRITE,
                         MAP_SHARED, cap->fd, 0);
    if (cap->ring == MAP_FAILED) {
        cap->ring = NULL;
        err = vsmr_fail_errno(VSMR_ESYS, "mapping the %zu-byte capture ring "
                              "of %s", cap->ring_len, n.in_dev);
        goto fail;
    }
    struct sockaddr_ll sll = {
        .sll_family = AF_PACKET,
        .sll_protocol = htons(ETH_P_ALL),
        .sll_ifindex = ifindex,
    };
    if (bind(cap->fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
        err = vsmr_fail_errno(VSMR_ESYS, "binding the capture socket to %s",
                              n.in_dev);
        goto fail;
    }
    *out = cap;
    return 0;
fail:
    vsmr_netcap_close(cap);
    return err;
}

void vsmr_netcap_close(struct vsmr_netcap *cap)
{
    if (!cap)
        return;
    if (cap->ring)
        munmap(cap->ring, cap->ring_len);
    if (cap->fd >= 0)
        close(cap->fd);
    free(cap);
}

int vsmr_netcap_fd(const struct vsmr_netcap *cap)
{
    return cap->fd;
}

static void vnet_from_kernel(const struct virtio_net_hdr *k,
                             struct vsmr_netio_vnet *v)
{
    v->flags = k->flags;
    v->gso_type = k->gso_type;
    v->hdr_len = k->hdr_len;
    v->gso_size = k->gso_size;
    v->csum_start = k->csum_start;
    v->csum_offset = k->csum_offset;
}

/* One block handed to user space: every frame in it, checked against the
 * block's bounds (the ring is shared with the kernel, but we still do not
 * walk out of it on a bad offset). */
static unsigned drain_block(struct vsmr_netcap *cap,
                            struct tpacket_block_desc *bd,
                            vsmr_netcap_fn fn, void *arg)
{
    uint8_t *base = (uint8_t *)bd;
    uint32_t num = bd->hdr.bh1.num_pkts, off = bd->hdr.bh1.offset_to_first_pkt;
    unsigned got = 0;
    for (uint32_t i = 0; i < num; i++) {
        if (off < sizeof *bd || off > BLOCK_SIZE - sizeof(struct tpacket3_hdr))
            break;
        struct tpacket3_hdr *h = (struct tpacket3_hdr *)(base + off);
        uint32_t mac = h->tp_mac, snap = h->tp_snaplen;
        if (mac < sizeof(struct virtio_net_hdr) ||
            (uint64_t)off + mac + snap > BLOCK_SIZE)
            break;
        /* A frame cut short by the ring (snap < len) cannot be replayed
         * faithfully; it is dropped like a frame lost on the wire. */
        if (snap == h->tp_len && snap >= VSMR_NETIO_FRAME_MIN &&
            snap <= VSMR_NETIO_FRAME_MAX) {
            struct vsmr_netio_frame f = {
                .data = base + off + mac,
                .len = snap,
                .ts_ns = (uint64_t)h->tp_sec * 1000000000u + h->tp_nsec,
            };
            struct virtio_net_hdr k;
            memcpy(&k, base + off + mac - sizeof k, sizeof k);
            vnet_from_kernel(&k, &f.vnet);
            fn(arg, &f);
            got++;
        }
        if (!h->tp_next_offset)
            break;
        off += h->tp_next_offset;
    }
    return got;
}

int vsmr_netcap_drain(struct vsmr_netcap *cap, vsmr_netcap_fn fn, void *arg,
                      unsigned max_frames)
{
    unsigned total = 0;
    for (unsigned seen = 0; seen < cap->nblocks; seen++) {
        struct tpacket_block_desc *bd = (struct tpacket_block_desc *)
            (cap->ring + (size_t)cap->cur * BLOCK_SIZE);
        if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) &
              TP_STATUS_USER))
            break;
        total += drain_block(cap, bd, fn, arg);
        __atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL,
                         __ATOMIC_RELEASE);
        cap->cur = (cap->cur + 1) % cap->nblocks;
        if (max_frames && total >= max_frames)
            break;
    }
    return (int)total;
}

uint64_t vsmr_netcap_drops(struct vsmr_netcap *cap)
{
    struct tpacket_stats_v3 st;
    socklen_t len = sizeof st;
    if (getsockopt(cap->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) < 0)
        return 0;
    return st.tp_drops;   /* the kernel resets the counters on read */
}
