# lib_cluster.sh - helpers for the consensus-log integration tests: three
# vsmrd processes, each in its own network namespace, joined pairwise by
# veth links (a full mesh, so one link can be cut while both ends still
# reach the third node). Node i listens on 10.77.0.10i:7001, an address on
# its own lo, routed over the links. Sourced by test_log_*.sh.

VSMR_BIN=${VSMR_BIN:-$(pwd)/build/bin}
NS=vsmr-t-$$
WORK=
PID1=0 PID2=0 PID3=0

fail() { echo "FAIL: $*"; dump_logs; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
note() { echo "-- $*"; }

require_netns() {
  [ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"
  command -v ip >/dev/null 2>&1 || skip "iproute2 (ip) is not installed"
  ip netns add "$NS-probe" 2>/dev/null || skip "ip netns add is not permitted here"
  ip netns del "$NS-probe"
  [ -x "$VSMR_BIN/vsmrd" ] || fail "no $VSMR_BIN/vsmrd (run make first)"
}

dump_logs() {
  [ -n "$WORK" ] || return 0
  for i in 1 2 3; do
    [ -f "$WORK/n$i.log" ] && { echo "--- node $i log (tail)"; tail -n 25 "$WORK/n$i.log"; }
  done
}

pid_of() { eval "echo \$PID$1"; }
set_pid() { eval "PID$1=$2"; }

cleanup() {
  for i in 1 2 3; do
    p=$(pid_of "$i"); [ "${p:-0}" -gt 1 ] && kill -9 "$p" 2>/dev/null
  done
  for i in 1 2 3; do
    for p in $(ip netns pids "$NS-$i" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    ip netns del "$NS-$i" 2>/dev/null
  done
  [ -n "$WORK" ] && rm -rf "$WORK"
}

link_nodes() {  # link_nodes A B
  a=$1 b=$2
  ip link add "l$a$b" netns "$NS-$a" type veth peer name "l$b$a" netns "$NS-$b" || fail "veth $a-$b"
  ip -n "$NS-$a" link set "l$a$b" up
  ip -n "$NS-$b" link set "l$b$a" up
  ip -n "$NS-$a" route add "10.77.0.10$b/32" dev "l$a$b" src "10.77.0.10$a"
  ip -n "$NS-$b" route add "10.77.0.10$a/32" dev "l$b$a" src "10.77.0.10$b"
}

link_set() {  # link_set A B up|down
  ip -n "$NS-$1" link set "l$1$2" "$3"
  ip -n "$NS-$2" link set "l$2$1" "$3"
  if [ "$3" = up ]; then   # routes on a downed device are flushed
    ip -n "$NS-$1" route replace "10.77.0.10$2/32" dev "l$1$2" src "10.77.0.10$1"
    ip -n "$NS-$2" route replace "10.77.0.10$1/32" dev "l$2$1" src "10.77.0.10$2"
  fi
}

# Node N's address; a topology (VSMR_IT_TOPOLOGY) may place nodes elsewhere
# and slow the timing down (VSMR_IT_ELECTION_TICKS, _HEARTBEAT_TICKS,
# _IDLE_MS) for links with a long round trip.
node_ip() { echo "10.77.0.10$1"; }

write_config() {  # write_config NODE KEYFILE
  cat > "$WORK/n$1.conf" <<EOC
# node $1 of the integration cluster
id = $1
peer.1 = $(node_ip 1):7001 primary
peer.2 = $(node_ip 2):7001 backup
peer.3 = $(node_ip 3):7001 witness
key_file = $2
control = $WORK/n$1.sock
data_dir = $WORK/d$1
tick_ms = 10
election_ticks = ${VSMR_IT_ELECTION_TICKS:-30}
heartbeat_ticks = ${VSMR_IT_HEARTBEAT_TICKS:-3}
idle_timeout_ms = ${VSMR_IT_IDLE_MS:-1500}
EOC
}

setup_cluster() {
  WORK=$(mktemp -d /tmp/vsmr-it.XXXXXX)
  trap cleanup EXIT
  trap 'exit 1' INT TERM
  for i in 1 2 3; do
    ip netns add "$NS-$i" || fail "ip netns add $NS-$i"
    ip -n "$NS-$i" link set lo up
    ip -n "$NS-$i" addr add "10.77.0.10$i/32" dev lo
  done
  link_nodes 1 2; link_nodes 1 3; link_nodes 2 3
  head -c 32 /dev/urandom > "$WORK/key"; chmod 600 "$WORK/key"
  for i in 1 2 3; do write_config "$i" "$WORK/key"; done
}

start_node() {  # start_node NODE [vsmrd args...]
  n=$1; shift
  ip netns exec "$NS-$n" "$VSMR_BIN/vsmrd" --config "$WORK/n$n.conf" "$@" \
    2>>"$WORK/n$n.log" &
  set_pid "$n" $!
}

kill_node() {  # kill_node NODE SIGNAL
  p=$(pid_of "$1")
  [ "${p:-0}" -gt 1 ] || fail "node $1 is not running"
  kill "-$2" "$p" 2>/dev/null
  wait "$p" 2>/dev/null
  set_pid "$1" 0
}

ctl() { n=$1; shift; "$VSMR_BIN/vsmrctl" -s "$WORK/n$n.sock" -t 15 "$@"; }

# Value of KEY in node N's status first line (empty if unreachable).
field() { ctl "$1" status 2>/dev/null | head -n 1 | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# wait_until SECONDS DESCRIPTION COMMAND... : polls every 0.1 s.
wait_until() {
  t=$1 what=$2; shift 2
  end=$(( $(date +%s) + t ))
  while ! "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -ge "$end" ] && fail "timed out after ${t}s waiting for: $what"
    sleep 0.1
  done
}

# A node (not the witness) that is leader, printed; false if none.
serving_leader() {
  for i in "$@"; do
    [ "$(field "$i" role)" = leader ] && [ "$(field "$i" kind)" != witness ] &&
      { echo "$i"; return 0; }
  done
  return 1
}
has_serving_leader() { serving_leader "$@" >/dev/null; }

# True when every listed node has applied index >= $1.
all_applied() {
  want=$1; shift
  for i in "$@"; do
    a=$(field "$i" applied); [ -n "$a" ] && [ "$a" -ge "$want" ] || return 1
  done
}

# Compares the committed log 1..COUNT of the listed nodes.
same_logs() {  # same_logs COUNT NODE...
  count=$1; shift
  first=$1
  ctl "$first" log 1 "$count" > "$WORK/log.$first" || fail "log on node $first"
  lines=$(grep -c '^index=' "$WORK/log.$first")
  [ "$lines" = "$count" ] || fail "node $first returned $lines of $count entries"
  for i in "$@"; do
    ctl "$i" log 1 "$count" > "$WORK/log.$i" || fail "log on node $i"
    cmp -s "$WORK/log.$first" "$WORK/log.$i" ||
      { diff "$WORK/log.$first" "$WORK/log.$i" | head; fail "logs of nodes $first and $i differ"; }
  done
}

# A lab may run these tests on another topology (the RDMA lab: one bridge,
# soft-RoCE on each node's link): VSMR_IT_TOPOLOGY names a file that
# redefines setup_cluster, link_set and cleanup.
if [ -n "${VSMR_IT_TOPOLOGY:-}" ]; then . "$VSMR_IT_TOPOLOGY"; fi
