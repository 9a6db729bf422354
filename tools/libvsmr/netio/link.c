/*
 * link.c - the IFB devices netio creates next to a vif, over libnl: add
 * (up, with an ifalias that marks them as netio's), recognise, delete.
 * Never touches a device that does not carry netio's alias.
 */
#include <net/if.h>
#include <string.h>

#include <netlink/errno.h>
#include <netlink/route/link.h>

#include "common/err.h"
#include "netio/netio_internal.h"

int netio_link_owned(struct nl_sock *sk, const char *name, const char *alias)
{
    struct rtnl_link *link = NULL;
    int err = rtnl_link_get_kernel(sk, 0, name, &link);
    if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV)
        return 0;
    if (err < 0)
        return netio_nl_fail(err, name, NULL, "reading the device");
    const char *a = rtnl_link_get_ifalias(link);
    int ours = a && !strcmp(a, alias);
    rtnl_link_put(link);
    if (!ours)
        return vsmr_fail(VSMR_ESTATE, "device %s exists but is not one of "
                         "vsmr's (its alias is not \"%s\"); rename or remove "
                         "it", name, alias);
    return 1;
}

/* Up, and the alias (the kernel ignores IFLA_IFALIAS when creating). */
static int link_set_up(struct nl_sock *sk, const char *name,
                       const char *alias)
{
    struct rtnl_link *old = NULL, *chg = rtnl_link_alloc();
    int err = chg ? rtnl_link_get_kernel(sk, 0, name, &old) : -NLE_NOMEM;
    if (err >= 0) {
        rtnl_link_set_flags(chg, IFF_UP);
        rtnl_link_set_ifalias(chg, alias);
        err = rtnl_link_change(sk, old, chg, 0);
    }
    if (old)
        rtnl_link_put(old);
    if (chg)
        rtnl_link_put(chg);
    return err < 0 ? netio_nl_fail(err, name, NULL, "bringing up") : 0;
}

int netio_link_ifb_add(struct nl_sock *sk, const char *name,
                       const char *alias)
{
    int owned = netio_link_owned(sk, name, alias);
    if (owned < 0)
        return owned;
    if (owned)
        return link_set_up(sk, name, alias);
    struct rtnl_link *link = rtnl_link_alloc();
    if (!link)
        return vsmr_fail(VSMR_ENOMEM, "allocating link %s", name);
    rtnl_link_set_name(link, name);
    int err = rtnl_link_set_type(link, "ifb");
    if (err >= 0) {
        /* IFB is an Ethernet-like device; a long queue so nothing is
         * dropped before the plug qdisc (which has its own limit). */
        rtnl_link_set_txqlen(link, 10000);
        err = rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL);
    }
    rtnl_link_put(link);
    if (err < 0)
        return netio_nl_fail(err, name, "ifb", "creating an IFB device");
    err = link_set_up(sk, name, alias);
    if (err < 0)
        netio_link_del(sk, name);   /* unmarked, teardown would skip it */
    return err;
}

int netio_link_del(struct nl_sock *sk, const char *name)
{
    struct rtnl_link *link = rtnl_link_alloc();
    if (!link)
        return vsmr_fail(VSMR_ENOMEM, "allocating link %s", name);
    rtnl_link_set_name(link, name);
    int err = rtnl_link_delete(sk, link);
    rtnl_link_put(link);
    if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV)
        return 0;
    return err < 0 ? netio_nl_fail(err, name, NULL, "deleting the device")
                   : 0;
}
