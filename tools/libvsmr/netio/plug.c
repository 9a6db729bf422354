/*
 * plug.c - the sch_plug qdisc at the root of the output IFB, over libnl:
 * create or graft a fresh one, read its counters, and send it the plug
 * commands (buffer, release one, release indefinitely).
 */
#include <linux/pkt_sched.h>
#include <string.h>

#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/plug.h>

#include "common/err.h"
#include "netio/netio_internal.h"

static struct rtnl_qdisc *plug_alloc(int ifindex, uint32_t handle)
{
    struct rtnl_qdisc *q = rtnl_qdisc_alloc();
    if (!q)
        return NULL;
    rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
    rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
    rtnl_tc_set_handle(TC_CAST(q), handle);
    if (rtnl_tc_set_kind(TC_CAST(q), "plug") < 0) {
        rtnl_qdisc_put(q);
        return NULL;
    }
    return q;
}

int netio_plug_add(struct nl_sock *sk, int ifindex, const char *dev,
                   uint32_t handle, uint32_t limit, int replace)
{
    struct rtnl_qdisc *q = plug_alloc(ifindex, handle);
    if (!q)
        return vsmr_fail(VSMR_ENOMEM, "allocating a plug qdisc");
    int err = rtnl_qdisc_plug_set_limit(q, (int)limit);
    /* A new handle with REPLACE grafts a fresh qdisc in one step: the old
     * one and its frames go, and nothing passes unheld in between. */
    if (err >= 0)
        err = rtnl_qdisc_add(sk, q, NLM_F_CREATE |
                                    (replace ? NLM_F_REPLACE : NLM_F_EXCL));
    rtnl_qdisc_put(q);
    if (err < 0)
        return netio_nl_fail(err, dev, "sch_plug", "adding a plug qdisc");
    return 0;
}

int netio_plug_info(struct nl_sock *sk, int ifindex,
                    struct netio_plug_info *info)
{
    memset(info, 0, sizeof *info);
    struct nl_cache *cache = NULL;
    int err = rtnl_qdisc_alloc_cache(sk, &cache);
    if (err < 0)
        return netio_nl_fail(err, "output IFB", NULL, "listing qdiscs");
    struct rtnl_qdisc *q = rtnl_qdisc_get_by_parent(cache, ifindex, TC_H_ROOT);
    if (q) {
        const char *kind = rtnl_tc_get_kind(TC_CAST(q));
        if (kind && !strcmp(kind, "plug")) {
            info->present = 1;
            info->handle = rtnl_tc_get_handle(TC_CAST(q));
            info->qlen = (uint32_t)rtnl_tc_get_stat(TC_CAST(q), RTNL_TC_QLEN);
            info->backlog =
                (uint32_t)rtnl_tc_get_stat(TC_CAST(q), RTNL_TC_BACKLOG);
            info->packets = rtnl_tc_get_stat(TC_CAST(q), RTNL_TC_PACKETS);
            info->drops = rtnl_tc_get_stat(TC_CAST(q), RTNL_TC_DROPS);
        }
        rtnl_qdisc_put(q);
    }
    nl_cache_free(cache);
    return 0;
}

int netio_plug_cmd(struct nl_sock *sk, int ifindex, const char *dev,
                   uint32_t handle, int action)
{
    struct rtnl_qdisc *q = plug_alloc(ifindex, handle);
    if (!q)
        return vsmr_fail(VSMR_ENOMEM, "allocating a plug qdisc");
    int err;
    switch (action) {
    case TCQ_PLUG_BUFFER: err = rtnl_qdisc_plug_buffer(q); break;
    case TCQ_PLUG_RELEASE_ONE: err = rtnl_qdisc_plug_release_one(q); break;
    default: err = rtnl_qdisc_plug_release_indefinite(q); break;
    }
    struct nl_msg *msg = NULL;
    if (err >= 0)
        err = rtnl_qdisc_build_add_request(q, 0, &msg);
    rtnl_qdisc_put(q);
    if (err >= 0) {
        /* A change, never a create: a create here would make a plug with
         * limit 0 that drops everything. */
        nlmsg_hdr(msg)->nlmsg_flags &= ~(NLM_F_CREATE | NLM_F_EXCL);
        err = nl_send_sync(sk, msg);
    }
    if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV)
        return vsmr_fail(VSMR_ENOENT, "no plug qdisc on %s (is the output "
                         "hook set up? vsmr-netbuf setup VIF)", dev);
    if (err < 0)
        return netio_nl_fail(err, dev, NULL, "sending a plug command");
    return 0;
}
