/*
 * nl.c - the libnl-route-3 socket netio talks to the kernel with, and the
 * mapping of libnl errors to VSMR codes and messages that name the device
 * and, when the kernel lacks a tc kind or link type, the module.
 */
#include <errno.h>
#include <net/if.h>

#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "common/err.h"
#include "netio/netio_internal.h"

int netio_nl_open(struct nl_sock **out)
{
    struct nl_sock *sk = nl_socket_alloc();
    if (!sk)
        return vsmr_fail(VSMR_ENOMEM, "cannot allocate a netlink socket");
    int err = nl_connect(sk, NETLINK_ROUTE);
    if (err < 0) {
        nl_socket_free(sk);
        return vsmr_fail(VSMR_ESYS, "cannot open a rtnetlink socket: %s",
                         nl_geterror(err));
    }
    *out = sk;
    return VSMR_OK;
}

void netio_nl_close(struct nl_sock *sk)
{
    if (sk)
        nl_socket_free(sk);
}

int netio_ifindex(const char *name)
{
    if (!netio_valid_ifname(name))
        return 0;
    return (int)if_nametoindex(name);
}

int netio_nl_fail(int nlerr, const char *dev, const char *module,
                  const char *what)
{
    int e = nlerr < 0 ? -nlerr : nlerr;
    /* The kernel answers ENOENT for a tc kind it cannot load and
     * EOPNOTSUPP for a link type it does not know (after trying to load
     * the module itself), so these mean "not in this kernel". */
    if (module && (e == NLE_OBJ_NOTFOUND || e == NLE_OPNOTSUPP))
        return vsmr_fail(VSMR_ENOTSUP,
                         "%s on %s: the kernel has no %s (module %s is "
                         "neither built in nor loadable; try "
                         "'modprobe %s')", what, dev, module, module, module);
    if (e == NLE_PERM || e == NLE_NOACCESS)
        return vsmr_fail(VSMR_ESYS, "%s on %s: permission denied (needs "
                         "CAP_NET_ADMIN)", what, dev);
    if (e == NLE_NODEV)
        return vsmr_fail(VSMR_ENOENT, "%s on %s: no such device", what, dev);
    return vsmr_fail(VSMR_ESYS, "%s on %s: %s", what, dev, nl_geterror(e));
}
