#!/bin/bash
# vsmr-lab: host-side
# test_pair_partition.sh - issue 5's network cuts on two emulated Xen hosts
# and a witness (pair/lib.sh; hosts as in test_pair_failover): after `xl
# vsmr` protects A's guest and a client writes through one connection,
#  1. the link between A and B is cut (both still reach the witness, by
#     bridge port isolation): A and the witness are a majority, so A goes
#     on unprotected and writes go on; B cannot win an election; healed,
#     B learns it is stale and A protects again after a full sync;
#  2. A is cut from everything (its tap down): A has no majority and must
#     release no output (its committed epoch stays put); B and the witness
#     elect B, which takes over the guest; writes go on against B;
#  3. A's link comes back: A learns it was replaced and stays stale; every
#     acknowledged write reads back.
#   usage: test_pair_partition.sh [OUT_DIR]   (check.sh runs it)
set -uo pipefail
. "$(dirname "$0")/pair/lib.sh"
pair_begin pair_partition "${1:-}"
A_OUT=$OUT/a/share/out; B_OUT=$OUT/b/share/out
# A's figures as `xl vsmr status` showed them last (saved every 3 s)
a_field() { tr ' ' '\n' < "$A_OUT/xlvsmr-status.txt" 2>/dev/null | sed -n "s/^$1=//p" | head -1; }
a_log_has() { grep -aqs "$1" "$A_OUT/primary.log"; }
b_log_has() { grep -aqs "$1" "$B_OUT/backup.log"; }
a_protected() { [ "$(a_field protected)" = yes ]; }
a_unprotected() { a_log_has "event=unprotected"; }
b_stale() { b_log_has "event=backup_stale"; }
b_synced_again() { [ "$(grep -ac 'event=backup_synced' "$B_OUT/backup.log" 2>/dev/null)" -ge 2 ]; }

pair_scenario_start "$LAB_DIR/pair/failover-a.sh" "$LAB_DIR/pair/failover-b.sh"
since; lab_check acked-while-protected wait_until 900 acked_since 5

echo "$(pel) cutting the link between A and B (both still reach the witness)"
in_ns bridge link set dev tapa isolated on; in_ns bridge link set dev tapb isolated on
lab_check a-goes-unprotected wait_until 300 a_unprotected
since; lab_check served-while-a-b-cut wait_until 300 acked_since 3
echo "$(pel) healing the A-B link"
in_ns bridge link set dev tapa isolated off; in_ns bridge link set dev tapb isolated off
# B hears of the unprotected stretch from the log once it is back
lab_check b-knows-it-is-stale wait_until 300 b_stale
lab_check b-synced-again wait_until 900 b_synced_again
since; lab_check served-after-heal wait_until 600 acked_since 3

echo "$(pel) cutting A from everything (its tap down)"
since; CUT_MS=$T_MARK
in_ns ip link set tapa down
# Read A's committed epoch once a status taken after the cut is in the
# share (every 3 s; an ack already in flight at the cut may still count)
sleep 8; EPOCH_AT_CUT=$(a_field committed_epoch)
b_promoted() { b_log_has "event=promoted"; }
lab_check b-promoted wait_until 300 b_promoted
lab_check served-by-b wait_until 600 acked_since 3
sleep 6   # A's status reaches the share every 3 s
EPOCH_LATER=$(a_field committed_epoch)
echo "A's committed epoch: $EPOCH_AT_CUT at the cut, ${EPOCH_LATER:-?} now"
lab_check a-released-nothing-alone [ -n "$EPOCH_AT_CUT" ] && [ "$EPOCH_AT_CUT" = "$EPOCH_LATER" ]
echo "$(pel) A's link comes back"
in_ns ip link set tapa up
a_stale() { a_log_has "event=primary_stale"; }
lab_check a-knows-it-was-replaced wait_until 300 a_stale
since; lab_check served-by-b-after-a-is-back wait_until 300 acked_since 3
pair_verify
pair_finish a 120; pair_finish b 120
echo
echo "== summary (emulated: two Xen hosts in QEMU TCG on this machine)"
echo "   writes acknowledged: $(acks) in all, $(acks_after "$CUT_MS") after A was cut off"
echo "   the client's connection: $(connection_kept)"
echo "   $(tail -1 "$OUT/verify.log")"
echo "$(pel) $NAME: $fails failed"
[ "$fails" = 0 ]
