#!/bin/bash
# wip_tfstress.sh - runs in the lab's dom0 (VSMR_LAB_TESTS=tfstress make
# lab-check): a reproducer for the emulator's PVH triple faults. One guest
# rewrites RATE pages every 100 ms while `xl remus -F -n` checkpoints it
# into a backup on this host every INTERVAL_MS, for ROUNDS rounds of
# SECONDS_PER seconds each (a new guest after a fault). Prints one
# TF-STRESS line per round and a total; CFG_EXTRA (";"-separated lines)
# goes into the guest's config, to try variants (e.g. tsc_mode).
. /vsmrlab/lib.sh
RATE=${RATE:-1024}; INTERVAL_MS=${INTERVAL_MS:-100}
ROUNDS=${ROUNDS:-4}; SECONDS_PER=${SECONDS_PER:-60}
sed 's/^name = .*/name = "guestA"/' /etc/xen/guest1.cfg > /tmp/A.cfg
echo "${CFG_EXTRA:-}" | tr ';' '\n' >> /tmp/A.cfg
echo "guest config:"; cat /tmp/A.cfg
printf '#!/bin/sh\nshift\nexec sh -c "$*"\n' > /tmp/fakessh; chmod +x /tmp/fakessh
cleanup() { for d in $(xl list | awk 'NR > 2 {print $1}'); do xl destroy "$d"; done; sleep 2; }
total_cp=0; total_tf=0
for round in $(seq 1 "$ROUNDS"); do
  cleanup   # Remus's backup may have taken the name after a fault
  rm -f "$CON/guest-guestA.log"
  timeout 120 xl create /tmp/A.cfg && wait_console guestA "VSMR-GUESTD listening" 240 \
    || { echo "guestA did not come up"; xl list; continue; }
  for _ in $(seq 1 30); do [ -n "$(ask PING)" ] && break; sleep 1; done
  ask "DIRTY $RATE" >/dev/null
  tf0=$(xl dmesg | grep -c "Triple fault")
  xl remus -F -n -d -i "$INTERVAL_MS" -s /tmp/fakessh guestA localhost > /tmp/remus.log 2>&1 &
  rp=$!
  for _ in $(seq 1 "$SECONDS_PER"); do
    sleep 1
    [ "$(xl dmesg | grep -c "Triple fault")" -gt "$tf0" ] && break
  done
  kill "$rp" 2>/dev/null; wait "$rp" 2>/dev/null
  cp=$(grep -c -i 'checkpoint' /tmp/remus.log)
  tf=$(( $(xl dmesg | grep -c "Triple fault") - tf0 ))
  echo "TF-STRESS round=$round checkpoints=$cp triple_faults=$tf $(el)"
  total_cp=$((total_cp + cp)); total_tf=$((total_tf + tf))
  cleanup
done
echo "TF-STRESS total checkpoints=$total_cp triple_faults=$total_tf cfg_extra='${CFG_EXTRA:-}' tcg=${QEMU_TCG_THREAD:-multi}"
xl dmesg | grep -A3 "Triple fault" | grep -E "RIP|Triple" | head -20
exit 0
