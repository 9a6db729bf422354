#!/bin/sh
# test_sync_partition.sh - a primary cut off from both other hosts stops
# acknowledging (no output leaves without a majority), the backup takes
# over with the witness, and once the link heals the old primary knows
# its guest is stale and does not serve.
. tests/integration/lib_cluster.sh
. tests/integration/lib_sync.sh
require_netns
setup_sync_cluster
start_all
client "$WORK/c1.out" --requests 1000 --window 4 --verify-at-end
expect_clean_client "$WORK/c1.out"

note "partition: node 1 loses both links"
link_set 1 2 down; link_set 1 3 down
ip netns exec "$NS-1" "$VSMR_BIN/vsmr-client" --servers 10.77.0.101:7100 \
  --seconds 3 --window 4 --timeout-ms 500 --max-seconds 10 > "$WORK/iso.out" 2>&1
acked=$(summary_field "$WORK/iso.out" acknowledged)
note "isolated primary acknowledged: ${acked:-none}"
[ "${acked:-0}" = 0 ] || fail "an isolated primary acknowledged $acked requests"

wait_until 30 "the backup took over" guest_is 2 promoted yes
client "$WORK/c2.out" --requests 800 --window 4 --verify-at-end --timeout-ms 1500
expect_clean_client "$WORK/c2.out"

note "heal: the old primary follows and does not serve"
link_set 1 2 up; link_set 1 3 up
wait_until 30 "old primary sees the new leader" sh -c "ctl_leader() { $VSMR_BIN/vsmrctl -s $WORK/n1.sock status 2>/dev/null | head -n 1 | tr ' ' '\n' | sed -n 's/^leader=//p'; }; [ \"\$(ctl_leader)\" = 2 ]"
[ "$(line_field 1 guest synced)" = no ] || fail "the old primary still claims the protected state"
client "$WORK/c3.out" --requests 500 --window 4 --verify-at-end --timeout-ms 1500
expect_clean_client "$WORK/c3.out"
echo "PASS: test_sync_partition"
