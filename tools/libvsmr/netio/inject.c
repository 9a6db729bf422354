/*
 * inject.c - writes committed input frames into a vif toward the guest:
 * AF_PACKET with PACKET_QDISC_BYPASS, so they skip the vif's qdisc and its
 * tc egress hook and are never diverted to the capture device again.
 */
#include <stdio.h>
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/err.h"
#include "netio/netio_internal.h"

struct vsmr_netinj {
    int fd;
    int ifindex;
    char vif[VSMR_NETIO_IFNAMSIZ];
};

int vsmr_netinj_open(const char *vif, struct vsmr_netinj **out)
{
    if (!netio_valid_ifname(vif))
        return vsmr_fail(VSMR_EINVAL, "\"%s\" is not an interface name",
                         vif ? vif : "(null)");
    int ifindex = netio_ifindex(vif);
    if (!ifindex)
        return vsmr_fail(VSMR_ENOENT, "no network device %s to inject into",
                         vif);
    struct vsmr_netinj *inj = calloc(1, sizeof *inj);
    if (!inj)
        return vsmr_fail(VSMR_ENOMEM, "allocating an injector");
    inj->ifindex = ifindex;
    snprintf(inj->vif, sizeof inj->vif, "%s", vif);
    /* Protocol 0: this socket only sends, it never receives. */
    inj->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    int one = 1, err = 0;
    if (inj->fd < 0)
        err = vsmr_fail_errno(VSMR_ESYS, "AF_PACKET socket for %s", vif);
    else if (setsockopt(inj->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one,
                        sizeof one) < 0)
        err = vsmr_fail_errno(VSMR_ESYS, "PACKET_QDISC_BYPASS on %s", vif);
    else if (setsockopt(inj->fd, SOL_PACKET, PACKET_VNET_HDR, &one,
                        sizeof one) < 0)
        err = vsmr_fail_errno(VSMR_ESYS, "PACKET_VNET_HDR on %s", vif);
    if (err < 0) {
        vsmr_netinj_close(inj);
        return err;
    }
    *out = inj;
    return 0;
}

void vsmr_netinj_close(struct vsmr_netinj *inj)
{
    if (!inj)
        return;
    if (inj->fd >= 0)
        close(inj->fd);
    free(inj);
}

int vsmr_netinj_send(struct vsmr_netinj *inj, const struct vsmr_netio_frame *f)
{
    if (!f || !f->data || f->len < VSMR_NETIO_FRAME_MIN ||
        f->len > VSMR_NETIO_FRAME_MAX)
        return vsmr_fail(VSMR_EINVAL, "frame of %u bytes cannot be injected",
                         f ? f->len : 0);
    struct virtio_net_hdr k = {
        .flags = f->vnet.flags,
        .gso_type = f->vnet.gso_type,
        .hdr_len = f->vnet.hdr_len,
        .gso_size = f->vnet.gso_size,
        .csum_start = f->vnet.csum_start,
        .csum_offset = f->vnet.csum_offset,
    };
    uint16_t proto;
    memcpy(&proto, f->data + 12, sizeof proto);   /* network order */
    struct sockaddr_ll sll = {
        .sll_family = AF_PACKET,
        .sll_protocol = proto,
        .sll_ifindex = inj->ifindex,
    };
    struct iovec iov[2] = {
        {.iov_base = &k, .iov_len = sizeof k},
        {.iov_base = (void *)f->data, .iov_len = f->len},
    };
    struct msghdr mh = {
        .msg_name = &sll, .msg_namelen = sizeof sll,
        .msg_iov = iov, .msg_iovlen = 2,
    };
    if (sendmsg(inj->fd, &mh, 0) >= 0)
        return 0;
    /* The guest's ring is full (netback stopped its queue): without a
     * qdisc nothing waits for us, so the caller keeps the frame. */
    if (errno == ENOBUFS || errno == EAGAIN || errno == EBUSY)
        return vsmr_fail(VSMR_EAGAIN, "%s is not taking frames now (guest "
                         "ring full); retry", inj->vif);
    if (errno == ENXIO || errno == ENODEV || errno == ENETDOWN)
        return vsmr_fail_errno(VSMR_ECLOSED, "injecting into %s", inj->vif);
    return vsmr_fail_errno(VSMR_ESYS, "injecting a %u-byte frame into %s",
                           f->len, inj->vif);
}
