#!/bin/sh
# test_sync_remus.sh - Remus mode, the baseline, is held to the same
# claims: verify mode finds the paused backup identical to the primary
# after every checkpoint, a backup restarted from scratch gets a full
# checkpoint, and after the primary is killed the backup resumes from
# its last checkpoint, replays the inputs it kept, and loses nothing.
. tests/integration/lib_cluster.sh
. tests/integration/lib_sync.sh
require_netns
setup_sync_cluster "verify = on" "sync_mode = remus"
start_all

client "$WORK/c1.out" --requests 1500 --window 8 --verify-at-end
expect_clean_client "$WORK/c1.out"
[ "$(sync_field 1 aborted)" = 0 ] || fail "a checkpoint aborted: $(sync_field 1 last_reason)"

note "backup restarted from scratch: the next checkpoint carries every page"
kill_node 2 9
rm -rf "$WORK/d2"
start_node 2
wait_until 60 "the new backup holds a checkpoint" guest_is 2 synced yes
wait_until 20 "primary protected again" guest_is 1 protected yes
a1=$(sync_field 1 aborted)
client "$WORK/c2.out" --requests 800 --window 8 --verify-at-end
expect_clean_client "$WORK/c2.out"
[ "$(sync_field 1 aborted)" = "$a1" ] || fail "checkpoints aborted after re-protection: $(sync_field 1 last_reason)"

note "primary killed: the backup resumes from its last checkpoint"
client "$WORK/c3.out" --seconds 5 --window 8 --verify-at-end --timeout-ms 1500 &
cpid=$!
sleep 2
kill_node 1 9
wait "$cpid"
expect_clean_client "$WORK/c3.out"
[ "$(line_field 2 guest promoted)" = yes ] || fail "the backup was not promoted"
echo "PASS: test_sync_remus"
