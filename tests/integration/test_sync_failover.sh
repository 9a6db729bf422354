#!/bin/sh
# test_sync_failover.sh - kill -9 of the primary in every step of a sync
# and at a random moment: the backup, with the witness's vote, takes over
# and the client, which reconnects to it, finds every acknowledged write
# and no answer the backup contradicts.
. tests/integration/lib_cluster.sh
. tests/integration/lib_sync.sh
require_netns

one_round() {  # one_round LABEL [crash action]
  label=$1 crash=$2
  setup_sync_cluster "verify = on"
  if [ -n "$crash" ]; then
    # The 20th time the primary reaches that step, it dies.
    VSMR_CRASH_AT="$crash:20" start_node 1 --bootstrap
  else
    start_node 1 --bootstrap
  fi
  start_node 2 --bootstrap; start_node 3 --bootstrap
  wait_until 20 "node 1 leads" leader_is 1
  wait_until 30 "backup synced" guest_is 2 synced yes
  client "$WORK/c.out" --seconds 6 --window 8 --verify-at-end --timeout-ms 1500 &
  cpid=$!
  if [ -z "$crash" ]; then
    sleep "$(( $$ % 3 + 1 ))"     # a random moment: no gate needed here
    kill_node 1 9
  fi
  wait "$cpid"
  expect_clean_client "$WORK/c.out"
  [ "$(line_field 2 guest promoted)" = yes ] || fail "$label: the backup was not promoted"
  [ -z "$crash" ] || grep -q "event=crash_injected action=$crash" "$WORK/n1.log" || fail "$label: the crash at $crash did not happen"
  note "$label: backup promoted, nothing lost"
  cleanup; trap - EXIT
  PID1=0 PID2=0 PID3=0
}

for step in pause fetch-dirty hash send-pages verify release-outputs; do
  one_round "crash at $step" "$step"
done
one_round "kill -9 at a random moment"
echo "PASS: test_sync_failover"
