/*
 * tc.c - the tc objects netio hangs on a device, over libnl-route-3: the
 * clsact qdisc, a u32 match-everything filter with a mirred redirect, a
 * cls_bpf drop filter; listing and deleting netio's filters by priority.
 */
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/rtnetlink.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/tc_act/tc_mirred.h>

#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/attr.h>
#include <netlink/route/classifier.h>
#include <netlink/route/qdisc.h>

#include "common/err.h"
#include "netio/netio_internal.h"

int netio_tc_clsact_add(struct nl_sock *sk, int ifindex, const char *dev)
{
    struct rtnl_qdisc *q = rtnl_qdisc_alloc();
    if (!q)
        return vsmr_fail(VSMR_ENOMEM, "allocating a qdisc");
    rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
    rtnl_tc_set_parent(TC_CAST(q), TC_H_CLSACT);
    rtnl_tc_set_handle(TC_CAST(q), TC_H_MAKE(TC_H_CLSACT, 0));
    int err = rtnl_tc_set_kind(TC_CAST(q), "clsact");
    if (err >= 0)
        err = rtnl_qdisc_add(sk, q, NLM_F_CREATE | NLM_F_EXCL);
    rtnl_qdisc_put(q);
    if (err >= 0)
        return 0;
    /* An existing clsact is shared (filters have their own priority). */
    struct nl_cache *cache = NULL;
    if (err == -NLE_EXIST && rtnl_qdisc_alloc_cache(sk, &cache) >= 0) {
        struct rtnl_qdisc *cur =
            rtnl_qdisc_get_by_parent(cache, ifindex, TC_H_CLSACT);
        const char *kind = cur ? rtnl_tc_get_kind(TC_CAST(cur)) : NULL;
        int is_clsact = kind && !strcmp(kind, "clsact");
        if (cur)
            rtnl_qdisc_put(cur);
        nl_cache_free(cache);
        if (is_clsact)
            return 0;
        return vsmr_fail(VSMR_ESTATE, "%s already has an ingress qdisc "
                         "that is not clsact (Remus's or a QoS script's?); "
                         "remove it first: tc qdisc del dev %s ingress",
                         dev, dev);
    }
    if (cache)
        nl_cache_free(cache);
    return netio_nl_fail(err, dev, "sch_ingress", "adding a clsact qdisc");
}

static int count_filters(struct nl_sock *sk, int ifindex, uint32_t parent,
                         int *ours, int *all)
{
    struct nl_cache *cache = NULL;
    *ours = *all = 0;
    int err = rtnl_cls_alloc_cache(sk, ifindex, parent, &cache);
    if (err < 0)
        return netio_nl_fail(err, "device", NULL, "listing tc filters");
    for (struct nl_object *o = nl_cache_get_first(cache); o;
         o = nl_cache_get_next(o)) {
        (*all)++;
        if (rtnl_cls_get_prio((struct rtnl_cls *)o) == NETIO_TC_PRIO)
            (*ours)++;
    }
    nl_cache_free(cache);
    return 0;
}

int netio_tc_filter_present(struct nl_sock *sk, int ifindex, uint32_t parent)
{
    int ours, all;
    int err = count_filters(sk, ifindex, parent, &ours, &all);
    return err < 0 ? err : ours > 0;
}

int netio_tc_clsact_del_if_empty(struct nl_sock *sk, int ifindex)
{
    int o1, a1, o2, a2;
    if (count_filters(sk, ifindex, NETIO_CLSACT_INGRESS, &o1, &a1) < 0 ||
        count_filters(sk, ifindex, NETIO_CLSACT_EGRESS, &o2, &a2) < 0)
        return 0;   /* no clsact, or unreadable: leave it */
    if (a1 + a2 > 0)
        return 0;   /* someone else's filters live there */
    struct rtnl_qdisc *q = rtnl_qdisc_alloc();
    if (!q)
        return vsmr_fail(VSMR_ENOMEM, "allocating a qdisc");
    rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
    rtnl_tc_set_parent(TC_CAST(q), TC_H_CLSACT);
    rtnl_tc_set_kind(TC_CAST(q), "clsact");
    int err = rtnl_qdisc_delete(sk, q);
    rtnl_qdisc_put(q);
    if (err < 0 && err != -NLE_OBJ_NOTFOUND && err != -NLE_INVAL)
        return netio_nl_fail(err, "vif", NULL, "deleting the clsact qdisc");
    return 0;
}

/* A new filter message: libnl-route 3.7's mirred object refuses ingress
 * redirects and it has no bpf classifier, so the two filters netio adds are
 * written with libnl's message and attribute API (libnl still owns the
 * socket, sequence numbers, the ack and the error). */
static struct nl_msg *filter_msg(int ifindex, uint32_t parent,
                                 const char *kind)
{
    struct nl_msg *msg = nlmsg_alloc_simple(RTM_NEWTFILTER,
                                            NLM_F_CREATE | NLM_F_EXCL);
    struct tcmsg tcm = {
        .tcm_family = AF_UNSPEC,
        .tcm_ifindex = ifindex,
        .tcm_parent = parent,
        /* Every protocol: ARP, IPv4, IPv6, VLAN, anything (Remus: ip). */
        .tcm_info = TC_H_MAKE((uint32_t)NETIO_TC_PRIO << 16,
                              htons(ETH_P_ALL)),
    };
    if (msg && (nlmsg_append(msg, &tcm, sizeof tcm, NLMSG_ALIGNTO) < 0 ||
                nla_put_string(msg, TCA_KIND, kind) < 0)) {
        nlmsg_free(msg);
        msg = NULL;
    }
    return msg;
}

