# lib_sync.sh - helpers for the sync integration tests: the three-host
# cluster of lib_cluster.sh, where nodes 1 (primary) and 2 (backup) run a
# sim guest serving clients on 10.77.0.10N:7100, and a client (vsmr-client)
# in the witness's namespace (node 3), which reaches both. Sourced by
# test_sync_*.sh after lib_cluster.sh.

# setup_sync_cluster [EXTRA CONFIG LINES...]
setup_sync_cluster() {
  setup_cluster
  for i in 1 2; do
    {
      echo "guest = sim:pages=${SIM_PAGES:-4096},workers=4"
      echo "client_listen = 10.77.0.10$i:7100"
      for line in "$@"; do echo "$line"; done
    } >> "$WORK/n$i.conf"
  done
  [ -x "$VSMR_BIN/vsmr-client" ] || fail "no $VSMR_BIN/vsmr-client"
}

start_all() {
  start_node 1 --bootstrap; start_node 2 --bootstrap; start_node 3 --bootstrap
  wait_until 20 "node 1 leads" leader_is 1
  wait_until 30 "the backup holds the primary's state" guest_is 2 synced yes
}

leader_is() { [ "$(field 1 leader)" = "$1" ] || [ "$(field 2 leader)" = "$1" ]; }

# Value of KEY on the line starting with WORD in node N's status.
line_field() {  # line_field NODE WORD KEY
  ctl "$1" status 2>/dev/null | grep "^$2 " | tr ' ' '\n' | sed -n "s/^$3=//p"
}
guest_is() { [ "$(line_field "$1" guest "$2")" = "$3" ]; }
sync_field() { line_field "$1" sync "$2"; }

# client OUTFILE [vsmr-client args...]: runs the checker client from the
# witness's namespace against both VM replicas.
client() {
  out=$1; shift
  ip netns exec "$NS-3" "$VSMR_BIN/vsmr-client" \
    --servers 10.77.0.101:7100,10.77.0.102:7100 --seed $$ "$@" >"$out" 2>&1
}

# summary_field FILE KEY: from the client's closing summary line.
summary_field() {
  grep '^client: summary' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# expect_clean_client FILE: exit 0, something acknowledged, nothing lost.
expect_clean_client() {
  grep -q '^client: summary' "$1" || { cat "$1"; fail "client printed no summary"; }
  lost=$(summary_field "$1" lost) contra=$(summary_field "$1" contradicted)
  acked=$(summary_field "$1" acknowledged)
  note "client: acknowledged=$acked lost=$lost contradicted=$contra"
  [ "$lost" = 0 ] && [ "$contra" = 0 ] || { tail -n 30 "$1"; fail "the client found lost or contradicted writes"; }
  [ "${acked:-0}" -gt 0 ] || { tail -n 20 "$1"; fail "nothing was acknowledged"; }
}

# expect_epochs_clean MIN: neither replica aborted an epoch (in verify mode:
# memory was equal after each) and the primary committed more than MIN;
# sets E to the primary's committed epochs.
expect_epochs_clean() {
  for n in 1 2; do
    [ "$(sync_field $n aborted)" = 0 ] || fail "node $n aborted an epoch: $(sync_field $n last_reason)"
  done
  E=$(sync_field 1 committed_epoch)
  [ "${E:-0}" -gt "$1" ] || fail "only ${E:-0} epochs committed"
}
