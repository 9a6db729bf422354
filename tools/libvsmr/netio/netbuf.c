/*
 * netbuf.c - the output buffer of one vif: sends sch_plug commands to the
 * plug qdisc on the vif's output IFB, with epoch.c deciding which. A drop
 * grafts a fresh plug qdisc (the kernel has no "flush" command).
 */
#include <linux/pkt_sched.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "netio/epoch.h"
#include "netio/netio_internal.h"

struct vsmr_netbuf {
    struct nl_sock *sk;
    struct vsmr_netio_names names;
    int ifindex;            /* of the output IFB */
    uint32_t handle;        /* of the plug qdisc now in place */
    uint32_t limit;
    struct netbuf_epochs ep;
};

static int refresh(struct vsmr_netbuf *nb)
{
    struct netio_plug_info pi;
    nb->ifindex = netio_ifindex(nb->names.out_dev);
    if (!nb->ifindex)
        return vsmr_fail(VSMR_ENOENT, "output buffer %s of %s does not "
                         "exist (run: vsmr-netbuf setup %s)",
                         nb->names.out_dev, nb->names.vif, nb->names.vif);
    int err = netio_plug_info(nb->sk, nb->ifindex, &pi);
    if (err < 0)
        return err;
    if (!pi.present)
        return vsmr_fail(VSMR_ENOENT, "%s (output buffer of %s) has no plug "
                         "qdisc", nb->names.out_dev, nb->names.vif);
    nb->handle = pi.handle;
    return 0;
}

int vsmr_netbuf_open(const char *vif, struct vsmr_netbuf **out)
{
    struct vsmr_netbuf *nb = calloc(1, sizeof *nb);
    if (!nb)
        return vsmr_fail(VSMR_ENOMEM, "allocating an output buffer");
    int err = vsmr_netio_names(vif, &nb->names);
    if (err >= 0)
        err = netio_nl_open(&nb->sk);
    if (err >= 0)
        err = refresh(nb);
    if (err < 0) {
        vsmr_netbuf_close(nb);
        return err;
    }
    nb->limit = NETIO_DEFAULT_LIMIT;
    netbuf_epochs_init(&nb->ep);
    *out = nb;
    return 0;
}

void vsmr_netbuf_close(struct vsmr_netbuf *nb)
{
    if (!nb)
        return;
    netio_nl_close(nb->sk);
    free(nb);
}

static int cmd(struct vsmr_netbuf *nb, int action)
{
    int err = netio_plug_cmd(nb->sk, nb->ifindex, nb->names.out_dev,
                             nb->handle, action);
    if (err == VSMR_ENOENT && refresh(nb) == 0)   /* re-created under us */
        err = netio_plug_cmd(nb->sk, nb->ifindex, nb->names.out_dev,
                             nb->handle, action);
    return err;
}

static int run(struct vsmr_netbuf *nb, enum netbuf_cmd c)
{
    if (c == NETBUF_CMD_BUFFER)
        return cmd(nb, TCQ_PLUG_BUFFER);
    if (c == NETBUF_CMD_RELEASE_ONE)
        return cmd(nb, TCQ_PLUG_RELEASE_ONE);
    return 0;
}

int vsmr_netbuf_epoch_end(struct vsmr_netbuf *nb, uint64_t epoch)
{
    enum netbuf_cmd c;
    int err = netbuf_epochs_end(&nb->ep, epoch, &c);
    return err < 0 ? err : run(nb, c);
}

int vsmr_netbuf_commit(struct vsmr_netbuf *nb, uint64_t epoch)
{
    enum netbuf_cmd c;
    int err = netbuf_epochs_commit(&nb->ep, epoch, &c);
    return err < 0 ? err : run(nb, c);
}

int vsmr_netbuf_plug(struct vsmr_netbuf *nb)
{
    int err = cmd(nb, TCQ_PLUG_BUFFER);
    if (err >= 0)
        netbuf_epochs_on_buffer(&nb->ep);
    return err;
}

int vsmr_netbuf_release_one(struct vsmr_netbuf *nb)
{
    int err = cmd(nb, TCQ_PLUG_RELEASE_ONE);
    if (err >= 0)
        netbuf_epochs_on_release_one(&nb->ep);
    return err;
}

int vsmr_netbuf_unplug(struct vsmr_netbuf *nb)
{
    int err = cmd(nb, TCQ_PLUG_RELEASE_INDEFINITE);
    if (err >= 0)
        netbuf_epochs_on_unplug(&nb->ep);
    return err;
}

int vsmr_netbuf_drop(struct vsmr_netbuf *nb)
{
    int err = refresh(nb);
    if (err < 0)
        return err;
    uint32_t next = nb->handle == NETIO_PLUG_HANDLE_A ? NETIO_PLUG_HANDLE_B
                                                      : NETIO_PLUG_HANDLE_A;
    err = netio_plug_add(nb->sk, nb->ifindex, nb->names.out_dev, next,
                         nb->limit, 1);
    if (err < 0)
        return err;
    nb->handle = next;
    netbuf_epochs_on_drop(&nb->ep);
    return 0;
}
