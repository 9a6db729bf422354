# topology_2host.sh - sourced by tests/integration/lib_cluster.sh on host A
# of the two-host RDMA lab (VSMR_IT_TOPOLOGY). Node 1 (primary) and node 3
# (witness) run on host A, node 2 (backup) on host B; host B is driven
# through lab_remote.sh's rx. Addresses: node 1 10.0.0.1 and node 2
# 10.0.0.2 (each host's NIC, soft-RoCE rxe0), node 3 10.0.0.3 (a second
# address on host A's NIC, so on rxe0 too) or VSMR_IT_WITNESS_IP (e.g.
# 10.0.9.3 on a veth without RDMA, for the auto test). Every node runs
# `transport = ${VSMR_IT_TRANSPORT:-rdma}`. The witness shares host A
# because the tests kill and wipe the witness node through local files
# (test_log_cluster.sh's rebuilt node is always the witness). Cutting a
# link adds `ip rule ... prohibit` for that address pair on both hosts.
. /lab/lab_remote.sh

# busybox sh runs its own `ip` applet first; use iproute2's. All nodes share
# each host's root namespace (rxe of the 6.1 kernel receives only there).
ip() {
  if [ "$1" = netns ] && [ "$2" = exec ]; then shift 3; "$@"; else /bin/ip "$@"; fi
}

node_ip() {
  case $1 in 1) echo 10.0.0.1 ;; 2) echo 10.0.0.2 ;;
             *) echo "${VSMR_IT_WITNESS_IP:-10.0.0.3}" ;; esac
}
remote() { [ "$1" = 2 ]; }

VSMR_IT_ELECTION_TICKS=60 VSMR_IT_HEARTBEAT_TICKS=5 VSMR_IT_IDLE_MS=3000

pull_log() { [ -n "$WORK" ] && rx "cat $WORK/n2.log" > "$WORK/n2.log" 2>/dev/null; }

dump_logs() {
  [ -n "$WORK" ] || return 0
  pull_log
  for i in 1 2 3; do
    [ -f "$WORK/n$i.log" ] && { echo "--- node $i log (tail)"; tail -n 25 "$WORK/n$i.log"; }
  done
}

cleanup() {
  for i in 1 3; do
    p=$(pid_of "$i"); [ "${p:-0}" -gt 1 ] && kill -9 "$p" 2>/dev/null
  done
  rx "[ -f $WORK/pid2 ] && kill -9 \$(cat $WORK/pid2)" >/dev/null 2>&1
  while ip rule del prohibit 2>/dev/null; do :; done
  rx "while /bin/ip rule del prohibit; do :; done" >/dev/null 2>&1
  # proof for guest-test.sh that the replicas really talked over rdma
  if [ -n "$WORK" ]; then
    pull_log
    echo "RDMA-CONNECTS $(cat "$WORK"/n*.log 2>/dev/null |
      grep -c 'event=peer_connected transport=rdma')"
    rm -rf "$WORK"; rx "rm -rf $WORK" >/dev/null
  fi
}

# Host B's processes are not our children: wait for the pid to go (or
# turn zombie) with a bound.
kill_node() {  # kill_node NODE SIGNAL
  if ! remote "$1"; then
    p=$(pid_of "$1"); [ "${p:-0}" -gt 1 ] || fail "node $1 is not running"
    kill "-$2" "$p" 2>/dev/null; wait "$p" 2>/dev/null; set_pid "$1" 0
    return
  fi
  rx "p=\$(cat $WORK/pid2); kill -$2 \$p; n=0; \
      while [ -d /proc/\$p ] && [ \"\$(cut -d' ' -f3 /proc/\$p/stat)\" != Z ] \
            && [ \$n -lt 300 ]; do sleep 0.1; n=\$((n + 1)); done; [ \$n -lt 300 ]" ||
    fail "node 2 on host B did not stop after SIG$2"
  set_pid 2 0
  pull_log
}

start_node() {  # start_node NODE [vsmrd args...]
  n=$1; shift
  if ! remote "$n"; then
    "$VSMR_BIN/vsmrd" --config "$WORK/n$n.conf" "$@" 2>>"$WORK/n$n.log" &
    set_pid "$n" $!
    return
  fi
  push "$WORK/n2.conf" && push "$WORK/key" || fail "copying node 2's files to host B"
  rx "chmod 600 $WORK/key; $VSMR_BIN/vsmrd --config $WORK/n2.conf $* \
      </dev/null >/dev/null 2>>$WORK/n2.log & echo \$! > $WORK/pid2" ||
    fail "starting node 2 on host B"
  set_pid 2 2   # a placeholder: the real pid is in host B's $WORK/pid2
}

ctl() {
  n=$1; shift
  if remote "$n"; then rx "$VSMR_BIN/vsmrctl -s $WORK/n2.sock -t 15 $*"
  else "$VSMR_BIN/vsmrctl" -s "$WORK/n$n.sock" -t 15 "$@"; fi
}

link_set() {  # link_set A B up|down: only the pair's traffic stops
  op=add; [ "$3" = up ] && op=del
  for pair in "$1 $2" "$2 $1"; do
    set -- $pair
    r="/bin/ip rule $op from $(node_ip "$1") to $(node_ip "$2") prohibit"
    if remote "$1"; then rx "$r" >/dev/null; else $r; fi
  done
}

setup_cluster() {
  WORK=$(mktemp -d /tmp/vsmr-it.XXXXXX)
  trap cleanup EXIT
  trap 'exit 1' INT TERM
  rx "mkdir -p $WORK" >/dev/null || fail "host B does not answer"
  head -c 32 /dev/urandom > "$WORK/key"; chmod 600 "$WORK/key"
  for i in 1 2 3; do
    write_config "$i" "$WORK/key"
    echo "transport = ${VSMR_IT_TRANSPORT:-rdma}" >> "$WORK/n$i.conf"
  done
}
