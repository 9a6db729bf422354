#!/bin/sh
# diag_log_cpu.sh - a DIAGNOSTIC for bench_log.sh, not a benchmark (make
# bench does not run it): where the commit latency of three replicas on a
# small machine goes. Starts the same three vsmrd as bench_log.sh (64-byte
# entries, encryption on, data on tmpfs) and, each against the plain TCP
# ping-pong measured right before it, reports commit p50/p99 when
#   free     the kernel places the three processes (what bench_log.sh sees)
#   pinned   leader+witness share cpu 0, the backup has cpu 1 (taskset)
#   2procs   the witness is stopped: two processes for two cores; commits
#            still need a majority of 3 (leader + backup)
# plus, for "free", CPU time and context switches per commit in each
# process (from /proc), and the bare TCP pattern of a commit with no
# persistence, crypto or consensus (bench/diag_tcp_fanout.c: one process
# writes to two, waits for the first answer and for both). Pinning and
# stopping the witness change the layout, so those lines only explain the
# "free" figure; they are not results. LAZY=off turns vsmrd's lazy_witness
# off (default on, as vsmrd). Needs taskset, cc, 2 cores.
N=${N:-5000}
LOOPBACK_NAME=diag
LOOPBACK_DIR=/dev/shm
LOOPBACK_PORT=$((18300 + $$ % 500 * 3))
. "$(dirname "$0")/lib_loopback.sh"
start_cluster on "${LAZY:-on}"
set -- $PIDS
L=$1 B=$2 WIT=$3
ctl bench 2000 64 1 >/dev/null || exit 1

# usage per process: ns on a cpu (schedstat) and context switches
usage() { for p in "$@"; do
  printf '%s %s %s\n' "$(awk '{print $1}' /proc/$p/schedstat)" \
    "$(sed -n 's/^voluntary_ctxt_switches:[[:space:]]*//p' /proc/$p/status)" \
    "$(sed -n 's/^nonvoluntary_ctxt_switches:[[:space:]]*//p' /proc/$p/status)"
done; }

run() {  # run LABEL PID...
  label=$1; shift
  rtt=$("$VSMR_BIN/vsmrctl" tcp-rtt 20000 64 | val p50_us)
  usage "$@" > "$W/u0"
  lat=$(ctl bench "$N" 64 1) || { echo "bench failed: $lat"; exit 1; }
  usage "$@" > "$W/u1"
  p50=$(echo "$lat" | val p50_us); p99=$(echo "$lat" | val p99_us)
  printf '%-7s tcp_rtt_p50=%sus commit_p50=%sus commit_p99=%sus ratio=%s\n' \
    "$label" "$rtt" "$p50" "$p99" \
    "$(awk -v a="$p50" -v b="$rtt" 'BEGIN { printf "%.2f", a / b }')"
}

echo "# diagnostic, not a result: $(nproc) cores, $N commits of 64 B per line, lazy_witness ${LAZY:-on}"
${CC:-cc} -O2 -Wall -o "$W/fanout" bench/diag_tcp_fanout.c || exit 1
rtt=$("$VSMR_BIN/vsmrctl" tcp-rtt 20000 64 | val p50_us)
fan=$("$W/fanout" 20000 64 $((port + 3))) || exit 1
printf 'tcp     tcp_rtt_p50=%sus fanout_%s ratio_first=%s\n' "$rtt" \
  "$(echo "$fan" | sed 's/ / fanout_/')" "$(awk -v a="$(echo "$fan" | val first_p50_us)" \
  -v b="$rtt" 'BEGIN { printf "%.2f", a / b }')"
run free $L $B $WIT
paste "$W/u0" "$W/u1" | awk -v n="$N" '
  { name = NR == 1 ? "leader" : NR == 2 ? "backup" : "witness"
    printf "        %-7s cpu %.1fus/commit  switches/commit voluntary %.2f involuntary %.2f\n",
      name, ($4 - $1) / 1e3 / n, ($5 - $2) / n, ($6 - $3) / n }'
taskset -pc 0 $L >/dev/null && taskset -pc 0 $WIT >/dev/null &&
  taskset -pc 1 $B >/dev/null && run pinned $L $B $WIT
taskset -pc 0-$(($(nproc) - 1)) $L >/dev/null
taskset -pc 0-$(($(nproc) - 1)) $B >/dev/null
kill $WIT; wait $WIT 2>/dev/null
sleep 0.3
run 2procs $L $B
