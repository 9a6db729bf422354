# lib_netio.sh - helpers for the netio tests: three network namespaces,
# "dom0", "guest" and "client". dom0's vif1.0 is a veth whose far end is the
# guest's eth0 (netback's place); dom0 routes between the guest (10.88.0.0/24,
# fd88::/64) and the client (10.88.1.0/24, fd88:1::/64). Sourced by
# test_netio_*.sh; touches nothing outside the namespaces it creates.

VSMR_BIN=${VSMR_BIN:-$(pwd)/build/bin}
NS=vsmr-n$$
D=$NS-dom0 G=$NS-guest C=$NS-client
WORK=
BGPIDS=

fail() { echo "FAIL: $*"; [ -n "$WORK" ] && for f in "$WORK"/*.out; do [ -f "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }; done; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
note() { echo "-- $*"; }
ok() { echo "ok: $*"; }

in_d() { ip netns exec "$D" "$@"; }
in_g() { ip netns exec "$G" "$@"; }
in_c() { ip netns exec "$C" "$@"; }
netbuf() { in_d "$VSMR_BIN/vsmr-netbuf" "$@"; }
probe() { ns=$1; shift; ip netns exec "$ns" "$VSMR_BIN/vsmr-netprobe" "$@"; }

require_root_netns() {
  [ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"
  command -v ip >/dev/null 2>&1 || skip "iproute2 (ip) is not installed"
  command -v tc >/dev/null 2>&1 || skip "iproute2 (tc) is not installed"
  ip netns add "$NS-probe" 2>/dev/null || skip "ip netns add is not permitted here"
  ip netns del "$NS-probe"
  [ -x "$VSMR_BIN/vsmr-netbuf" ] || fail "no $VSMR_BIN/vsmr-netbuf (run make first)"
  [ -x "$VSMR_BIN/vsmr-netprobe" ] || fail "no $VSMR_BIN/vsmr-netprobe (run make first)"
}

# kernel_has PIECE: loads the module if it can (modprobe; no-op where
# modules are built in or absent), then proves the piece works in a
# throwaway namespace. Pieces: veth bridge ifb clsact u32-mirred bpf plug.
kernel_has() {
  p=$NS-k
  ip netns add "$p" 2>/dev/null || return 1
  ip -n "$p" link add kx0 type veth peer name kx1 2>/dev/null
  ip -n "$p" link set kx0 up 2>/dev/null
  case $1 in
    veth) r=0; ip -n "$p" link show kx0 >/dev/null 2>&1 || r=1;;
    bridge) modprobe -q bridge 2>/dev/null; ip -n "$p" link add kb type bridge 2>/dev/null &&
      ip -n "$p" link set kx0 master kb 2>/dev/null; r=$?;;
    ifb) modprobe -q ifb 2>/dev/null; ip -n "$p" link add kf type ifb 2>/dev/null; r=$?;;
    clsact) modprobe -q sch_ingress 2>/dev/null; tc -n "$p" qdisc add dev kx0 clsact 2>/dev/null; r=$?;;
    u32-mirred) modprobe -q cls_u32 2>/dev/null; modprobe -q act_mirred 2>/dev/null
      tc -n "$p" qdisc add dev kx0 clsact 2>/dev/null
      tc -n "$p" filter add dev kx0 egress protocol all u32 match u32 0 0 \
         action mirred ingress redirect dev kx1 2>/dev/null; r=$?;;
    bpf) modprobe -q cls_bpf 2>/dev/null
      tc -n "$p" qdisc add dev kx0 clsact 2>/dev/null
      tc -n "$p" filter add dev kx0 ingress protocol all bpf bytecode '1,6 0 0 2,' da 2>/dev/null; r=$?;;
    plug) modprobe -q sch_plug 2>/dev/null; tc -n "$p" qdisc add dev kx0 root plug limit 10000 2>/dev/null; r=$?;;
    *) r=1;;
  esac
  ip netns del "$p" 2>/dev/null
  return $r
}

# require_kernel PIECE... : skip (77) naming the first missing one.
require_kernel() {
  for k in "$@"; do
    case $k in
      veth) m="veth (CONFIG_VETH)";; ifb) m="ifb (CONFIG_IFB)";;
      bridge) m="bridge (CONFIG_BRIDGE)";;
      clsact) m="sch_ingress (CONFIG_NET_SCH_INGRESS, clsact)";;
      u32-mirred) m="cls_u32 + act_mirred (CONFIG_NET_CLS_U32, CONFIG_NET_ACT_MIRRED)";;
      bpf) m="cls_bpf (CONFIG_NET_CLS_BPF)";; plug) m="sch_plug (CONFIG_NET_SCH_PLUG)";;
    esac
    kernel_has "$k" || skip "kernel $(uname -r) lacks $m and it cannot be loaded here"
  done
}

cleanup() {
  for p in $BGPIDS; do kill "$p" 2>/dev/null; done
  # A helper started through a shell function is a grandchild: whatever
  # still runs inside our namespaces goes too, or it would hold the
  # test's output open.
  for n in "$D" "$G" "$C"; do
    for p in $(ip netns pids "$n" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
  done
  wait 2>/dev/null
  for n in "$D" "$G" "$C"; do ip netns del "$n" 2>/dev/null; done
  [ -n "$WORK" ] && rm -rf "$WORK"
}

bg() { "$@" & BGPIDS="$BGPIDS $!"; }

# make_namespaces: the three namespaces (lo up) and $WORK, both removed at
# exit.
make_namespaces() {
  WORK=$(mktemp -d /tmp/vsmr-netio.XXXXXX)
  trap cleanup EXIT INT TERM
  for n in "$D" "$G" "$C"; do
    ip netns add "$n" || fail "netns $n"
    ip -n "$n" link set lo up
  done
}

make_topology() {
  make_namespaces
  for n in "$D" "$G" "$C"; do
    ip netns exec "$n" sh -c 'echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad' 2>/dev/null
  done
  ip -n "$D" link add vif1.0 type veth peer name eth0 netns "$G" || fail "veth vif"
  ip -n "$D" link add cl0 type veth peer name eth0 netns "$C" || fail "veth client"
  in_d sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward; echo 1 > /proc/sys/net/ipv6/conf/all/forwarding'
  ip -n "$D" addr add 10.88.0.1/24 dev vif1.0
  ip -n "$D" addr add fd88::1/64 dev vif1.0 nodad
  ip -n "$D" addr add 10.88.1.1/24 dev cl0
  ip -n "$D" addr add fd88:1::1/64 dev cl0 nodad
  ip -n "$G" addr add 10.88.0.2/24 dev eth0
  ip -n "$G" addr add fd88::2/64 dev eth0 nodad
  ip -n "$C" addr add 10.88.1.2/24 dev eth0
  ip -n "$C" addr add fd88:1::2/64 dev eth0 nodad
  for l in "$D vif1.0" "$D cl0" "$G eth0" "$C eth0"; do
    set -- $l; ip -n "$1" link set "$2" up
  done
  ip -n "$G" route add default via 10.88.0.1
  ip -n "$G" -6 route add default via fd88::1
  ip -n "$C" route add default via 10.88.1.1
  ip -n "$C" -6 route add default via fd88:1::1
  sleep 0.3
}

# rx_packets NS DEV
rx_packets() { ip netns exec "$1" cat "/sys/class/net/$2/statistics/rx_packets"; }

# wait_for FILE TEXT [SECONDS]: until a line of FILE contains TEXT.
wait_for() {
  t=0; lim=$(( ${3:-5} * 10 ))
  while [ $t -lt "$lim" ]; do
    grep -q -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.1; t=$((t + 1))
  done
  return 1
}

# expect_err TEXT CMD...: non-zero exit, and the output has TEXT.
expect_err() {
  text=$1; shift
  "$@" > "$WORK/err.out" 2>&1 && fail "'$*' succeeded"
  grep -q -- "$text" "$WORK/err.out" || fail "'$*' said: $(cat "$WORK/err.out") (wanted: $text)"
  ok "$* -> $(head -n 1 "$WORK/err.out")"
}

# status_val KEY: one value of `vsmr-netbuf status vif1.0`.
status_val() { netbuf status vif1.0 2>/dev/null | sed -n "s/^$1=//p"; }

# no_leftovers: nothing of netio's remains in dom0.
no_leftovers() {
  ip -n "$D" -o link show | grep -q -E 'vs[io]-' && { echo "leftover device:"; ip -n "$D" -o link show; return 1; }
  tc -n "$D" qdisc show dev vif1.0 2>/dev/null | grep -q -E 'clsact|ingress' && { echo "leftover qdisc on vif1.0"; return 1; }
  [ -z "$(tc -n "$D" filter show dev vif1.0 ingress 2>/dev/null)" ] || { echo "leftover ingress filter"; return 1; }
  [ -z "$(tc -n "$D" filter show dev vif1.0 egress 2>/dev/null)" ] || { echo "leftover egress filter"; return 1; }
  return 0
}
