/*
 * hooks.c - setup and teardown of netio's hooks around one vif (the
 * diagram is in docs/netio.md): the capture IFB with its drop filter, the
 * output IFB with its plug qdisc, and the two redirect filters on the vif.
 */
#include <stdio.h>
#include <string.h>

#include <netlink/route/link.h>

#include "common/err.h"
#include "netio/netio_internal.h"

static int setup_input(struct nl_sock *sk, const struct vsmr_netio_names *n,
                       int vif)
{
    char alias[64];
    netio_alias(alias, sizeof alias, "input", n->vif);
    int err = netio_link_ifb_add(sk, n->in_dev, alias);
    if (err < 0)
        return err;
    int cap = netio_ifindex(n->in_dev);
    if (!cap)
        return vsmr_fail(VSMR_ENOENT, "%s vanished after creation",
                         n->in_dev);
    /* First the drop, so a diverted frame never reaches dom0's stack. */
    if ((err = netio_tc_clsact_add(sk, cap, n->in_dev)) < 0)
        return err;
    if ((err = netio_tc_filter_present(sk, cap, NETIO_CLSACT_INGRESS)) < 0)
        return err;
    if (!err && (err = netio_tc_drop_add(sk, cap, n->in_dev,
                                         NETIO_CLSACT_INGRESS)) < 0)
        return err;
    if ((err = netio_tc_clsact_add(sk, vif, n->vif)) < 0)
        return err;
    if ((err = netio_tc_filter_present(sk, vif, NETIO_CLSACT_EGRESS)) < 0)
        return err;
    if (!err)
        err = netio_tc_redirect_add(sk, vif, n->vif, NETIO_CLSACT_EGRESS,
                                    cap, 1);
    return err < 0 ? err : 0;
}

static int setup_output(struct nl_sock *sk, const struct vsmr_netio_names *n,
                        int vif, uint32_t limit)
{
    char alias[64];
    netio_alias(alias, sizeof alias, "output", n->vif);
    int err = netio_link_ifb_add(sk, n->out_dev, alias);
    if (err < 0)
        return err;
    int ifb = netio_ifindex(n->out_dev);
    if (!ifb)
        return vsmr_fail(VSMR_ENOENT, "%s vanished after creation",
                         n->out_dev);
    /* First the plug (holding from birth), then the redirect into it. */
    struct netio_plug_info pi;
    if ((err = netio_plug_info(sk, ifb, &pi)) < 0)
        return err;
    if (!pi.present &&
        (err = netio_plug_add(sk, ifb, n->out_dev, NETIO_PLUG_HANDLE_A,
                              limit, 0)) < 0)
        return err;
    if ((err = netio_tc_clsact_add(sk, vif, n->vif)) < 0)
        return err;
    if ((err = netio_tc_filter_present(sk, vif, NETIO_CLSACT_INGRESS)) < 0)
        return err;
    if (!err)
        err = netio_tc_redirect_add(sk, vif, n->vif, NETIO_CLSACT_INGRESS,
                                    ifb, 0);
    return err < 0 ? err : 0;
}

static int teardown(struct nl_sock *sk, const struct vsmr_netio_names *n)
{
    char in_alias[64], out_alias[64];
    netio_alias(in_alias, sizeof in_alias, "input", n->vif);
    netio_alias(out_alias, sizeof out_alias, "output", n->vif);
    int vif = netio_ifindex(n->vif);
    int first = 0, err;
    if (vif) {
        if ((err = netio_tc_filter_del(sk, vif, NETIO_CLSACT_EGRESS)) < 0)
            first = first ? first : err;
        if ((err = netio_tc_filter_del(sk, vif, NETIO_CLSACT_INGRESS)) < 0)
            first = first ? first : err;
        if ((err = netio_tc_clsact_del_if_empty(sk, vif)) < 0)
            first = first ? first : err;
    }
    /* Deleting an IFB deletes its qdiscs and filters with it. */
    if (netio_link_owned(sk, n->in_dev, in_alias) == 1 &&
        (err = netio_link_del(sk, n->in_dev)) < 0)
        first = first ? first : err;
    if (netio_link_owned(sk, n->out_dev, out_alias) == 1 &&
        (err = netio_link_del(sk, n->out_dev)) < 0)
        first = first ? first : err;
    return first;
}

int vsmr_netio_setup(const char *vif, unsigned what, uint32_t limit_bytes)
{
    struct vsmr_netio_names n;
    int err = vsmr_netio_names(vif, &n);
    if (err < 0)
        return err;
    if (!(what & VSMR_NETIO_BOTH) || (what & ~(unsigned)VSMR_NETIO_BOTH))
        return vsmr_fail(VSMR_EINVAL, "setup of %s: what=%#x is neither "
                         "input, output nor both", vif, what);
    int ifindex = netio_ifindex(vif);
    if (!ifindex)
        return vsmr_fail(VSMR_ENOENT, "no network device %s in this "
                         "namespace (is the domain running?)", vif);
    struct nl_sock *sk;
    if ((err = netio_nl_open(&sk)) < 0)
        return err;
    if (what & VSMR_NETIO_OUTPUT)
        err = setup_output(sk, &n, ifindex,
                           limit_bytes ? limit_bytes : NETIO_DEFAULT_LIMIT);
    if (err >= 0 && (what & VSMR_NETIO_INPUT))
        err = setup_input(sk, &n, ifindex);
    if (err < 0) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", vsmr_errmsg());
        teardown(sk, &n);
        vsmr_fail(err, "%s", msg);
    }
    netio_nl_close(sk);
    return err < 0 ? err : 0;
}

int vsmr_netio_teardown(const char *vif)
{
    struct vsmr_netio_names n;
    int err = vsmr_netio_names(vif, &n);
    if (err < 0)
        return err;
    struct nl_sock *sk;
    if ((err = netio_nl_open(&sk)) < 0)
        return err;
    err = teardown(sk, &n);
    netio_nl_close(sk);
    return err;
}

int vsmr_netio_status(const char *vif, struct vsmr_netio_status *st)
{
    struct vsmr_netio_names n;
    int err = vsmr_netio_names(vif, &n);
    if (err < 0)
        return err;
    memset(st, 0, sizeof *st);
    struct nl_sock *sk;
    if ((err = netio_nl_open(&sk)) < 0)
        return err;
    char in_alias[64], out_alias[64];
    netio_alias(in_alias, sizeof in_alias, "input", n.vif);
    netio_alias(out_alias, sizeof out_alias, "output", n.vif);
    int vifi = netio_ifindex(n.vif);
    int in_f = 0, out_f = 0;
    st->vif_exists = vifi != 0;
    if (vifi) {
        in_f = netio_tc_filter_present(sk, vifi, NETIO_CLSACT_EGRESS) == 1;
        out_f = netio_tc_filter_present(sk, vifi, NETIO_CLSACT_INGRESS) == 1;
    }
    int in_d = netio_link_owned(sk, n.in_dev, in_alias) == 1;
    int out_d = netio_link_owned(sk, n.out_dev, out_alias) == 1;
    struct netio_plug_info pi = {0};
    int outi = out_d ? netio_ifindex(n.out_dev) : 0;
    if (outi)
        netio_plug_info(sk, outi, &pi);
    st->input = in_f && in_d;
    st->output = out_f && out_d && pi.present;
    st->leftovers = (in_f || in_d) != st->input ||
                    (out_f || out_d) != st->output;
    st->out_qlen = pi.qlen;
    st->out_backlog = pi.backlog;
    st->out_sent = pi.packets;
    st->out_drops = pi.drops;
    netio_nl_close(sk);
    return 0;
}
