#!/bin/sh
# test_netio_takeover.sh - a promoted backup's guest becomes reachable
# (docs/netio.md, "Failover"): in "dom0", bridge br0 has an uplink port to
# "the network" (the client namespace) and the guest's vif sits on the
# isolated bridge brx, as xl vsmr leaves a backup copy. br0 has learnt the
# guest's MAC on the uplink (the primary served it from elsewhere). After
# `vsmr-netbuf takeover vif1.0 br0 MAC`:
#   - vif1.0 is a port of br0;
#   - br0 has no entry for the MAC on the uplink (with it, br0 drops a
#     frame for the guest that arrives there: shown first, as the control);
#   - the network received RARP announcements from the MAC;
#   - a frame from the network to the MAC reaches the guest.
# Then: idempotence, and the errors (no such bridge, not a bridge, no such
# vif, bad names and MACs, a bridge that is down, a port owning the MAC).
. tests/integration/lib_netio.sh
require_root_netns
require_kernel veth bridge

MAC=02:56:53:00:00:02      # the guest's
NETMAC=02:56:53:00:00:01   # the network side's own
in_n() { in_c "$@"; }      # the client namespace plays the network

no_ipv6() {  # quiet namespaces: no router solicitations or DAD frames
  ip netns exec "$1" sh -c 'for f in all default; do
    echo 1 > /proc/sys/net/ipv6/conf/$f/disable_ipv6; done' 2>/dev/null
}

make_bridges() {
  make_namespaces
  for n in "$D" "$G" "$C"; do no_ipv6 "$n"; done
  ip -n "$D" link add br0 type bridge || fail "bridge br0"
  ip -n "$D" link add brx type bridge || fail "bridge brx"
  ip -n "$D" link add up0 type veth peer name eth0 netns "$C" || fail "veth uplink"
  ip -n "$D" link add vif1.0 type veth peer name eth0 netns "$G" || fail "veth vif"
  ip -n "$D" link set up0 master br0
  ip -n "$D" link set vif1.0 master brx
  ip -n "$G" link set eth0 address "$MAC"
  ip -n "$C" link set eth0 address "$NETMAC"
  ip -n "$G" addr add 10.90.0.2/24 dev eth0
  ip -n "$C" addr add 10.90.0.1/24 dev eth0
  for l in "$D br0" "$D brx" "$D up0" "$D vif1.0" "$G eth0" "$C eth0"; do
    set -- $l; ip -n "$1" link set "$2" up
  done
  sleep 0.3
}

# fdb_has DEV: br0 has an entry for the guest's MAC on DEV.
fdb_has() { bridge -n "$D" fdb show br br0 | grep -i "^$MAC dev $1 " >/dev/null; }
master_of() { ip -n "$D" -o link show "$1" | sed -n 's/.* master \([^ ]*\) .*/\1/p'; }

# udp_reaches_guest TEXT: a datagram from the network arrives at the guest.
udp_reaches_guest() {
  bg probe "$G" udp-recv 7300 1500 1 > "$WORK/recv-$1.out"
  wait_for "$WORK/recv-$1.out" ready || fail "guest receiver did not start"
  probe "$C" udp-send 10.90.0.2 7300 "$1" || fail "udp-send"
  wait_for "$WORK/recv-$1.out" "^$1\$" 2
}

make_bridges

# --- the network learns the guest's MAC on the uplink ---
ip -n "$C" link set eth0 address "$MAC"
in_n busybox arping -c 1 -w 1 -I eth0 10.90.0.77 >/dev/null 2>&1
ip -n "$C" link set eth0 address "$NETMAC"
# The network reaches the guest's address at its MAC without asking (an
# ARP exchange would teach br0 where the guest is: the control needs not).
ip -n "$C" neigh replace 10.90.0.2 lladdr "$MAC" dev eth0 nud permanent
fdb_has up0 || fail "br0 did not learn $MAC on the uplink: $(bridge -n "$D" fdb show br br0)"
ok "br0 learnt $MAC on the uplink up0"

