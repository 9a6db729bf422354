#!/bin/sh
# test_sync_reprotect.sh - a new protection beside a witness kept from an
# earlier one, as `xl vsmr` does after a stop: the primary and the backup
# start with empty logs and a new protection_id, the witness still holds
# the earlier protection's log and hands it to them (the inputs the
# primary served unprotected after its backup died were never compacted). Both must skip those
# entries (no earlier input reaches the new guest, no earlier SYNC starts
# an epoch), and the new protection must then protect as usual.
. tests/integration/lib_cluster.sh
. tests/integration/lib_sync.sh
require_netns
setup_sync_cluster "protection_id = 111"
start_all
client "$WORK/c1.out" --requests 600 --window 8 --verify-at-end
expect_clean_client "$WORK/c1.out"
[ "$(line_field 1 guest protection_started)" = yes ] || fail "the first protection never started"

note "backup gone: the primary serves unprotected, its inputs stay in the log"
kill_node 2 9
wait_until 30 "the primary runs unprotected" grep -q 'event=unprotected' "$WORK/n1.log"
client "$WORK/c1b.out" --requests 300 --window 8 --verify-at-end
expect_clean_client "$WORK/c1b.out"
note "primary gone too; the witness keeps the first protection's log"
kill_node 1 9
rm -rf "$WORK/d1" "$WORK/d2"
sed -i 's/^protection_id = .*/protection_id = 222/' "$WORK/n1.conf" "$WORK/n2.conf"
start_node 1 --bootstrap; start_node 2    # as xl vsmr starts them
wait_until 60 "the new protection starts" guest_is 1 protection_started yes
wait_until 60 "the new backup holds the primary's state" guest_is 2 synced yes
skipped=$(line_field 1 guest earlier_skipped)
[ "${skipped:-0}" -gt 0 ] || fail "the new primary skipped ${skipped:-0} earlier entries: the witness's log did not reach it (nothing tested)"
fed=$(line_field 1 guest inputs_fed)
[ "$fed" = 0 ] || fail "the new primary's guest was fed $fed inputs of the earlier protection"
for n in 1 2; do
  [ "$(sync_field $n aborted)" = 0 ] || fail "node $n aborted an epoch: $(sync_field $n last_reason)"
done
grep -q 'event=protection_started' "$WORK/n2.log" || fail "the backup did not see the PROTECT entry"
note "new primary skipped $skipped earlier entries, fed 0"

client "$WORK/c2.out" --requests 600 --window 8 --verify-at-end
expect_clean_client "$WORK/c2.out"

note "the backup restarts with its data_dir (its PROTECT entry compacted away)"
kill_node 2 9
start_node 2
wait_until 60 "the restarted backup syncs again" guest_is 2 synced yes
client "$WORK/c3.out" --requests 300 --window 8 --verify-at-end
expect_clean_client "$WORK/c3.out"
echo "PASS: test_sync_reprotect"
