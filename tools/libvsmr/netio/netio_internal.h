/*
 * netio_internal.h - shared pieces of the netio module: names, the libnl
 * socket and error mapping, and the tc identifiers netio owns. Internal;
 * the contract is include/vsmr/netio.h.
 */
#ifndef VSMR_NETIO_INTERNAL_H
#define VSMR_NETIO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "vsmr/netio.h"

struct nl_sock;

/* Priority of every tc filter netio adds ("VS"); teardown removes exactly
 * the filters at this priority, leaving anyone else's alone. */
#define NETIO_TC_PRIO 0x5653u
/* Handles of the plug qdisc; a drop grafts the other one in its place. */
#define NETIO_PLUG_HANDLE_A 0x56530000u
#define NETIO_PLUG_HANDLE_B 0x56540000u
#define NETIO_DEFAULT_LIMIT (16u << 20)

int netio_valid_ifname(const char *name);
/* The ifalias netio writes on its devices, to recognise them later. */
void netio_alias(char *buf, size_t len, const char *role, const char *vif);

/* A connected NETLINK_ROUTE socket, or VSMR_ESYS with a message. */
int netio_nl_open(struct nl_sock **out);
void netio_nl_close(struct nl_sock *sk);
/* ifindex of name in this namespace, 0 if absent. */
int netio_ifindex(const char *name);
/* Records "what on dev: libnl's text" (+ the module hint when the error
 * means "kernel has no such kind") and returns the VSMR code for nlerr. */
int netio_nl_fail(int nlerr, const char *dev, const char *module,
                  const char *what);

/* tc pieces (tc.c). parent: NETIO_CLSACT_INGRESS / _EGRESS. */
#define NETIO_CLSACT_INGRESS 0xFFFFFFF2u
#define NETIO_CLSACT_EGRESS  0xFFFFFFF3u
int netio_tc_clsact_add(struct nl_sock *sk, int ifindex, const char *dev);
int netio_tc_clsact_del_if_empty(struct nl_sock *sk, int ifindex);
/* Does dev have a netio filter (our priority) under parent? 1/0/<0. */
int netio_tc_filter_present(struct nl_sock *sk, int ifindex, uint32_t parent);
/* u32 match-everything + mirred redirect to to_ifindex (ingress side of
 * the target if to_ingress, else its transmit side). */
int netio_tc_redirect_add(struct nl_sock *sk, int ifindex, const char *dev,
                          uint32_t parent, int to_ifindex, int to_ingress);
/* cls_bpf direct-action "drop everything" (classic BPF "ret #2"). */
int netio_tc_drop_add(struct nl_sock *sk, int ifindex, const char *dev,
                      uint32_t parent);
int netio_tc_filter_del(struct nl_sock *sk, int ifindex, uint32_t parent);

/* links (link.c) */
/* Creates an IFB device with netio's alias, up; accepts one that exists
 * with that alias; VSMR_ESTATE if a foreign device has the name. */
int netio_link_ifb_add(struct nl_sock *sk, const char *name,
                       const char *alias);
/* 1 if name exists and carries alias, 0 if absent, VSMR_ESTATE if it
 * exists without it. */
int netio_link_owned(struct nl_sock *sk, const char *name, const char *alias);
int netio_link_del(struct nl_sock *sk, const char *name);

/* the plug qdisc (plug.c) */
int netio_plug_add(struct nl_sock *sk, int ifindex, const char *dev,
                   uint32_t handle, uint32_t limit, int replace);
/* Reads the root qdisc: handle, kind "plug" or not, and its counters. */
struct netio_plug_info {
    int present;
    uint32_t handle;
    uint32_t qlen, backlog;
    uint64_t packets, drops;
};
int netio_plug_info(struct nl_sock *sk, int ifindex,
                    struct netio_plug_info *info);
/* action: TCQ_PLUG_BUFFER, _RELEASE_ONE or _RELEASE_INDEFINITE. */
int netio_plug_cmd(struct nl_sock *sk, int ifindex, const char *dev,
                   uint32_t handle, int action);

/* the bridge takeover (bridge.c, fdb.c, announce.c) */
/* Deletes the bridge's entries for mac on every port but keep_ifindex.
 * VSMR_ESTATE if another port has mac as its own (local) address. */
int netio_fdb_forget(struct nl_sock *sk, int br_ifindex, const char *bridge,
                     int keep_ifindex, const uint8_t mac[6]);
/* A RARP announcement of mac: 42 bytes, zero-padded to the Ethernet
 * minimum. */
#define NETIO_RARP_LEN 60u
void netio_rarp_frame(const uint8_t mac[6], uint8_t frame[NETIO_RARP_LEN]);
/* Sends count announcements of mac out of dev (an AF_PACKET socket bound
 * to it), a few milliseconds apart. */
int netio_announce(int ifindex, const char *dev, const uint8_t mac[6],
                   unsigned count);

#endif
