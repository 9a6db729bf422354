#!/bin/sh
# twohost_auto.sh - `transport = auto` on the two lab hosts: the witness
# (node 3, host A) listens on 10.0.9.3, a veth without an RDMA device.
# Expected, and asserted from the log lines and vsmrctl status: nodes 1
# and 2 (rxe0 on each host) agree on rdma; both pairs with the witness
# agree on tcp; each choice is logged once per peer on each end; the
# cluster commits. Run from /lab with VSMR_IT_TOPOLOGY=/lab/topology_2host.sh.
VSMR_IT_TRANSPORT=auto VSMR_IT_WITNESS_IP=10.0.9.3
export VSMR_IT_TRANSPORT VSMR_IT_WITNESS_IP
. tests/integration/lib_cluster.sh
setup_cluster
for i in 1 2 3; do echo "auto_rdma_window_ms = 2000" >> "$WORK/n$i.conf"; done
for i in 1 2 3; do start_node "$i" --bootstrap; done
wait_until 30 "a leader that runs a VM" has_serving_leader 1 2
# selected N PEER TRANSPORT: node N logged that choice for PEER
selected() {
  [ "$1" = 2 ] && pull_log
  grep -q "event=transport_selected peer=$2 transport=$3 " "$WORK/n$1.log"
}
for want in "1 2 rdma" "2 1 rdma" "1 3 tcp" "3 1 tcp" "2 3 tcp" "3 2 tcp"; do
  set -- $want
  wait_until 30 "node $1 selects $3 for node $2" selected "$1" "$2" "$3"
done
grep -q 'peer=3 transport=tcp reason="auto: no rdma connection within 2000 ms' "$WORK/n1.log" ||
  fail "node 1 did not use auto_rdma_window_ms = 2000"
grep -q 'event=auto_rdma_unavailable' "$WORK/n3.log" ||
  fail "the witness did not say that it has no rdma on 10.0.9.3"
# status shows the transport per peer, and it matches the log
for want in "1 2 rdma" "1 3 tcp" "2 1 rdma" "3 1 tcp"; do
  set -- $want
  ctl "$1" status | grep -q "^peer=$2 .*connected=yes transport=$3 " ||
    { ctl "$1" status; fail "node $1's status does not show peer $2 on $3"; }
done
L=$(serving_leader 1 2)
out=$(ctl "$L" propose-batch 50 64 a1) || fail "propose: $out"
last=$(echo "$out" | sed -n 's/^ok index=\([0-9]*\).*/\1/p')
wait_until 20 "all replicas apply $last" all_applied "$last" 1 2 3
same_logs "$last" 1 2 3
for i in 1 2 3; do kill_node "$i" TERM; done
for i in 1 2 3; do   # once per peer on each end, no flapping
  for p in 1 2 3; do
    [ "$i" = "$p" ] && continue
    c=$(grep -c "event=transport_selected peer=$p " "$WORK/n$i.log")
    [ "$c" = 1 ] || fail "node $i logged $c transport choices for node $p"
  done
  grep "event=transport_selected" "$WORK/n$i.log" | sed "s/^/   node $i: /"
done
# seconds from node 1's start to each choice (its own clock)
grep -E 'event=(started|transport_selected peer)' "$WORK/n1.log" |
  sed -n 's/^ts=[^T]*T\([0-9]*\):\([0-9]*\):\([0-9.]*\)Z.*event=\([a-z_]*\)\( peer=[0-9]* transport=[a-z]*\)\{0,1\}.*/\1 \2 \3\5/p' |
  awk '{ t = $1 * 3600 + $2 * 60 + $3 } NR == 1 { t0 = t; next }
       { printf "EMULATED auto on node 1 (QEMU TCG, not a speed claim): %s %s after start: %.2f s\n", $4, $5, t - t0 }'
echo "PASS: twohost_auto"
