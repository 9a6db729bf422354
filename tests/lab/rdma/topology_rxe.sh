# topology_rxe.sh - sourced by tests/integration/lib_cluster.sh inside the
# RDMA lab guest (VSMR_IT_TOPOLOGY). The 6.1 kernel's soft-RoCE only
# receives in the initial network namespace (its UDP socket lives there),
# so the three nodes run in the guest's root namespace, node i on
# 10.77.0.10i bound to its own veth with its own rxe device, and every node
# runs `transport = rdma`. "Cutting the link" between A and B takes B's
# device down (B loses both links; the other two remain a majority).

# Debian's busybox sh runs its own `ip` applet first; use iproute2's. All
# nodes share the root namespace here, so the tests' `ip netns exec NS cmd`
# (e.g. the sync tests' client in the witness's namespace) runs cmd in place.
ip() {
  if [ "$1" = netns ] && [ "$2" = exec ]; then shift 3; "$@"; else /bin/ip "$@"; fi
}

cleanup() {
  for i in 1 2 3; do
    p=$(pid_of "$i"); [ "${p:-0}" -gt 1 ] && kill -9 "$p" 2>/dev/null
  done
  # proof for guest-test.sh that the replicas really talked over rdma
  [ -n "$WORK" ] && echo "RDMA-CONNECTS $(cat "$WORK"/n*.log 2>/dev/null |
    grep -c 'event=peer_connected transport=rdma')"
  [ -n "$WORK" ] && rm -rf "$WORK"
}

link_set() {  # link_set A B up|down
  ip link set "n$2a" "$3"
}

start_node() {  # start_node NODE [vsmrd args...]
  n=$1; shift
  "$VSMR_BIN/vsmrd" --config "$WORK/n$n.conf" "$@" 2>>"$WORK/n$n.log" &
  set_pid "$n" $!
}

setup_cluster() {
  WORK=$(mktemp -d /tmp/vsmr-it.XXXXXX)
  trap cleanup EXIT
  trap 'exit 1' INT TERM
  for i in 1 2 3; do
    if ! ip link show "n${i}a" >/dev/null 2>&1; then
      ip link add "n${i}a" type veth peer name "n${i}b" || fail "veth $i"
      ip addr add "10.77.0.10$i/24" dev "n${i}a"
      ip link set "n${i}b" up
      rdma link add "rxe$i" type rxe netdev "n${i}a" || fail "rdma link add rxe$i"
    fi
    ip link set "n${i}a" up
  done
  head -c 32 /dev/urandom > "$WORK/key"; chmod 600 "$WORK/key"
  for i in 1 2 3; do
    write_config "$i" "$WORK/key"
    echo "transport = ${VSMR_IT_TRANSPORT:-rdma}" >> "$WORK/n$i.conf"
  done
}
