/*
 * announce.c - step 3 of the bridge takeover: RARP announcements of the
 * guest's MAC (the frame QEMU sends after a migration), written here and
 * sent from the bridge device so switches upstream learn the MAC's new
 * place. Sends only; never reads from the network.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/err.h"
#include "netio/netio_internal.h"

/* RARP operation "request reverse" (RFC 903), as QEMU announces. */
#define RARP_OP_REQUEST_REVERSE 3u
#define ANNOUNCE_GAP_NS (10 * 1000 * 1000L)

void netio_rarp_frame(const uint8_t mac[6], uint8_t f[NETIO_RARP_LEN])
{
    memset(f, 0, NETIO_RARP_LEN);
    memset(f, 0xff, ETH_ALEN);                   /* to everyone */
    memcpy(f + 6, mac, ETH_ALEN);                /* from the guest */
    put_be16(f + 12, ETH_P_RARP);
    put_be16(f + 14, ARPHRD_ETHER);              /* hardware type */
    put_be16(f + 16, ETH_P_IP);                  /* protocol type */
    f[18] = ETH_ALEN;                            /* hardware address size */
    f[19] = 4;                                   /* protocol address size */
    put_be16(f + 20, RARP_OP_REQUEST_REVERSE);
    memcpy(f + 22, mac, ETH_ALEN);               /* sender MAC; IP 0 */
    memcpy(f + 32, mac, ETH_ALEN);               /* target MAC; IP 0 */
}

int netio_announce(int ifindex, const char *dev, const uint8_t mac[6],
                   unsigned count)
{
    uint8_t frame[NETIO_RARP_LEN];
    netio_rarp_frame(mac, frame);
    /* Protocol 0: bound to the device for sending, receives nothing. */
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return vsmr_fail_errno(VSMR_ESYS, "AF_PACKET socket for %s (needs "
                               "CAP_NET_RAW)", dev);
    struct sockaddr_ll sll = {
        .sll_family = AF_PACKET,
        .sll_ifindex = ifindex,
    };
    /* The ethertype again for the kernel (skb->protocol). */
    struct sockaddr_ll to = sll;
    to.sll_protocol = htons(ETH_P_RARP);
    int rc = VSMR_OK;
    if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0)
        rc = vsmr_fail_errno(VSMR_ESYS, "binding an AF_PACKET socket to %s",
                             dev);
    for (unsigned i = 0; rc == VSMR_OK && i < count; i++) {
        if (i > 0) {
            struct timespec gap = {0, ANNOUNCE_GAP_NS};
            nanosleep(&gap, NULL);
        }
        if (sendto(fd, frame, sizeof frame, 0, (struct sockaddr *)&to,
                   sizeof to) == (ssize_t)sizeof frame)
            continue;
        if (errno == ENETDOWN)
            rc = vsmr_fail(VSMR_ESTATE, "%s is down: nothing can reach the "
                           "network through it (ip link set %s up)", dev,
                           dev);
        else
            rc = vsmr_fail_errno(VSMR_ESYS, "sending announcement %u of %u "
                                 "on %s", i + 1, count, dev);
    }
    close(fd);
    return rc;
}
