#!/bin/sh
# diag_log_syscalls.sh - a DIAGNOSTIC for bench_log.sh, not a benchmark
# (make bench does not run it): the system calls per commit of the leader
# and of the backup, counted with strace -c during `vsmrctl bench N 64 1`
# (one proposal outstanding, 64-byte entries, encryption on, lazy witness
# on, data on tmpfs unless VSMR_BENCH_DIR says otherwise), against the
# plain ping-pong's two (a write and a read on each side). strace slows
# every call down, so only the counts mean anything here, not the times.
# Needs strace.
N=${N:-3000}
LOOPBACK_NAME=diag_sys
LOOPBACK_DIR=${VSMR_BENCH_DIR:-/dev/shm}
LOOPBACK_PORT=$((18800 + $$ % 500 * 3))
. "$(dirname "$0")/lib_loopback.sh"
command -v strace >/dev/null || { echo "diag_log_syscalls: needs strace"; exit 1; }
start_cluster on "${LAZY:-on}"
set -- $PIDS
ctl bench 2000 64 1 >/dev/null || exit 1
strace -c -f -o "$W/leader.st" -p "$1" & S1=$!
strace -c -f -o "$W/backup.st" -p "$2" & S2=$!
sleep 1
ctl bench "$N" 64 1 >/dev/null || exit 1
kill -INT $S1 $S2; wait $S1 $S2 2>/dev/null
echo "# system calls per commit, $N commits of 64 B, lazy_witness ${LAZY:-on}, data on $LOOPBACK_DIR"
for side in leader backup; do
  # strace -c rows: % time, seconds, usecs/call, calls, [errors,] name
  awk -v n="$N" -v side="$side" '
    $NF ~ /^[a-z_0-9]+$/ && $4 ~ /^[0-9]+$/ && $NF != "total" {
      c[$NF] = $4; t += $4 }
    END { printf "%-7s total %.2f:", side, t / n
          for (k in c) if (c[k] / n >= 0.01) printf " %s %.2f", k, c[k] / n
          printf "\n" }' "$W/$side.st"
done
