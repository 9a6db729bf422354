# pair/lib.sh - sourced by the host-side two-host lab tests (test_pair_*.sh):
# a network namespace of our own on this machine holds a bridge
# (10.10.0.100/24) where the witness vsmrd and the test's client run; two
# emulated Xen hosts, A (dom0 10.10.0.11) and B (10.10.0.12), each a QEMU
# whose NIC is a tap on that bridge, run their dom0 scripts
# (pair/NAME-a.sh, pair/NAME-b.sh). Files in the hosts' 9p shares carry
# the messages between this side and the dom0s. Everything is torn down
# on exit (QEMUs, witness, client, namespace).
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
NS=vsmrlab$$
WITNESS_ADDR=10.10.0.100:7003
declare -A QPIDS RUNPIDS HDIR   # per host: QEMU pid, run.sh pid, its out dir
fails=0
PT0=$(date +%s)
pel() { echo "[t+$(( $(date +%s) - PT0 ))s]"; }
lab_check() {   # lab_check NAME CMD... : one LAB-CHECK line per claim
  local n=$1; shift
  if "$@"; then echo "LAB-CHECK $n PASS"; else echo "LAB-CHECK $n FAIL"; fails=$((fails + 1)); fi
}
in_ns() { ip netns exec "$NS" "$@"; }

pair_down() {
  local h
  [ -n "${CLIENT_PID:-}" ] && kill "$CLIENT_PID" 2>/dev/null
  [ -n "${WITNESS_PID:-}" ] && kill "$WITNESS_PID" 2>/dev/null
  # whatever still runs in the namespace (a client, a witness) goes too
  ip netns pids "$NS" 2>/dev/null | xargs -r kill -9 2>/dev/null
  for h in "${!QPIDS[@]}"; do kill -9 "${QPIDS[$h]}" 2>/dev/null; done
  for h in "${!RUNPIDS[@]}"; do wait "${RUNPIDS[$h]}" 2>/dev/null; done
  # (not a bare `wait`: the caller's `tee` of its own output is a child
  # too, and it ends only after this shell does)
  [ -n "${WITNESS_PID:-}" ] && wait "$WITNESS_PID" 2>/dev/null
  [ -n "${CLIENT_PID:-}" ] && wait "$CLIENT_PID" 2>/dev/null
  ip netns del "$NS" 2>/dev/null
}

# pair_up OUT: the namespace, its bridge, the cluster key (KEYHEX).
pair_up() {
  OUT=$1
  rm -rf "$OUT"; mkdir -p "$OUT"
  trap pair_down EXIT
  ip netns add "$NS" || die "cannot create network namespace $NS (root needed)"
  in_ns ip link set lo up
  in_ns ip link add br0 type bridge
  in_ns ip link set br0 type bridge forward_delay 0
  in_ns ip link set br0 up
  in_ns ip addr add 10.10.0.100/24 dev br0
  head -c 32 /dev/urandom > "$OUT/cluster.key"; chmod 600 "$OUT/cluster.key"
  KEYHEX=$(od -An -tx1 -v "$OUT/cluster.key" | tr -d ' \n')
}

# pair_boot HOST IP SCRIPT [ENV [DIR]]: boots host HOST (a or b) in the
# background, its files in $OUT/DIR (default HOST: a host booted again
# gets a new one); its tap joins the bridge as soon as QEMU made it.
pair_boot() {
  local h=$1 mac=52:54:00:10:00:0$([ "$1" = a ] && echo 1 || echo 2)
  HDIR[$h]=$OUT/${5:-$h}
  ( cd "$REPO_DIR" && in_ns env DOM0_IP="$2/24" MAC="$mac" \
      NETDEV="tap,id=n0,ifname=tap$h,script=no,downscript=no" \
      bash "$LAB_DIR/run.sh" --name "host$h" --out "${HDIR[$h]}" \
      --file "$LAB_DIR/pair/common-dom0.sh" \
      --env "LAB_KEY=$KEYHEX ${4:-}" "$3" ) > "$OUT/run-${5:-$h}.log" 2>&1 &
  RUNPIDS[$h]=$!
  local i
  for i in $(seq 1 120); do
    in_ns ip link show "tap$h" >/dev/null 2>&1 && break
    sleep 0.5
  done
  in_ns ip link set "tap$h" master br0 up || die "host $h's tap never appeared ($OUT/run-$h.log)"
  for i in $(seq 1 20); do [ -s "${HDIR[$h]}/qemu.pid" ] && break; sleep 0.5; done
  QPIDS[$h]=$(cat "${HDIR[$h]}/qemu.pid" 2>/dev/null)
  [ -n "${QPIDS[$h]}" ] || die "host $h's QEMU wrote no pid file"
}

