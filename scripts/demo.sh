#!/bin/sh
# make demo-sim: VSMR end to end on simulated guests. Three
# replicas on this machine (primary and backup each run a sim guest, the
# witness runs none), a client writing and reading keys, live per-epoch
# figures, the primary killed with kill -9 halfway, the client carrying on
# against the promoted backup, and a closing summary. Loopback only.
BUILD=${BUILD:-build}
BIN=$(cd "$BUILD/bin" && pwd)
SECS=${DEMO_SECONDS:-14}
W=$(mktemp -d /tmp/vsmr-demo.XXXXXX) || exit 1
PIDS=""
cleanup() { for p in $PIDS; do kill -9 "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
trap 'exit 1' INT TERM
val() { tr ' ' '\n' | sed -n "s/^$1=//p"; }
st() { "$BIN/vsmrctl" -s "$W/n$1.sock" -t 5 status 2>/dev/null; }
port=$((19300 + $$ % 300 * 5))
head -c 32 /dev/urandom > "$W/key"; chmod 600 "$W/key"

for i in 1 2 3; do
  {
    echo "id = $i"
    echo "peer.1 = 127.0.0.1:$port primary"
    echo "peer.2 = 127.0.0.1:$((port + 1)) backup"
    echo "peer.3 = 127.0.0.1:$((port + 2)) witness"
    echo "key_file = $W/key"
    echo "control = $W/n$i.sock"
    echo "data_dir = $W/d$i"
    echo "log_file = $W/n$i.log"
    if [ "$i" != 3 ]; then
      echo "guest = sim:pages=16384,workers=4"
      echo "client_listen = 127.0.0.1:$((port + 2 + i))"
      echo "verify = on"
    fi
  } > "$W/n$i.conf"
  "$BIN/vsmrd" --config "$W/n$i.conf" --bootstrap 2>>"$W/n$i.err" &
  eval "PID$i=$!"; PIDS="$PIDS $!"
done
echo "== three replicas on loopback: 1 primary (64 MiB sim guest), 2 backup (running guest), 3 witness"
end=$(( $(date +%s) + 60 ))
until st 2 | grep -q '^guest .*synced=yes'; do
  [ "$(date +%s)" -ge "$end" ] && { echo "demo: the backup never synced"; tail "$W"/n*.log "$W"/n*.err; exit 1; }
  sleep 0.2
done
echo "== backup holds the primary's state (full sync done); verify mode compares all memory after every sync"
echo "== client: $SECS s of writes and reads, 8 in flight, reconnects on failure, checks every acknowledged write"
"$BIN/vsmr-client" --servers "127.0.0.1:$((port + 3)),127.0.0.1:$((port + 4))" \
  --seconds "$SECS" --window 8 --keys 2000 --value-size 200 --report-ms 2000 \
  --verify-at-end --timeout-ms 1500 > "$W/client.out" 2>&1 &
CPID=$!

epoch_line() {  # epoch_line NODE LABEL
  s=$(st "$1") || return
  l=$(echo "$s" | grep '^last_epoch ')
  sl=$(echo "$s" | grep '^sync ')
  printf '   %-8s epoch %-6s dirty %-5s union %-5s divergent %-4s sent %6s KiB (raw %6s)  pause %6s ms  (epochs %s, aborted %s)\n' \
    "$2" "$(echo "$l" | val epoch)" "$(echo "$l" | val dirty_local)" "$(echo "$l" | val union)" \
    "$(echo "$l" | val divergent)" "$(( $(echo "$l" | val bytes_sent) / 1024 ))" \
    "$(( $(echo "$l" | val bytes_raw) / 1024 ))" \
    "$(echo "$l" | val ms_paused)" "$(echo "$sl" | val committed_epoch)" "$(echo "$sl" | val aborted)"
}

killed=0 t=0
while kill -0 "$CPID" 2>/dev/null; do
  sleep 1; t=$((t + 1))
  if [ "$killed" = 0 ]; then
    epoch_line 1 primary
    if [ "$t" -ge $((SECS / 2)) ]; then
      P1=$(st 1 | grep '^sync ' | val bytes_sent); R1=$(st 1 | grep '^sync ' | val bytes_raw)
      grep 'event=epoch_committed' "$W/n1.log" | val dirty_local > "$W/dirty1"
      kill -9 "$PID1"; killed=1
      echo "== kill -9 of the primary at t=${t}s"
    fi
  else
    s=$(st 2)
    echo "   backup  : role $(echo "$s" | head -n1 | val role), promoted $(echo "$s" | grep '^guest ' | val promoted), serving $(echo "$s" | grep '^service ' | val responses) responses"
  fi
done
wait "$CPID"; crc=$?
echo "== client output (tail):"
grep -v '^client: summary' "$W/client.out" | tail -n 6 | sed 's/^/   /'
sum=$(grep '^client: summary' "$W/client.out")
[ -n "$sum" ] || { echo "demo: no client summary"; cat "$W/client.out"; exit 1; }
dirty_pages=$(awk '{s+=$1} END {print s+0}' "$W/dirty1")
echo "== summary"
echo "   requests $(echo "$sum" | val requests), acknowledged $(echo "$sum" | val acknowledged), unknown (in flight at the kill) $(echo "$sum" | val unknown), lost $(echo "$sum" | val lost), contradicted $(echo "$sum" | val contradicted), reconnects $(echo "$sum" | val reconnects)"
echo "   sync bytes the primary sent before it died: VSMR $((P1 / 1024)) KiB ($((R1 / 1024)) KiB before zstd); Remus mode would have sent every dirty page: $((dirty_pages * 4)) KiB before compression ($(echo "scale=1; $dirty_pages * 4096 / ($R1 + 1)" | bc)x VSMR's before zstd, $(echo "scale=1; $dirty_pages * 4096 / ($P1 + 1)" | bc)x what it sent)"
echo "   the backup took over: $(grep -c 'event=promoted' "$W/n2.log" | sed 's/^[1-9].*/yes/;s/^0$/NO/')"
[ "$crc" = 0 ] && echo "== demo passed: nothing acknowledged was lost" || { echo "== demo FAILED (client exit $crc)"; exit 1; }
