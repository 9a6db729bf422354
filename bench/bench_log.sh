#!/bin/sh
# bench_log.sh - the consensus log benchmark: three vsmrd on loopback,
# commit latency (one proposal outstanding) and saturation throughput
# (many outstanding, batched) for 64- and 1500-byte entries, with
# encryption on and off, against the plain TCP ping-pong RTT measured in
# the same run. Latency is propose-to-commit inside the leader (where the
# guest's inputs are captured). Each case runs with the lazy witness on
# (vsmrd's default: the witness gets entries in batches) and off (every
# APPEND to both followers); LAZY="on" or "off" runs one. Data dirs live
# on tmpfs unless VSMR_BENCH_DIR names another place (the disk's fsync
# cost is then in).
VSMR_BIN=${VSMR_BIN:-$(pwd)/build/bin}
BASE=${VSMR_BENCH_DIR:-/dev/shm}
LAT_N=${LAT_N:-3000}
SAT_64=${SAT_64:-500000}
SAT_1500=${SAT_1500:-100000}
LAZY=${LAZY:-on off}
W=$(mktemp -d "$BASE/vsmr-bench.XXXXXX") || exit 1
PIDS=
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
trap 'exit 1' INT TERM
ctl() { "$VSMR_BIN/vsmrctl" -s "$W/n1.sock" -t 120 "$@"; }
val() { tr ' ' '\n' | sed -n "s/^$1=//p"; }

head -c 32 /dev/urandom > "$W/key"; chmod 600 "$W/key"
port=$((17300 + $$ % 500 * 3))

start_cluster() {  # start_cluster ENCRYPT LAZY_WITNESS (on|off each)
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
    "$VSMR_BIN/vsmrd" --config "$W/n$i.conf" --bootstrap 2>>"$W/n$i.log" &
    PIDS="$PIDS $!"
  done
  end=$(( $(date +%s) + 20 ))
  until [ "$(ctl status 2>/dev/null | head -n1 | val role)" = leader ]; do
    [ "$(date +%s)" -ge "$end" ] && { echo "bench_log: node 1 never became leader"; cat "$W"/n*.log; exit 1; }
    sleep 0.1
  done
}

stop_cluster() {
  for p in $PIDS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  PIDS=
  port=$((port + 3))
}

echo "# consensus log benchmark: 3 replicas on loopback, data on $BASE, $(nproc) cores"
echo "# command: sh bench/bench_log.sh   (make bench runs it)"
printf '%-8s %-5s %-6s %12s %12s %12s %8s %14s\n' encrypt lazy size tcp_rtt_p50 commit_p50 commit_p99 ratio entries_per_s
for enc in on off; do
 for lazy in $LAZY; do
  start_cluster "$enc" "$lazy"
  ctl bench 2000 64 1 >/dev/null || exit 1   # warm up connections and caches
  for size in 64 1500; do
    rtt=$("$VSMR_BIN/vsmrctl" tcp-rtt 20000 "$size" | val p50_us)
    lat=$(ctl bench "$LAT_N" "$size" 1) || { echo "bench failed: $lat"; exit 1; }
    sat_n=$SAT_64; win=20000
    [ "$size" = 1500 ] && { sat_n=$SAT_1500; win=4000; }
    sat=$(ctl bench "$sat_n" "$size" "$win") || { echo "bench failed: $sat"; exit 1; }
    p50=$(echo "$lat" | val p50_us); p99=$(echo "$lat" | val p99_us)
    eps=$(echo "$sat" | val entries_per_s)
    ratio=$(awk -v a="$p50" -v b="$rtt" 'BEGIN { printf "%.2f", a / b }')
    printf '%-8s %-5s %-6s %10sus %10sus %10sus %8s %14s\n' "$enc" "$lazy" "$size" "$rtt" "$p50" "$p99" "$ratio" "$eps"
  done
  stop_cluster
 done
done
echo "# ratio = commit_p50 / tcp_rtt_p50 (target <= 1.5); entries_per_s at saturation (target >= 200000 for 64 B)"
echo "# lazy = vsmrd's lazy_witness (on: the default; off: every APPEND to both followers, as before)"
