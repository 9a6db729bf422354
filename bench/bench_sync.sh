#!/bin/sh
# bench_sync.sh - the same client workload under no replication, VSMR and
# Remus mode, one after the other in one run: throughput, request latency
# p50/p99, bytes on the replication link (primary -> backup, counted by
# the transport on the wire: log + sync traffic) per epoch and in total,
# the primary's sync frames per epoch as sent and as they would be
# uncompressed (bytes_sent, bytes_raw), pause time per epoch, and the
# ratios VSMR/Remus. "Equal sync frequency": both modes sync on the same
# fixed interval (sync_min_ms = sync_max_ms); a third run shows VSMR with
# its own idle trigger. Each mode runs with sync_compress = zstd (the
# default) and again with off. Loopback, no root.
# PIN=1 (default) gives each "host" its own core, as separate machines
# would: the primary's vsmrd and guest on CPU 0, the backup's (whose guest
# runs the whole workload too under VSMR), the witness and the client on
# CPU 1. PIN=0 lets everything share both cores.
VSMR_BIN=${VSMR_BIN:-$(pwd)/build/bin}
REQS=${REQS:-80000}
WINDOW=${WINDOW:-2000}
PAGES=${PAGES:-16384}         # 64 MiB guests
WORKERS=${WORKERS:-4}
VSIZE=${VSIZE:-256}
INTERVAL=${INTERVAL:-20}      # ms, for the equal-frequency runs
PIN=${PIN:-1}
# on_cpu CPU COMMAND...: becomes COMMAND (exec), pinned when PIN=1. Run it
# in a subshell, "(on_cpu ...) &", so that $! is the command itself.
on_cpu() {
  if [ "$PIN" = 1 ] && command -v taskset >/dev/null; then
    cpu=$1; shift; exec taskset -c "$cpu" "$@"
  fi
  shift; exec "$@"
}
W=$(mktemp -d /dev/shm/vsmr-sync.XXXXXX) || exit 1
PIDS=
cleanup() { for p in $PIDS; do kill -9 "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
trap 'exit 1' INT TERM
val() { tr ' ' '\n' | sed -n "s/^$1=//p"; }
ctl() { "$VSMR_BIN/vsmrctl" -s "$W/n$1.sock" -t 30 status 2>/dev/null; }
head -c 32 /dev/urandom > "$W/key"; chmod 600 "$W/key"
port=$((18300 + $$ % 400 * 5))

client() {  # client ADDR OUT
  (on_cpu 1 "$VSMR_BIN/vsmr-client" --servers "$1" --requests "$REQS" --window "$WINDOW" \
    --keys 5000 --value-size "$VSIZE" --write-ratio 70 --seed 7 \
    --report-ms 100000 --max-seconds 300) > "$2" 2>&1
}

summary() { grep '^client: summary' "$1" | val "$2"; }

start_cluster() {  # start_cluster MODE MIN_MS MAX_MS COMPRESS
  rm -rf "$W"/d* "$W"/*.sock
  for i in 1 2 3; do
    {
      echo "id = $i"
      echo "peer.1 = 127.0.0.1:$port primary"
      echo "peer.2 = 127.0.0.1:$((port + 1)) backup"
      echo "peer.3 = 127.0.0.1:$((port + 2)) witness"
      echo "key_file = $W/key"
      echo "control = $W/n$i.sock"
      echo "data_dir = $W/d$i"
      echo "log_level = warn"
      echo "encrypt = off"
      if [ "$i" != 3 ]; then
        echo "guest = sim:pages=$PAGES,workers=$WORKERS"
        echo "client_listen = 127.0.0.1:$((port + 2 + i))"
        echo "sync_mode = $1"
        echo "sync_min_ms = $2"
        echo "sync_max_ms = $3"
        echo "sync_compress = $4"
      fi
    } > "$W/n$i.conf"
    (on_cpu $(( i == 1 ? 0 : 1 )) "$VSMR_BIN/vsmrd" --config "$W/n$i.conf" \
      --bootstrap) 2>>"$W/n$i.log" &
    PIDS="$PIDS $!"
  done
  end=$(( $(date +%s) + 60 ))
  until ctl 2 | grep -q '^guest .*synced=yes' && ctl 1 | grep -q '^guest .*protected=yes'; do
    [ "$(date +%s)" -ge "$end" ] && { echo "bench_sync: cluster did not become protected"; tail "$W"/n*.log; exit 1; }
    sleep 0.1
  done
}

stop_cluster() {
  for p in $PIDS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  PIDS=
  port=$((port + 5))
}

# run LABEL MODE MIN MAX COMPRESS: one measured run; prints a row, keeps
# figures.
run() {
  start_cluster "$2" "$3" "$4" "$5"
  s0=$(ctl 1); b0=$(echo "$s0" | grep '^peer=2 ' | val bytes_sent)
  sy0=$(echo "$s0" | grep '^sync ')
  e0=$(echo "$sy0" | val epochs); p0=$(echo "$sy0" | val ms_paused)
  f0=$(echo "$sy0" | val bytes_sent); r0=$(echo "$sy0" | val bytes_raw)
  client "127.0.0.1:$((port + 3))" "$W/$1.out"
  s1=$(ctl 1); b1=$(echo "$s1" | grep '^peer=2 ' | val bytes_sent)
  sy1=$(echo "$s1" | grep '^sync ')
  e1=$(echo "$sy1" | val epochs); p1=$(echo "$sy1" | val ms_paused)
  f1=$(echo "$sy1" | val bytes_sent); r1=$(echo "$sy1" | val bytes_raw)
  stop_cluster
  row "$1" "$W/$1.out" $((b1 - b0)) $((e1 - e0)) "$(echo "$p1 - $p0" | bc -l)" \
    $((f1 - f0)) $((r1 - r0))
}

row() {  # row LABEL OUT BYTES EPOCHS PAUSED_MS SYNC_SENT SYNC_RAW
  tput=$(summary "$2" throughput); p50=$(summary "$2" p50_us); p99=$(summary "$2" p99_us)
  lost=$(summary "$2" lost)
  [ -n "$tput" ] || { echo "bench_sync: $1: the client printed no summary"; tail "$2"; exit 1; }
  per_epoch=-; pause=-; sent=-; raw=-
  [ "${4:-0}" -gt 0 ] && { per_epoch=$(( $3 / $4 )); pause=$(printf %.2f "$(echo "$5 / $4" | bc -l)")
    sent=$(( $6 / $4 )); raw=$(( $7 / $4 )); }
  printf '%-22s %10.0f %9.0f %9.0f %14s %10s %12s %12s %12s %9s %5s\n' "$1" "$tput" "$p50" "$p99" "$3" "$4" "$per_epoch" "$sent" "$raw" "$pause" "$lost"
  eval "T_$(echo "$1" | tr -c 'a-z0-9\n' _)=$tput B_$(echo "$1" | tr -c 'a-z0-9\n' _)=$3"
}

echo "# hosts pinned to one core each: $PIN (PIN=0 to share both cores)"
echo "# sync benchmark: $REQS requests, window $WINDOW, $WORKERS guest workers, $((PAGES * 4 / 1024)) MiB guests, values $VSIZE B, loopback, $(nproc) cores"
echo "# command: sh bench/bench_sync.sh   (make bench runs it)"
printf '%-22s %10s %9s %9s %14s %10s %12s %12s %12s %9s %5s\n' mode req_per_s p50_us p99_us link_bytes epochs bytes_epoch sync_sent_ep sync_raw_ep pause_ms lost
(on_cpu 0 "$VSMR_BIN/vsmr-simserve" --listen "127.0.0.1:$port" --guest "pages=$PAGES,workers=$WORKERS") 2>/dev/null &
PIDS="$!"
sleep 0.5
client "127.0.0.1:$port" "$W/none.out"
stop_cluster
row none "$W/none.out" 0 0 0 0 0
run "remus_${INTERVAL}ms" remus "$INTERVAL" "$INTERVAL" zstd
run "vsmr_${INTERVAL}ms" vsmr "$INTERVAL" "$INTERVAL" zstd
run vsmr_idle_trigger vsmr 1 200 zstd
run "remus_${INTERVAL}ms_plain" remus "$INTERVAL" "$INTERVAL" off
run "vsmr_${INTERVAL}ms_plain" vsmr "$INTERVAL" "$INTERVAL" off
eval "tr_=\$T_remus_${INTERVAL}ms tv_=\$T_vsmr_${INTERVAL}ms br_=\$B_remus_${INTERVAL}ms bv_=\$B_vsmr_${INTERVAL}ms"
eval "brp_=\$B_remus_${INTERVAL}ms_plain bvp_=\$B_vsmr_${INTERVAL}ms_plain"
printf 'ratios at equal sync frequency (%s ms): throughput VSMR/Remus %.2f, replication bytes Remus/VSMR %.2f (both sync_compress = zstd)\n' \
  "$INTERVAL" "$(echo "$tv_ / $tr_" | bc -l)" "$(echo "$br_ / $bv_" | bc -l)"
printf 'replication bytes: Remus/VSMR both plain %.2f; plain Remus / zstd VSMR %.2f; VSMR plain/zstd %.2f, Remus plain/zstd %.2f\n' \
  "$(echo "$brp_ / $bvp_" | bc -l)" "$(echo "$brp_ / $bv_" | bc -l)" \
  "$(echo "$bvp_ / $bv_" | bc -l)" "$(echo "$brp_ / $br_" | bc -l)"
