/*
 * bridge.c - the bridge takeover at a failover (netio.h): the promoted
 * guest's vif joins the production bridge (step 1, here, over libnl), the
 * bridge forgets the guest's MAC elsewhere (fdb.c), the network hears where
 * it is now (announce.c). Knows nothing of Xen: a vif is a device name.
 */
#include <stdio.h>
#include <string.h>

#include <netlink/errno.h>
#include <netlink/route/link.h>

#include "common/err.h"
#include "common/mac.h"
#include "netio/netio_internal.h"

/* Reads name; VSMR_ENOENT with "what" in the message if it is absent. */
static int get_link(struct nl_sock *sk, const char *name, const char *what,
                    struct rtnl_link **out)
{
    int err = rtnl_link_get_kernel(sk, 0, name, out);
    if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV)
        return vsmr_fail(VSMR_ENOENT, "there is no %s %s on this host",
                         what, name);
    return err < 0 ? netio_nl_fail(err, name, NULL, "reading the device")
                   : 0;
}

/* bridge, read and checked to be a bridge. */
static int get_bridge(struct nl_sock *sk, const char *bridge,
                      struct rtnl_link **out)
{
    int rc = get_link(sk, bridge, "bridge", out);
    const char *kind = rc == 0 ? rtnl_link_get_type(*out) : NULL;
    if (rc == 0 && (!kind || strcmp(kind, "bridge") != 0)) {
        char what[64] = "a device of no particular kind";
        if (kind)
            snprintf(what, sizeof what, "a %.40s device", kind);
        rc = vsmr_fail(VSMR_EINVAL, "%s is not a bridge (it is %s); name "
                       "the bridge the guest's clients are on", bridge,
                       what);
        rtnl_link_put(*out);
        *out = NULL;
    }
    return rc;
}

/* Step 1: vif a port of bridge; *br and *port get their ifindexes. */
static int join(struct nl_sock *sk, const char *vif, const char *bridge,
                int *br, int *port)
{
    struct rtnl_link *b = NULL, *v = NULL;
    int rc = get_bridge(sk, bridge, &b);
    if (rc == 0)
        rc = get_link(sk, vif, "network device", &v);
    if (rc == 0) {
        *br = rtnl_link_get_ifindex(b);
        *port = rtnl_link_get_ifindex(v);
        if (rtnl_link_get_master(v) != *br) {
            int err = rtnl_link_enslave(sk, b, v);
            if (err < 0)
                rc = netio_nl_fail(err, vif, NULL, "joining the bridge");
        }
    }
    if (b)
        rtnl_link_put(b);
    if (v)
        rtnl_link_put(v);
    return rc;
}

int vsmr_netio_bridge_check(const char *bridge)
{
    if (!netio_valid_ifname(bridge))
        return vsmr_fail(VSMR_EINVAL, "\"%s\" is not a network interface "
                         "name", bridge ? bridge : "(null)");
    struct nl_sock *sk = NULL;
    struct rtnl_link *b = NULL;
    int rc = netio_nl_open(&sk);
    if (rc == 0)
        rc = get_bridge(sk, bridge, &b);
    if (b)
        rtnl_link_put(b);
    netio_nl_close(sk);
    return rc;
}

/* "bridge takeover of vif: step N (what): <the cause>". */
static int step_fail(int rc, const char *vif, int step, const char *what)
{
    char msg[384];
    snprintf(msg, sizeof msg, "%s", vsmr_errmsg());
    return vsmr_fail(rc, "bridge takeover of %s: step %d (%s): %s", vif,
                     step, what, msg);
}

static int check_args(const char *vif, const char *bridge,
                      const uint8_t mac[6])
{
    if (!netio_valid_ifname(vif) || !netio_valid_ifname(bridge))
        return vsmr_fail(VSMR_EINVAL, "\"%s\" is not a network interface "
                         "name (1-15 characters, no '/', ':' or spaces)",
                         !netio_valid_ifname(vif) ? (vif ? vif : "(null)")
                         : (bridge ? bridge : "(null)"));
    if (!strcmp(vif, bridge))
        return vsmr_fail(VSMR_EINVAL, "%s cannot be a port of itself", vif);
    if (!mac || !vsmr_mac_is_unicast(mac))
        return vsmr_fail(VSMR_EINVAL, "the guest's MAC must be a unicast "
                         "address (not zero, multicast or broadcast)");
    return VSMR_OK;
}

int vsmr_netio_bridge_takeover(const char *vif, const char *bridge,
                               const uint8_t mac[6])
{
    int rc = check_args(vif, bridge, mac);
    if (rc < 0)
        return rc;
    struct nl_sock *sk = NULL;
    if ((rc = netio_nl_open(&sk)) < 0)
        return rc;
    char text[VSMR_MAC_TEXT], what[96];
    vsmr_mac_format(mac, text);
    int br = 0, port = 0;
    snprintf(what, sizeof what, "%s joins %s", vif, bridge);
    rc = join(sk, vif, bridge, &br, &port);
    if (rc < 0) {
        netio_nl_close(sk);
        return step_fail(rc, vif, 1, what);
    }
    /* A failure to forget still lets the announcements teach the bridge
     * and the switches (the first reports). */
    int forget = netio_fdb_forget(sk, br, bridge, port, mac);
    char forget_msg[384];
    snprintf(forget_msg, sizeof forget_msg, "%s", vsmr_errmsg());
    netio_nl_close(sk);
    rc = netio_announce(br, bridge, mac, VSMR_NETIO_ANNOUNCEMENTS);
    if (forget < 0) {
        snprintf(what, sizeof what, "%s forgets %s on other ports", bridge,
                 text);
        vsmr_fail(forget, "%s", forget_msg);
        return step_fail(forget, vif, 2, what);
    }
    if (rc < 0) {
        snprintf(what, sizeof what, "announcing %s on %s", text, bridge);
        return step_fail(rc, vif, 3, what);
    }
    return VSMR_OK;
}