# pair_wait HOST FILE TIMEOUT: 0 once the host's share has out/FILE with
# something in it (a file seen at once over 9p may still be empty: a CI-
# style run failed on that), 1 if its QEMU exited first, 2 on timeout.
pair_wait() {
  local f=${HDIR[$1]}/share/out/$2 end=$(( $(date +%s) + $3 ))
  while [ "$(date +%s)" -lt "$end" ]; do
    [ -s "$f" ] && return 0
    pair_emulator_failed
    kill -0 "${RUNPIDS[$1]}" 2>/dev/null || { [ -s "$f" ]; return; }
    sleep 1
  done
  return 2
}

# pair_tell HOST WORD: a message file the host's dom0 script waits for.
pair_tell() { echo "$2" > "${HDIR[$1]}/share/$2"; }

# pair_witness: a vsmrd witness in the namespace for the replicas xl vsmr
# starts (primary A:7001, backup B:7001).
pair_witness() {
  local w=$OUT/witness
  mkdir -p "$w"
  cp "$OUT/cluster.key" "$w/key"
  cat > "$w/witness.conf" <<C
id = 3
peer.1 = 10.10.0.11:7001 primary
peer.2 = 10.10.0.12:7001 backup
peer.3 = $WITNESS_ADDR witness
key_file = $w/key
control = $w/witness.sock
data_dir = $w/data
log_file = $w/witness.log
election_ticks = 1000
idle_timeout_ms = 20000
C
  # ip netns exec execs vsmrd itself: $! is the witness (a function in
  # the background would be a subshell, and killing it would not kill it)
  ip netns exec "$NS" "$REPO_DIR/build/bin/vsmrd" --config "$w/witness.conf" \
    --bootstrap >> "$w/stderr.log" 2>&1 &
  WITNESS_PID=$!
}

# pair_kill HOST: the host's whole emulated machine, as a power failure.
pair_kill() {
  kill -9 "${QPIDS[$1]}" 2>/dev/null
  wait "${RUNPIDS[$1]}" 2>/dev/null
  unset "QPIDS[$1]" "RUNPIDS[$1]"
}

# pair_finish HOST TIMEOUT: tells the host to finish, waits for its run.
pair_finish() {
  pair_tell "$1" stop
  local i
  for i in $(seq 1 "$2"); do kill -0 "${RUNPIDS[$1]}" 2>/dev/null || break; sleep 1; done
  kill -0 "${RUNPIDS[$1]}" 2>/dev/null && kill -9 "${QPIDS[$1]}" 2>/dev/null
  wait "${RUNPIDS[$1]}" 2>/dev/null; local rc=$?
  unset "QPIDS[$1]" "RUNPIDS[$1]"
  return $rc
}

# triple_faulted: whether a domU of either host triple-faulted (check.sh
# repeats such a run: an emulation failure, docs/lab.md).
pair_triple_faulted() { grep -raqs --include=serial.log "Triple fault" "$OUT"; }
# A run whose guest the emulator triple-faulted measures nothing more:
# every wait ends it at once (check.sh runs it again) instead of waiting
# out its timeouts (a CI run waited 10 min for a dead backup's writes).
pair_emulator_failed() {
  pair_triple_faulted || return 0
  echo "$(pel) a domU triple-faulted (the emulator, docs/lab.md):" \
       "$(grep -rah --include=serial.log 'Triple fault' "$OUT" | head -1 | tr -d '\r'); ending this run"
  exit 1
}