static int send_filter(struct nl_sock *sk, struct nl_msg *msg, int ok)
{
    if (!msg)
        return -NLE_NOMEM;
    if (!ok) {
        nlmsg_free(msg);
        return -NLE_NOMEM;
    }
    return nl_send_sync(sk, msg);   /* frees msg */
}

static int put_mirred(struct nl_msg *msg, int to_ifindex, int to_ingress)
{
    struct tc_mirred parm = {
        .action = TC_ACT_STOLEN,
        .eaction = to_ingress ? TCA_INGRESS_REDIR : TCA_EGRESS_REDIR,
        .ifindex = (uint32_t)to_ifindex,
    };
    struct nlattr *acts = nla_nest_start(msg, TCA_U32_ACT);
    struct nlattr *one = acts ? nla_nest_start(msg, 1) : NULL;
    if (!one || nla_put_string(msg, TCA_ACT_KIND, "mirred") < 0)
        return 0;
    struct nlattr *opts = nla_nest_start(msg, TCA_ACT_OPTIONS);
    if (!opts || nla_put(msg, TCA_MIRRED_PARMS, sizeof parm, &parm) < 0)
        return 0;
    nla_nest_end(msg, opts);
    nla_nest_end(msg, one);
    nla_nest_end(msg, acts);
    return 1;
}

int netio_tc_redirect_add(struct nl_sock *sk, int ifindex, const char *dev,
                          uint32_t parent, int to_ifindex, int to_ingress)
{
    /* A selector with one key, mask 0 at offset 0: matches all. */
    union {
        struct tc_u32_sel sel;
        uint8_t bytes[sizeof(struct tc_u32_sel) + sizeof(struct tc_u32_key)];
    } sel;
    memset(&sel, 0, sizeof sel);
    sel.sel.flags = TC_U32_TERMINAL;
    sel.sel.nkeys = 1;
    struct nl_msg *msg = filter_msg(ifindex, parent, "u32");
    int ok = 0;
    struct nlattr *opts = msg ? nla_nest_start(msg, TCA_OPTIONS) : NULL;
    if (opts && nla_put(msg, TCA_U32_SEL, sizeof sel.bytes, sel.bytes) >= 0 &&
        put_mirred(msg, to_ifindex, to_ingress)) {
        nla_nest_end(msg, opts);
        ok = 1;
    }
    int err = send_filter(sk, msg, ok);
    if (err < 0)
        return netio_nl_fail(err, dev, "cls_u32/act_mirred",
                             "adding a u32 filter with a mirred redirect");
    return 0;
}

int netio_tc_drop_add(struct nl_sock *sk, int ifindex, const char *dev,
                      uint32_t parent)
{
    /* Classic BPF: return 2, which direct-action reads as TC_ACT_SHOT. */
    static const struct sock_filter prog[] = {
        {BPF_RET | BPF_K, 0, 0, TC_ACT_SHOT},
    };
    struct nl_msg *msg = filter_msg(ifindex, parent, "bpf");
    int ok = 0;
    struct nlattr *opts = msg ? nla_nest_start(msg, TCA_OPTIONS) : NULL;
    if (opts && nla_put_u16(msg, TCA_BPF_OPS_LEN, 1) >= 0 &&
        nla_put(msg, TCA_BPF_OPS, sizeof prog, prog) >= 0 &&
        nla_put_u32(msg, TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT) >= 0 &&
        nla_put_string(msg, TCA_BPF_NAME, "vsmr-drop") >= 0) {
        nla_nest_end(msg, opts);
        ok = 1;
    }
    int err = send_filter(sk, msg, ok);
    if (err < 0)
        return netio_nl_fail(err, dev, "cls_bpf", "adding a bpf drop filter");
    return 0;
}

int netio_tc_filter_del(struct nl_sock *sk, int ifindex, uint32_t parent)
{
    struct rtnl_cls *cls = rtnl_cls_alloc();
    if (!cls)
        return vsmr_fail(VSMR_ENOMEM, "allocating a filter");
    rtnl_tc_set_ifindex(TC_CAST(cls), ifindex);
    rtnl_tc_set_parent(TC_CAST(cls), parent);
    rtnl_cls_set_prio(cls, NETIO_TC_PRIO);
    rtnl_cls_set_protocol(cls, ETH_P_ALL);
    int err = rtnl_cls_delete(sk, cls, 0);
    rtnl_cls_put(cls);
    /* Nothing there (or no clsact at all) is what teardown wants. */
    if (err < 0 && err != -NLE_OBJ_NOTFOUND && err != -NLE_INVAL &&
        err != -NLE_NODEV)
        return netio_nl_fail(err, "vif", NULL, "deleting a tc filter");
    return 0;
}
