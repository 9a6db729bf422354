#!/bin/bash
# vsmr-lab: host-side
# test_pair_failover.sh - issue 5's failover on two emulated Xen hosts and
# a witness (pair/lib.sh): host A creates a PVH guest running vsmr-guestd
# and protects it with `xl vsmr` (backup on host B over ssh, the witness
# on this side); a client in the lab's namespace writes keys through one
# TCP connection and records what was acknowledged; the witness is killed
# (writes go on) and restarted; then host A's QEMU is
# killed with kill -9 mid-workload; the backup on B must take over (its
# vif joins B's bridge), the client's writes must go on, and every
# acknowledged write must read back.
#   usage: test_pair_failover.sh [OUT_DIR]   (check.sh and make demo run it)
set -uo pipefail
. "$(dirname "$0")/pair/lib.sh"
pair_begin pair_failover "${1:-}"
pair_scenario_start "$LAB_DIR/pair/failover-a.sh" "$LAB_DIR/pair/failover-b.sh"
# Each write waits for the sync after it (≈ 6 s per sync with both hosts
# emulated on two cores): 10 before and 10 after keep the run short.
enough_before() { [ "$(acks)" -ge 10 ]; }
enough_after() { [ "$(acks_after "$KILL_MS")" -ge 10 ]; }
lab_check acked-while-protected wait_until 900 enough_before
# The witness dies: the primary and the backup still make a majority, so
# writes go on; then it comes back (same data) before the primary dies.
echo "$(pel) $(acks) writes acknowledged; killing the witness (kill -9)"
kill -9 "$WITNESS_PID"; wait "$WITNESS_PID" 2>/dev/null
W_MS=$(date +%s%3N)
enough_no_witness() { [ "$(acks_after "$W_MS")" -ge 3 ]; }
lab_check served-without-witness wait_until 600 enough_no_witness
pair_witness
witness_has_both() {
  [ "$(in_ns "$REPO_DIR/build/bin/vsmrctl" -s "$OUT/witness/witness.sock" status 2>/dev/null | grep -c 'connected=yes')" -ge 2 ]
}
lab_check witness-back wait_until 300 witness_has_both
BEFORE=$(acks)
echo "$(pel) $BEFORE writes acknowledged; killing host A's QEMU (kill -9)"
KILL_MS=$(date +%s%3N)
pair_kill a
lab_check acked-after-failover wait_until 900 enough_after
touch "$OUT/client.stop"; wait "$CLIENT_PID" 2>/dev/null; CLIENT_PID=
FIRST=$(awk -v t="$KILL_MS" '$1 == "ACK" && $5 > t { print $5; exit }' "$CL")
echo "$(pel) client: $BEFORE acknowledged before the kill, $(acks_after "$KILL_MS") after;" \
     "first answer $(( ${FIRST:-$KILL_MS} - KILL_MS )) ms after the kill;" \
     "reconnects $(grep -c '^RECONNECT' "$CL"); answers that took 2 s or more: $(grep -c '^GAP' "$CL")"
pair_verify
# B's log reaches the share a few seconds behind B: wait for the line.
b_promoted() { grep -aqs "event=promoted" "$OUT"/b/share/out/backup.log; }
lab_check backup-promoted wait_until 60 b_promoted
# With C xenstored (the lab's default) the backup's end renews its store
# connection in place: no release, no walk of its nodes.
in_place_ends() { grep -a 'event=backup_restarted' "$OUT"/b/share/out/backup.log | grep -c 'store=reset_in_place'; }
case " ${VSMR_LAB_ENV:-} " in
  *" VSMR_LAB_XENSTORED=oxenstored "*) ;;
  *) lab_check backup-store-reset-in-place [ "$(in_place_ends)" -ge 3 ] ;;
esac
lab_check hostb-finished pair_finish b 300
cat "$OUT"/b/share/out/hostb.log 2>/dev/null | tail -12
# The syncs A committed while it lived (its log reached the share every 3 s)
sync_figures() {
  grep -a 'event=epoch_committed' "$OUT/a/share/out/primary.log" 2>/dev/null | tail -n +2 |
    tr ' ' '\n' | awk -F= '$1 == "ms_paused" { p[n++] = $2 } $1 == "divergent" { d[m++] = $2 }
      $1 == "bytes_sent" { b += $2 }
      function med(a, k,  i, j, t) { for (i = 0; i < k; i++) for (j = i + 1; j < k; j++)
        if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t } return k ? a[int(k / 2)] : 0 }
      END { printf "%d syncs committed after the first; median pause %.0f ms, median divergent %d pages, %.1f MB sent", n, med(p, n), med(d, m), b / 1e6 }'
}
# The backup's ends (devices re-created, resumed as a new domain)
end_figures() {
  grep -a 'event=backup_restarted' "$OUT"/b/share/out/backup.log 2>/dev/null |
    tr ' ' '\n' | awk -F= '$1 == "ms_end" { e[n++] = $2 } $1 == "ms_walk" { w[m++] = $2 } $1 == "store" { s = $2 }
      function med(a, k,  i, j, t) { for (i = 0; i < k; i++) for (j = i + 1; j < k; j++)
        if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t } return k ? a[int(k / 2)] : 0 }
      END { printf "%d ends, median %.0f ms (walk %.0f ms), store %s", n, med(e, n), med(w, m), s }'
}
echo
echo "== summary (emulated: two Xen hosts in QEMU TCG on this machine)"
echo "   guest1 protected by xl vsmr: primary host A, backup host B, witness on this machine"
echo "   A's syncs: $(sync_figures)"
echo "   B's ends: $(end_figures)"
echo "   writes acknowledged: $BEFORE before host A was killed, $(acks_after "$KILL_MS") after (on host B)"
echo "   first answer after the kill: $(( ${FIRST:-$KILL_MS} - KILL_MS )) ms;" \
     "the client's connection: $(connection_kept)"
echo "   $(tail -1 "$OUT/verify.log")"
echo "$(pel) $NAME: $fails failed"
[ "$fails" = 0 ]
