#!/bin/bash
# vsmr-lab: host-side
# test_pair_reprotect.sh - issue 5's "backup killed and re-protected" on
# two emulated Xen hosts and a witness (pair/lib.sh): host A protects its
# guest with `xl vsmr` (backup host B); a client writes through one TCP
# connection; B's QEMU is killed with kill -9 (the primary and the
# witness are a majority: writes go on, unprotected); B is booted again
# and A runs `xl vsmr stop` and `xl vsmr` once more; writes go on while
# protected again; then A's QEMU is killed and the new backup takes over;
# every acknowledged write must read back.
#   usage: test_pair_reprotect.sh [OUT_DIR]   (check.sh runs it)
set -uo pipefail
. "$(dirname "$0")/pair/lib.sh"
pair_begin pair_reprotect "${1:-}"

pair_scenario_start "$LAB_DIR/pair/reprotect-a.sh" "$LAB_DIR/pair/reprotect-b.sh"
since; lab_check acked-while-protected wait_until 900 acked_since 5
echo "$(pel) $(acks) writes acknowledged; killing host B's QEMU (kill -9)"
since; pair_kill b
lab_check served-without-backup wait_until 600 acked_since 5
echo "$(pel) booting host B again"
pair_boot b 10.10.0.12 "$LAB_DIR/pair/reprotect-b.sh" "" b2
lab_check new-hostb-up pair_wait b ready 600
pair_tell a reprotect
lab_check hosta-reprotected pair_wait a reprotected 1800
lab_check xl-vsmr-again-exit-0 grep -qx 0 "$OUT/a/share/out/reprotected"
cat "$OUT/a/share/out/status-reprotected.txt" 2>/dev/null
since
lab_check acked-while-reprotected wait_until 900 acked_since 3
echo "$(pel) $(acks) writes acknowledged; killing host A's QEMU (kill -9)"
since; KILL_MS=$T_MARK; pair_kill a
lab_check acked-after-failover wait_until 900 acked_since 5
pair_verify
# B's log reaches the share a few seconds behind B: wait for the line.
b2_promoted() { grep -aqs "event=promoted" "$OUT"/b2/share/out/backup.log; }
lab_check new-backup-promoted wait_until 60 b2_promoted
lab_check hostb-finished pair_finish b 300
echo
echo "== summary (emulated: two Xen hosts in QEMU TCG on this machine)"
echo "   writes acknowledged: $(acks) in all, $(acks_after "$KILL_MS") after host A was killed"
echo "   the client's connection: $(connection_kept)"
echo "   $(tail -1 "$OUT/verify.log")"
echo "$(pel) $NAME: $fails failed"
[ "$fails" = 0 ]
