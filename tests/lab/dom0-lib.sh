# dom0-lib.sh - sourced by the lab's test scripts in dom0 (run.sh puts it
# in the share as /vsmrlab/lib.sh): Xen's tools on PATH, elapsed time,
# LAB-CHECK lines, and waiting on a domain's console or name.
export PATH=$PATH:/usr/lib/xen-4.17/bin
CON=/var/log/xen/console
T0=$(date +%s)
fails=0
el() { echo "[t+$(( $(date +%s) - T0 ))s]"; }
lab_check() {   # lab_check NAME CMD... : one LAB-CHECK line per claim
  local n=$1; shift
  if "$@"; then echo "LAB-CHECK $n PASS"; else echo "LAB-CHECK $n FAIL"; fails=$((fails + 1)); fi
}
wait_console() {   # wait_console DOMNAME TEXT TIMEOUT
  for _ in $(seq 1 "$3"); do grep -q "$2" "$CON/guest-$1.log" 2>/dev/null && return 0; sleep 1; done
  echo "no '$2' on $1's console after $3 s:"; tail -20 "$CON/guest-$1.log" 2>/dev/null; return 1
}
ask() {   # ask REQUEST [HOST]: one line to vsmr-guestd, its one-line answer
  echo "$1" | timeout 10 nc -q 3 "${2:-10.10.0.2}" 7777 2>/dev/null | head -1
}
domid() {   # domid NAME: waits for the name to settle (xl restore renames)
  local d; for _ in $(seq 1 60); do d=$(xl domid "$1" 2>/dev/null) && [ -n "$d" ] && { echo "$d"; return 0; }; sleep 0.5; done; return 1
}
