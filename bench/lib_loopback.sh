# lib_loopback.sh - sourced by bench_log.sh and diag_log_cpu.sh: a scratch
# dir, a cluster key, and three vsmrd (primary, backup, witness) on
# loopback. Set before sourcing: LOOPBACK_NAME (message prefix),
# LOOPBACK_DIR (where the scratch dir goes), LOOPBACK_PORT (first port);
# LOOPBACK_PIN="C1 C2 C3" pins nodes 1-3 to those CPUs (taskset; a diagnostic).
VSMR_BIN=${VSMR_BIN:-$(pwd)/build/bin}
W=$(mktemp -d "$LOOPBACK_DIR/vsmr-$LOOPBACK_NAME.XXXXXX") || exit 1
PIDS=
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
trap 'exit 1' INT TERM
ctl() { "$VSMR_BIN/vsmrctl" -s "$W/n1.sock" -t 120 "$@"; }
val() { tr ' ' '\n' | sed -n "s/^$1=//p"; }
head -c 32 /dev/urandom > "$W/key"; chmod 600 "$W/key"
port=$LOOPBACK_PORT

start_cluster() {  # start_cluster ENCRYPT LAZY_WITNESS (vsmrd values); PIDS: nodes 1 2 3
  rm -rf "$W"/d* "$W"/*.sock
  for i in 1 2 3; do
    cat > "$W/n$i.conf" <<EOC
id = $i
peer.1 = 127.0.0.1:$port primary
peer.2 = 127.0.0.1:$((port + 1)) backup
peer.3 = 127.0.0.1:$((port + 2)) witness
key_file = $W/key
control = $W/n$i.sock
data_dir = $W/d$i
encrypt = $1
lazy_witness = $2
log_level = warn
election_ticks = 20
EOC
    pin=$(echo "${LOOPBACK_PIN:-}" | cut -d' ' -f"$i")
    ${pin:+taskset -c "$pin"} "$VSMR_BIN/vsmrd" --config "$W/n$i.conf" --bootstrap 2>>"$W/n$i.log" &
    PIDS="$PIDS $!"
  done
  end=$(( $(date +%s) + 20 ))
  until [ "$(ctl status 2>/dev/null | head -n1 | val role)" = leader ]; do
    [ "$(date +%s)" -ge "$end" ] && { echo "$LOOPBACK_NAME: node 1 never became leader"; cat "$W"/n*.log; exit 1; }
    sleep 0.1
  done
}

stop_cluster() {
  for p in $PIDS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  PIDS=
  port=$((port + 3))
}