# --- the client's log ($CL: pair/client.sh write), for the scenarios ---
acks() { local n; n=$(grep -c '^ACK' "$CL" 2>/dev/null); echo "${n:-0}"; }
acks_after() {   # acks_after MS: writes acknowledged after that time
  [ -f "$CL" ] && awk -v t="$1" '$1 == "ACK" && $5 > t { n++ } END { print n + 0 }' "$CL" || echo 0
}
since() { T_MARK=$(date +%s%3N); }
acked_since() { [ "$(acks_after "$T_MARK")" -ge "$1" ]; }   # acked_since N
connection_kept() {   # the client's connection after its first write
  awk '$1 == "SENT" { s = 1 } s && $1 == "RECONNECT" { n++ }
       END { print n ? "broke " n " time(s), reconnected" : "kept (no reconnect)" }' "$CL"
}
wait_until() {   # wait_until SECONDS CMD...: polls CMD every second,
  local end=$(( $(date +%s) + $1 )) next=$(( $(date +%s) + 30 )); shift
  while [ "$(date +%s)" -lt "$end" ]; do   # with live progress
    "$@" && return 0
    pair_emulator_failed
    if [ "$(date +%s)" -ge "$next" ] && [ -f "$CL" ]; then
      echo "$(pel) ... $(acks) writes acknowledged"; next=$(( next + 30 ))
    fi
    sleep 1
  done
  return 1
}

# pair_scenario_start A_SCRIPT B_SCRIPT: the scenarios' common start: the
# witness, both hosts booted, A's guest protected by `xl vsmr` (A's script
# writes out/protected with its exit status), then the client writing.
pair_scenario_start() {
  CL=$OUT/client.log
  pair_witness
  pair_boot a 10.10.0.11 "$1" "WITNESS=$WITNESS_ADDR"
  pair_boot b 10.10.0.12 "$2"
  echo "$(pel) booting host A (10.10.0.11) and host B (10.10.0.12); witness $WITNESS_ADDR"
  lab_check hostb-up pair_wait b ready 600
  lab_check hosta-protected pair_wait a protected 1800
  lab_check xl-vsmr-exit-0 grep -qx 0 "$OUT/a/share/out/protected"
  cat "$OUT"/a/share/out/status-*.txt 2>/dev/null
  # Nothing after this means anything for a guest that is not protected.
  [ "$fails" = 0 ] || { tail -5 "$OUT/a/share/out/host"*.log 2>/dev/null
    echo "$(pel) $NAME: xl vsmr did not protect the guest; stopping here"; exit 1; }
  echo "$(pel) client starts"
  ip netns exec "$NS" bash "$LAB_DIR/pair/client.sh" write "$CL" "$OUT/client.stop" &
  CLIENT_PID=$!
}

# pair_begin NAME [OUT_DIR]: pair_up, and this shell's output also into
# OUT_DIR/NAME.log (check.sh shows its LAB-CHECK lines from there).
pair_begin() {
  NAME=$1
  pair_up "${2:-$REPO_DIR/build/lab/$NAME}"
  exec > >(tee "$OUT/$NAME.log") 2>&1
}

# pair_verify: stops the writer, reads every key back on a new connection
# and checks that no acknowledged write was lost (verify.log).
pair_verify() {
  touch "$OUT/client.stop"
  [ -n "${CLIENT_PID:-}" ] && wait "$CLIENT_PID" 2>/dev/null; CLIENT_PID=
  local vrc=0
  in_ns bash "$LAB_DIR/pair/client.sh" verify "$CL" > "$OUT/verify.log" 2>&1 || vrc=$?
  cat "$OUT/verify.log"
  lab_check no-acknowledged-write-lost [ $vrc = 0 ]
}
