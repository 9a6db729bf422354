#!/bin/sh
# test_sync_compress.sh - sync_compress on one replica and off on the
# other (as while upgrading one host at a time), both ways round, verify
# mode on: each side takes what the other sends, memory is equal after
# every sync (no epoch aborts), the client loses nothing; a zstd side sends
# fewer bytes than raw, a plain side exactly raw (bytes_sent, bytes_raw on
# the control socket and on every epoch line).
. tests/integration/lib_cluster.sh
. tests/integration/lib_sync.sh
require_netns

# run_phase PRIMARY_SETTING BACKUP_SETTING
run_phase() {
  setup_sync_cluster "verify = on"
  echo "sync_compress = $1" >> "$WORK/n1.conf"
  echo "sync_compress = $2" >> "$WORK/n2.conf"
  start_all
  client "$WORK/c.out" --requests 2000 --window 8 --verify-at-end
  expect_clean_client "$WORK/c.out"
  expect_epochs_clean 3
  for n in 1 2; do
    sent=$(sync_field $n bytes_sent) raw=$(sync_field $n bytes_raw)
    setting=$([ $n = 1 ] && echo "$1" || echo "$2")
    note "node $n (sync_compress = $setting): bytes_sent=$sent bytes_raw=$raw"
    [ "${sent:-0}" -gt 0 ] && [ "${raw:-0}" -ge "$sent" ] || fail "node $n: bytes_sent=$sent bytes_raw=$raw"
    [ "$setting" = off ] && [ "$sent" != "$raw" ] && fail "node $n sends plain frames, yet bytes_sent ($sent) differs from bytes_raw ($raw)"
    grep -q "event=epoch_committed .*bytes_sent=[0-9]* bytes_raw=[0-9]" "$WORK/n$n.log" || fail "node $n: no bytes_raw on its epoch lines"
  done
  # The primary's page batches are what zstd shrinks.
  if [ "$1" = zstd ]; then
    [ "$(sync_field 1 bytes_sent)" -lt "$(sync_field 1 bytes_raw)" ] || fail "the zstd primary sent no fewer bytes than raw"
  fi
  cleanup; trap - EXIT
  PID1=0 PID2=0 PID3=0
}

note "primary plain, backup zstd"
run_phase off zstd
note "primary zstd, backup plain"
run_phase zstd off
echo "PASS: test_sync_compress"
