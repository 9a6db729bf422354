#!/bin/bash
# bench_pause.sh - runs in the lab's dom0 (make lab-bench): how long the
# protected guest stops per sync, for a known number of dirty pages, under
# VSMR's sync (vsmr-xen-statecopy, a running backup B on the same host)
# with 1 and 2 hashing threads, and under `xl remus -F -n` checkpoints of
# the same guest. Two measures: the tool's own (A stopped, VSMR only) and
# the guest's (vsmr-guestd's ticker: 10 ms sleeps that overran by 20 ms or
# more), which counts Remus and VSMR alike. Emulated (QEMU TCG) figures.
. /vsmrlab/lib.sh
RATES=${RATES:-"0 1024 4096"}   # working set: pages the guest rewrites every 100 ms
RATES=${RATES//,/ }             # (commas allowed: run.sh --env splits on spaces)
SYNCS=${SYNCS:-8}
INTERVAL_MS=${INTERVAL_MS:-200}
note() { echo "$(el) $*"; }
gapf() { tr ' ' '\n' | sed -n "s/^$1=//p"; }   # gapf FIELD < "GAPS ..."
median() { sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "-"}'; }
result() { echo "PAUSE-BENCH $*"; }

sed 's/^name = .*/name = "guestA"/' /etc/xen/guest1.cfg > /tmp/A.cfg
sed -e 's/^name = .*/name = "guestB"/' -e 's/xenbr0/xenbr1/' /etc/xen/guest1.cfg > /tmp/B.cfg
brctl addbr xenbr1; brctl setfd xenbr1 0; ip link set xenbr1 up
start_a() {
  timeout 120 xl create /tmp/A.cfg && wait_console guestA "VSMR-GUESTD listening" 240 \
    || { echo "guestA did not come up"; exit 1; }
  for _ in $(seq 1 30); do [ -n "$(ask PING)" ] && return 0; sleep 1; done
  echo "guestA does not answer"; exit 1
}
gaps_row() {  # gaps_row MODE RATE SYNCS DIRTY DIVERGED STOPPED HASHCOPY < GAPS
  local g; g=$(cat)
  result "$1 $2 $3 $4 $5 $6 $7 $(echo "$g" | gapf n) $(echo "$g" | gapf p50_ms) $(echo "$g" | gapf max_ms) $(echo "$g" | gapf over_s)"
}

# one row per (mode, rate): syncs or checkpoints in the phase, dirty pages
# per sync, divergent pages, A stopped (tool, median), hash+copy (median),
# then the guest's own view of the phase: stalls, their median and max
echo "PAUSE-BENCH mode wset_pages syncs dirtyA_med diverged_med A_stopped_med_ms hash+copy_med_ms guest_stalls stall_p50_ms stall_max_ms seconds"
start_a

# 1. Remus first (a VSMR phase that went wrong must not cost the baseline).
# Debian's libxl has no network buffering (-n), no disk (-d); checkpoints
# every INTERVAL_MS into a backup domain on this host.
printf '#!/bin/sh\nshift\nexec sh -c "$*"\n' > /tmp/fakessh; chmod +x /tmp/fakessh
note "xl remus -F -n -d -i $INTERVAL_MS (Debian's Remus: no network buffering)"
xl -vv remus -F -n -d -i "$INTERVAL_MS" -s /tmp/fakessh guestA localhost > /tmp/remus.log 2>&1 &
RP=$!
for _ in $(seq 1 120); do [ "$(grep -c -i 'checkpoint' /tmp/remus.log)" -ge 5 ] && break; sleep 1; done
for rate in $RATES; do
  ask "DIRTY $rate" >/dev/null; sleep 3
  ask GAPS >/dev/null; c0=$(grep -c -i 'checkpoint' /tmp/remus.log); sleep 12
  c1=$(grep -c -i 'checkpoint' /tmp/remus.log)
  ask GAPS | gaps_row remus "$rate" "$((c1 - c0))" - - - -
done
kill "$RP" 2>/dev/null; wait "$RP" 2>/dev/null
grep -v progress /tmp/remus.log | tail -5
for d in $(xl list | awk 'NR > 2 {print $1}'); do xl destroy "$d"; done
sleep 2; xl list

# 2. VSMR: a fresh A, and B made from it by the migration stream
start_a
A=$(domid guestA)
timeout 300 xl save -c guestA /tmp/a.chk && timeout 300 xl restore /tmp/B.cfg /tmp/a.chk \
  || { echo "could not make B from A"; exit 1; }
rm -f /tmp/a.chk
B=$(domid guestB)
note "A=$A B=$B"; xl list
for rate in $RATES; do
  ask "DIRTY $rate" >/dev/null; sleep 2
  ask GAPS >/dev/null; sleep 10
  ask GAPS | gaps_row unprotected "$rate" - - - - -
  for th in 1 2; do
    ask GAPS >/dev/null
    timeout 300 vsmr-xen-statecopy "$A" "$B" --syncs "$SYNCS" --interval-ms "$INTERVAL_MS" \
      --hash-threads "$th" > /tmp/sc.log 2>&1 || { echo "statecopy failed:"; tail -5 /tmp/sc.log; fails=$((fails + 1)); }
    # skip sync 1: it compares all memory (B was made before log-dirty)
    s=$(grep '^SYNC ' /tmp/sc.log | awk '$2 > 1')
    echo "$s" | sed "s/^/  vsmr-${th}thr wset $rate: /" | cut -c1-220
    dA=$(echo "$s" | sed -n 's/.*dirtyA=\([0-9]*\).*/\1/p' | median)
    dv=$(echo "$s" | sed -n 's/.*diverged=\([0-9]*\).*/\1/p' | median)
    st=$(echo "$s" | sed -n 's/.*A_stopped=\([0-9.]*\)ms.*/\1/p' | median)
    hc=$(echo "$s" | sed -n 's/.*hash+copy \([0-9.]*\).*/\1/p' | median)
    ask GAPS | gaps_row "vsmr-${th}thr" "$rate" "$(echo "$s" | grep -c .)" "$dA" "$dv" "$st" "$hc"
    [ -n "$(ask PING)" ] || { echo "guestA no longer answers"; xl list; xl dmesg | grep -i fault | tail -3; exit 1; }
  done
done
xl list
note "pause bench done: $fails failure(s)"
[ $fails = 0 ]
