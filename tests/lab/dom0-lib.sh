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
# --- three vsmrd on this host's loopback (primary 7101, backup 7102,
# witness 7103), files under $VW; the primary-backup link is port 7102.
VW=${VW:-/tmp/vsmr}
vsmr_conf() {   # vsmr_conf ID ROLE [DOMAIN VIF] [EXTRA_LINES]
  printf 'id = %s\npeer.1 = 127.0.0.1:7101 primary\npeer.2 = 127.0.0.1:7102 backup\npeer.3 = 127.0.0.1:7103 witness\n' "$1"
  printf 'key_file = %s/key\ncontrol = %s/ctl%s.sock\ndata_dir = %s/data%s\nlog_file = %s/vsmrd%s.log\n' "$VW" "$VW" "$1" "$VW" "$1" "$VW" "$1"
  [ -n "${3:-}" ] && printf 'guest = xen:%s\nguest_vif = %s\n' "$3" "$4"
  # A sync runs on vsmrd's loop, and under emulation a full one (all
  # memory compared) stops it for seconds: the election and connection
  # timeouts must outlast that, or every long sync aborts and restarts.
  echo "election_ticks = 1000"; echo "idle_timeout_ms = 20000"
  [ -n "${5:-}" ] && printf '%s\n' "$5"
  return 0
}
vsmr_start() {   # vsmr_start DOMAIN_A DOMAIN_B [EXTRA_LINES]: sets VP1 VP2 VP3
  mkdir -p "$VW"; rm -rf "$VW"/data*
  [ -f "$VW/key" ] || { head -c 32 /dev/urandom > "$VW/key"; chmod 600 "$VW/key"; }
  vsmr_conf 1 primary "$1" "vif$1.0" "${3:-}" > "$VW/1.conf"
  vsmr_conf 2 backup "$2" "vif$2.0" "${3:-}" > "$VW/2.conf"
  vsmr_conf 3 witness > "$VW/3.conf"
  vsmrd --config "$VW/1.conf" --bootstrap & VP1=$!
  vsmrd --config "$VW/2.conf" --bootstrap & VP2=$!
  vsmrd --config "$VW/3.conf" --bootstrap & VP3=$!
}
vsmr_stop() { kill -TERM $VP1 $VP2 $VP3 2>/dev/null; wait $VP1 $VP2 $VP3 2>/dev/null; }
vsmr_st() { vsmrctl -s "$VW/ctl$1.sock" status 2>&1; }
vsmr_field() { vsmr_st "$1" | grep "^$2 " | tr ' ' '\n' | sed -n "s/^$3=//p"; }  # NODE LINE KEY
vsmr_protecting() { [ "$(vsmr_field 2 guest synced)" = yes ] && [ "$(vsmr_field 1 guest protected)" = yes ]; }
vsmr_wait_protecting() {   # vsmr_wait_protecting SECONDS
  for _ in $(seq 1 "$1"); do vsmr_protecting && return 0; sleep 1; done
  vsmr_st 1; vsmr_st 2; tail -20 "$VW/vsmrd1.log"; return 1
}