# --- the control: joining alone leaves the guest unreachable ---
ip -n "$D" link set vif1.0 master br0
udp_reaches_guest joined-only && fail "a frame for $MAC reached the guest with br0's entry on the uplink (the control is void)"
ok "vif1.0 on br0 but the entry on up0 left: the frame for the guest is dropped"
ip -n "$D" link set vif1.0 master brx

# --- the takeover ---
bg probe "$C" sniff eth0 0x8035 5000 3 > "$WORK/rarp.out"
wait_for "$WORK/rarp.out" ready || fail "sniffer did not start"
netbuf takeover vif1.0 br0 "$MAC" > "$WORK/takeover.out" 2>&1 || fail "takeover: $(cat "$WORK/takeover.out")"
ok "$(cat "$WORK/takeover.out")"
[ "$(master_of vif1.0)" = br0 ] || fail "vif1.0's master is '$(master_of vif1.0)', not br0"
ok "vif1.0 is a port of br0"
fdb_has up0 && fail "br0 still has $MAC on up0: $(bridge -n "$D" fdb show br br0)"
ok "no entry for $MAC on the uplink"
wait_for "$WORK/rarp.out" "op=" 5 || fail "no RARP frame reached the network"
sleep 0.2
n=$(grep -c "^frame dst=ff:ff:ff:ff:ff:ff src=$MAC type=0x8035 len=60 op=3 sha=$MAC tha=$MAC\$" "$WORK/rarp.out")
[ "$n" = 3 ] || fail "wanted 3 RARP announcements of $MAC, got: $(cat "$WORK/rarp.out")"
ok "the network received 3 RARP announcements (src $MAC, broadcast, reverse request)"
udp_reaches_guest after-takeover || fail "a frame from the network to $MAC did not reach the guest"
ok "a frame from the network to $MAC reaches the guest"

# --- idempotent ---
netbuf takeover vif1.0 br0 "$MAC" > "$WORK/again.out" 2>&1 || fail "second takeover: $(cat "$WORK/again.out")"
[ "$(master_of vif1.0)" = br0 ] && ! fdb_has up0 || fail "second takeover changed the result"
ok "a second takeover succeeds and changes nothing"

# --- errors ---
expect_err "step 1 (vif1.0 joins nosuchbr0): there is no bridge nosuchbr0" netbuf takeover vif1.0 nosuchbr0 "$MAC"
expect_err "up0 is not a bridge (it is a veth device)" netbuf takeover vif1.0 up0 "$MAC"
expect_err "there is no network device vif9.9" netbuf takeover vif9.9 br0 "$MAC"
expect_err "not a network interface name" netbuf takeover "bad/name" br0 "$MAC"
expect_err "not a network interface name" netbuf takeover vif1.0 "much-too-long-bridge" "$MAC"
expect_err "cannot be a port of itself" netbuf takeover br0 br0 "$MAC"
expect_err "is not a MAC address" netbuf takeover vif1.0 br0 02:56:53:00:00
expect_err "is not a MAC address" netbuf takeover vif1.0 br0 02:56:53:00:00:0g
expect_err "unicast" netbuf takeover vif1.0 br0 01:00:5e:00:00:01
expect_err "unicast" netbuf takeover vif1.0 br0 00:00:00:00:00:00
expect_err "takeover VIF BRIDGE MAC" netbuf takeover vif1.0 br0
ip -n "$D" link set br0 down
expect_err "step 3 (announcing $MAC on br0): br0 is down" netbuf takeover vif1.0 br0 "$MAC"
ip -n "$D" link set br0 up
ip -n "$D" link add cf0 type veth peer name cf1
ip -n "$D" link set cf0 address "$MAC"
ip -n "$D" link set cf0 master br0
ip -n "$D" link set cf0 up
expect_err "step 2 (br0 forgets $MAC on other ports): cf0 (on bridge br0) has the guest's MAC as its own address" netbuf takeover vif1.0 br0 "$MAC"
ip -n "$D" link del cf0
[ "$(master_of vif1.0)" = br0 ] || fail "a failed takeover moved vif1.0"
echo "PASS: test_netio_takeover"
