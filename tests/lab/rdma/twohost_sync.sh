#!/bin/sh
# twohost_sync.sh - the sync protocol between the two lab hosts over rdma:
# vsmrd with a sim guest on host A (primary) and host B (backup), the
# witness on host A, verify mode on (an epoch commits only if both guests'
# memory hashes equal). A client writes through the primary; every epoch
# must commit, divergent pages must have moved, and the client loses
# nothing. Run from /lab with VSMR_IT_TOPOLOGY=/lab/topology_2host.sh.
. tests/integration/lib_cluster.sh
. tests/integration/lib_sync.sh
setup_cluster
for i in 1 2; do
  { echo "guest = sim:pages=${SIM_PAGES:-2048},workers=2"
    echo "client_listen = $(node_ip "$i"):7100"
    echo "verify = on"; } >> "$WORK/n$i.conf"
done
client() {  # the checker client on host A, against both VM replicas
  out=$1; shift
  "$VSMR_BIN/vsmr-client" --servers "$(node_ip 1):7100,$(node_ip 2):7100" \
    --seed $$ "$@" >"$out" 2>&1
}
start_all
note "backup synced over rdma; client writes through the primary"
client "$WORK/c1.out" --requests "${REQS:-400}" --window 8 --verify-at-end
expect_clean_client "$WORK/c1.out"
expect_epochs_clean 2; e=$E
div=$(grep -o 'event=epoch_committed .* divergent=[0-9]*' "$WORK/n1.log" |
  sed 's/.*divergent=//' | awk '{ s += $1 } END { print s + 0 }')
[ "$div" -gt 0 ] || fail "no divergent page moved in $e epochs"
grep -q 'event=peer_connected transport=rdma peer=2' "$WORK/n1.log" ||
  fail "node 1 never connected to node 2 over rdma"
note "epochs committed: $e, none aborted, $div divergent pages moved, memory equal after each"
grep 'event=epoch_committed' "$WORK/n1.log" | tr ' ' '\n' |
  awk -F= '$1 == "ms_paused" { p += $2; n++ } $1 == "ms_transfer" { x += $2 }
           END { if (n) printf "EMULATED two-host sync over rdma (QEMU TCG, not a speed claim): %d epochs, mean pause %.1f ms, of which transfer %.1f ms\n", n, p / n, x / n }'
for i in 1 2 3; do kill_node "$i" TERM; done
for i in 1 2 3; do
  grep -q 'event=stopped clean=yes' "$WORK/n$i.log" || fail "node $i did not stop cleanly"
done
echo "PASS: twohost_sync"
