/*
 * fdb.c - step 2 of the bridge takeover: a bridge's forwarding-database
 * entries for one MAC, over rtnetlink (libnl's core; its neighbour cache
 * folds a bridge's entries per MAC). Lists them, deletes those on ports
 * other than the one the guest now uses. Touches no other MAC's entries.
 */
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include "common/err.h"
#include "netio/netio_internal.h"

/* A MAC has one entry per VLAN on a bridge; far fewer than this. */
#define FDB_MAX_HITS 64

struct fdb_hit {
    int ifindex;
    uint16_t state;
    uint16_t vlan;          /* 0: none */
};

struct fdb_scan {
    int bridge, keep;
    const uint8_t *mac;
    struct fdb_hit hit[FDB_MAX_HITS];
    size_t n, overflow;
};

/* One RTM_NEWNEIGH of the dump: kept if it is the bridge's entry for the
 * MAC on another port (or on the bridge device itself). */
static int on_entry(struct nl_msg *msg, void *arg)
{
    struct fdb_scan *s = arg;
    struct nlmsghdr *h = nlmsg_hdr(msg);
    struct nlattr *tb[NDA_MAX + 1];
    if (h->nlmsg_type != RTM_NEWNEIGH ||
        nlmsg_parse(h, sizeof(struct ndmsg), tb, NDA_MAX, NULL) < 0)
        return NL_OK;
    const struct ndmsg *nd = nlmsg_data(h);
    if (nd->ndm_family != AF_BRIDGE || !tb[NDA_LLADDR] || !tb[NDA_MASTER] ||
        nla_len(tb[NDA_MASTER]) < 4 ||
        (int)nla_get_u32(tb[NDA_MASTER]) != s->bridge ||
        nla_len(tb[NDA_LLADDR]) != 6 ||
        memcmp(nla_data(tb[NDA_LLADDR]), s->mac, 6) != 0 ||
        nd->ndm_ifindex == s->keep)
        return NL_OK;
    if (s->n == FDB_MAX_HITS) {
        s->overflow++;
        return NL_OK;
    }
    struct fdb_hit *e = &s->hit[s->n++];
    e->ifindex = nd->ndm_ifindex;
    e->state = nd->ndm_state;
    e->vlan = tb[NDA_VLAN] && nla_len(tb[NDA_VLAN]) >= 2
                  ? nla_get_u16(tb[NDA_VLAN]) : 0;
    return NL_OK;
}

static int scan(struct nl_sock *sk, struct fdb_scan *s, const char *bridge)
{
    struct ndmsg req = {.ndm_family = AF_BRIDGE};
    int err = nl_send_simple(sk, RTM_GETNEIGH, NLM_F_DUMP, &req, sizeof req);
    struct nl_cb *cur = err < 0 ? NULL : nl_socket_get_cb(sk);
    struct nl_cb *cb = cur ? nl_cb_clone(cur) : NULL;
    if (err >= 0 && !cb)
        err = -NLE_NOMEM;
    if (err >= 0) {
        nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_entry, s);
        err = nl_recvmsgs(sk, cb);
    }
    if (cb)
        nl_cb_put(cb);
    if (cur)
        nl_cb_put(cur);
    return err < 0 ? netio_nl_fail(err, bridge, NULL,
                                   "listing the forwarding database")
                   : 0;
}

static const char *port_name(int ifindex, char buf[IF_NAMESIZE])
{
    if (!if_indextoname((unsigned)ifindex, buf))
        snprintf(buf, IF_NAMESIZE, "#%d", ifindex);
    return buf;
}

/* Deletes one entry; one that aged out meanwhile is gone already. */
static int delete_one(struct nl_sock *sk, const struct fdb_scan *s,
                      const struct fdb_hit *e, const char *port)
{
    /* The bridge's own entries are its "self" ones; a port's live in its
     * master's table. */
    struct ndmsg nd = {
        .ndm_family = AF_BRIDGE,
        .ndm_ifindex = e->ifindex,
        .ndm_state = e->state,
        .ndm_flags = e->ifindex == s->bridge ? NTF_SELF : NTF_MASTER,
    };
    struct nl_msg *msg = nlmsg_alloc_simple(RTM_DELNEIGH, 0);
    if (!msg)
        return vsmr_fail(VSMR_ENOMEM, "allocating a netlink message");
    int err = nlmsg_append(msg, &nd, sizeof nd, NLMSG_ALIGNTO);
    if (err >= 0)
        err = nla_put(msg, NDA_LLADDR, 6, s->mac);
    if (err >= 0 && e->vlan)
        err = nla_put_u16(msg, NDA_VLAN, e->vlan);
    if (err < 0) {
        nlmsg_free(msg);
        return vsmr_fail(VSMR_ENOMEM, "building a netlink message");
    }
    err = nl_send_sync(sk, msg);   /* frees msg */
    if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV)
        return 0;
    return err < 0 ? netio_nl_fail(err, port, NULL,
                                   "deleting the forwarding entry")
                   : 0;
}

int netio_fdb_forget(struct nl_sock *sk, int br_ifindex, const char *bridge,
                     int keep_ifindex, const uint8_t mac[6])
{
    struct fdb_scan s = {.bridge = br_ifindex, .keep = keep_ifindex,
                         .mac = mac};
    int rc = scan(sk, &s, bridge), conflict = -1;
    for (size_t i = 0; rc == VSMR_OK && i < s.n; i++) {
        /* A local entry is a port's own address: deleting it would not
         * move the guest's frames, it would hide a conflict. */
        if (s.hit[i].state & NUD_PERMANENT) {
            conflict = (int)i;
            continue;
        }
        char port[IF_NAMESIZE];
        port_name(s.hit[i].ifindex, port);
        rc = delete_one(sk, &s, &s.hit[i], port);
    }
    if (rc < 0)
        return rc;
    if (conflict >= 0) {
        char port[IF_NAMESIZE];
        port_name(s.hit[conflict].ifindex, port);
        return vsmr_fail(VSMR_ESTATE, "%s (on bridge %s) has the guest's MAC "
                         "as its own address, so frames for the guest stop "
                         "there: give %s another MAC", port, bridge, port);
    }
    if (s.overflow)
        return vsmr_fail(VSMR_ERANGE, "bridge %s has more than %d entries "
                         "for the guest's MAC on other ports; %zu are left",
                         bridge, FDB_MAX_HITS, s.overflow);
    return VSMR_OK;
}
