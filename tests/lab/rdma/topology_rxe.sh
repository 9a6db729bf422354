# topology_rxe.sh - sourced by tests/integration/lib_cluster.sh inside the
# RDMA lab guest (VSMR_IT_TOPOLOGY): the three nodes share one bridge, each
# node's link carries a soft-RoCE device (rxe does not work on lo), every
# node runs `transport = rdma`, and "cutting a link" is a blackhole route
# on both ends (rxe routes each packet, so RDMA traffic stops too).

# Debian's busybox sh runs its own `ip` applet first; use iproute2's.
ip() { /bin/ip "$@"; }

cleanup() {
  for i in 1 2 3; do
    p=$(pid_of "$i"); [ "${p:-0}" -gt 1 ] && kill -9 "$p" 2>/dev/null
  done
  for i in 1 2 3; do
    ip netns exec "$NS-$i" rdma link delete "rxe$i" 2>/dev/null
    ip netns del "$NS-$i" 2>/dev/null
  done
  ip link del br-vsmr 2>/dev/null
  [ -n "$WORK" ] && rm -rf "$WORK"
}

link_set() {  # link_set A B up|down
  if [ "$3" = down ]; then
    ip -n "$NS-$1" route add blackhole "10.77.0.10$2/32"
    ip -n "$NS-$2" route add blackhole "10.77.0.10$1/32"
  else
    ip -n "$NS-$1" route del blackhole "10.77.0.10$2/32"
    ip -n "$NS-$2" route del blackhole "10.77.0.10$1/32"
  fi
}

setup_cluster() {
  WORK=$(mktemp -d /tmp/vsmr-it.XXXXXX)
  trap cleanup EXIT
  trap 'exit 1' INT TERM
  ip link add br-vsmr type bridge || fail "bridge"
  ip link set br-vsmr up
  for i in 1 2 3; do
    ip netns add "$NS-$i" || fail "ip netns add $NS-$i"
    ip -n "$NS-$i" link set lo up
    ip link add "h$i" type veth peer name "e$i" netns "$NS-$i" || fail "veth $i"
    ip link set "h$i" master br-vsmr up
    ip -n "$NS-$i" addr add "10.77.0.10$i/24" dev "e$i"
    ip -n "$NS-$i" link set "e$i" up
    ip netns exec "$NS-$i" rdma link add "rxe$i" type rxe netdev "e$i" ||
      fail "rdma link add rxe$i in $NS-$i"
  done
  head -c 32 /dev/urandom > "$WORK/key"; chmod 600 "$WORK/key"
  for i in 1 2 3; do
    write_config "$i" "$WORK/key"
    echo "transport = ${VSMR_IT_TRANSPORT:-rdma}" >> "$WORK/n$i.conf"
  done
}
