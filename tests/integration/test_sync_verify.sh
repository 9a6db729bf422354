#!/bin/sh
# test_sync_verify.sh - VSMR on three hosts with verify mode: every sync
# leaves the two guests' memory identical (a difference aborts the epoch
# loudly, so aborted must stay 0), with the default configuration's
# compressed frames; the client loses nothing; a witness
# failure leaves the primary serving and syncing; a backup failure leaves
# it serving unprotected; the backup, restarted from scratch, is brought
# back in sync with a full copy while the primary runs (re-protection).
. tests/integration/lib_cluster.sh
. tests/integration/lib_sync.sh
require_netns
setup_sync_cluster "verify = on"
start_all

note "normal operation, verify on"
client "$WORK/c1.out" --requests 3000 --window 8 --verify-at-end
expect_clean_client "$WORK/c1.out"
expect_epochs_clean 5; e1=$E
note "epochs committed: $e1, none aborted, memory equal after each"
# sync_compress is zstd by default: the primary's pages went compressed.
[ "$(sync_field 1 bytes_sent)" -lt "$(sync_field 1 bytes_raw)" ] || fail "default config: bytes_sent $(sync_field 1 bytes_sent) is not below bytes_raw $(sync_field 1 bytes_raw)"

note "witness killed: the primary keeps serving and syncing"
kill_node 3 9
client "$WORK/c2.out" --requests 800 --window 4 --verify-at-end
expect_clean_client "$WORK/c2.out"
e2=$(sync_field 1 committed_epoch)
[ "$e2" -gt "$e1" ] || fail "no epoch committed without the witness"
start_node 3
wait_until 20 "witness back" sh -c "[ \"\$($VSMR_BIN/vsmrctl -s $WORK/n3.sock status 2>/dev/null | head -n 1 | tr ' ' '\n' | sed -n 's/^leader=//p')\" = 1 ]"

note "backup killed: the primary serves unprotected"
kill_node 2 9
wait_until 20 "primary unprotected" guest_is 1 protected no
client "$WORK/c3.out" --requests 800 --window 4 --verify-at-end
expect_clean_client "$WORK/c3.out"

note "backup restarted from scratch: re-protection with a full copy"
rm -rf "$WORK/d2"
start_node 2
wait_until 60 "the new backup holds the primary's state" guest_is 2 synced yes
wait_until 20 "primary protected again" guest_is 1 protected yes
a2=$(sync_field 2 aborted)
client "$WORK/c4.out" --requests 1500 --window 8 --verify-at-end
expect_clean_client "$WORK/c4.out"
[ "$(sync_field 2 aborted)" = "$a2" ] || fail "epochs aborted after re-protection: $(sync_field 2 last_reason)"
grep -q 'event=backup_synced' "$WORK/n2.log" || fail "no backup_synced event"
note "re-protected; epochs committed since: $(( $(sync_field 1 committed_epoch) - e2 ))"
echo "PASS: test_sync_verify"
