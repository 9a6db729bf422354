#!/bin/bash
# compare.sh - runs in the lab's dom0 (make compare): the same PVH guest
# and the same client workload, one after the other in one boot:
# unprotected, under `xl remus -F -n` (Debian's Remus: no network
# buffering, so its clients see answers before they are replicated),
# under VSMR (three vsmrd on this host: primary, a running backup domain,
# a witness) and under vsmrd's Remus mode (the same engine, every dirty
# page sent, outputs buffered: the Remus a fair comparison wants). Prints throughput and latency (vsmr-lineload: CONNS
# connections, DEPTH requests outstanding on each), the guest's own stalls
# (vsmr-guestd's ticker), syncs, and the bytes that crossed the
# replication link — counted by the kernel (iptables byte counters on the
# link's TCP port), not by either tool — with the ratios VSMR/Remus.
# Emulated (QEMU TCG) figures, one host: both replicas share its CPUs.
. /vsmrlab/lib.sh
CONNS=${CONNS:-8}; SECONDS_RUN=${SECONDS_RUN:-30}
DEPTH=${DEPTH:-1}                 # requests outstanding per connection
INTERVAL_MS=${INTERVAL_MS:-100}   # Remus checkpoint = VSMR sync interval
RATE=${RATE:-256}                 # pages the guest rewrites every 100 ms
PHASES=${PHASES:-unprotected,remus,vsmr,vsmr-remus}   # a subset, to look at one mode
BACKUP_WAIT_MS=${BACKUP_WAIT_MS:-}   # the vsmr phase's sync_backup_wait_ms (default: vsmrd's)
runs() { case ",$PHASES," in *",$1,"*) return 0;; esac; return 1; }
REMUS_PORT=7200
trap 'cp "$VW"/*.log /tmp/remus.log /vsmrlab/out/ 2>/dev/null' EXIT
note() { echo "$(el) $*"; }
row() { echo "COMPARE $*"; }
# The emulator sometimes triple-faults a PVH guest (docs/lab.md): a phase
# in which that happened measured a dead guest, and says so.
tf_count() { xl dmesg | grep -c "Triple fault"; }
gapf() { tr ' ' '\n' | sed -n "s/^$1=//p"; }
lf() { tr ' ' '\n' | sed -n "s/^$1=//p"; }

sed 's/^name = .*/name = "guestA"/' /etc/xen/guest1.cfg > /tmp/A.cfg
sed -e 's/^name = .*/name = "guestB"/' -e 's/xenbr0/xenbr1/' /etc/xen/guest1.cfg > /tmp/B.cfg
brctl addbr xenbr1; brctl setfd xenbr1 0; ip link set xenbr1 up
destroy_all() { for d in $(xl list | awk 'NR > 2 {print $1}'); do xl destroy "$d"; done; sleep 2; }
start_a() {
  rm -f "$CON/guest-guestA.log"
  timeout 120 xl create /tmp/A.cfg && wait_console guestA "VSMR-GUESTD listening" 240 || return 1
  for _ in $(seq 1 30); do [ -n "$(ask PING)" ] && { ask "DIRTY $RATE" > /dev/null; return 0; }; sleep 1; done
  return 1
}

# Byte counters on the replication link's port (both directions on lo).
count_port() {   # count_port PORT: installs the counting rules (once)
  local d; for d in --dport --sport; do
    iptables -C OUTPUT -o lo -p tcp $d "$1" -j ACCEPT 2>/dev/null ||
      iptables -I OUTPUT -o lo -p tcp $d "$1" -j ACCEPT
  done
}
port_bytes() {   # port_bytes PORT: bytes so far through both rules
  iptables -L OUTPUT -v -x -n | awk -v p="$1" '$0 ~ "[sd]pt:" p "$" {s += $2} END {print s + 0}'
}

# phase MODE: runs the workload, prints one COMPARE row
phase() {
  local mode=$1 port=${2:-} b0=0 b1=0 s0=${3:-0} s1 out tf0
  tf0=$(tf_count)
  [ -n "$port" ] && b0=$(port_bytes "$port")
  ask GAPS > /dev/null
  out=$(vsmr-lineload 10.10.0.2 7777 "$CONNS" "$SECONDS_RUN" INC "$DEPTH")
  local g; g=$(ask GAPS)
  [ -n "$port" ] && b1=$(port_bytes "$port")
  s1=$(syncs_now "$mode")
  note "$mode: $out"
  note "$mode: $g"
  [ "$(tf_count)" -gt "$tf0" ] && echo "COMPARE-INVALID $mode: the emulator triple-faulted a guest during this phase"
  row "$mode $(echo "$out" | lf per_s) $(echo "$out" | lf p50_ms) $(echo "$out" | lf p99_ms) $(echo "$out" | lf not_increasing) $((b1 - b0)) $((s1 - s0)) $(echo "$g" | gapf n) $(echo "$g" | gapf p50_ms) $(echo "$g" | gapf max_ms)"
}
syncs_now() {
  case $1 in
    remus) grep -c -i 'checkpoint' /tmp/remus.log 2>/dev/null || echo 0;;
    vsmr*) vsmr_field 1 sync epochs || echo 0;;
    *) echo 0;;
  esac
}

row "mode answers_per_s p50_ms p99_ms not_increasing link_bytes syncs guest_stalls stall_p50_ms stall_max_ms"

# 1. unprotected
start_a || { echo "guestA did not come up"; exit 1; }
runs unprotected && phase unprotected

# 2. Remus: its stream goes over TCP on lo (port REMUS_PORT) so the kernel
# counts it; the "ssh" starts the receiving xl on this host.
if runs remus; then
cat > /tmp/netssh <<EOF
#!/bin/bash
shift   # the host; the rest is the command xl wants run there
rm -f /tmp/remus.fifo; mkfifo /tmp/remus.fifo
nc -l 127.0.0.1 $REMUS_PORT < /tmp/remus.fifo | sh -c "\$*" > /tmp/remus.fifo &
for _ in \$(seq 1 100); do ss -ltn | grep -q ":$REMUS_PORT " && break; sleep 0.1; done
exec nc 127.0.0.1 $REMUS_PORT
EOF
chmod +x /tmp/netssh
count_port $REMUS_PORT
note "xl remus -F -n -d -i $INTERVAL_MS (Debian's Remus: no network buffering)"
xl -vv remus -F -n -d -i "$INTERVAL_MS" -s /tmp/netssh guestA localhost > /tmp/remus.log 2>&1 &
RP=$!
for _ in $(seq 1 180); do [ "$(grep -c -i 'checkpoint' /tmp/remus.log)" -ge 5 ] && break; sleep 1; done
phase remus $REMUS_PORT "$(syncs_now remus)"
kill "$RP" 2>/dev/null; wait "$RP" 2>/dev/null
fi
destroy_all

# 3. VSMR phases, each on a fresh A with B made from it by the migration
# stream and three vsmrd: `vsmr` (the defaults), `vsmr-nowait` (the
# primary's next sync does not wait for the backup's devices:
# sync_backup_wait_ms = 0), `vsmr-remus` (sync_mode = remus: Remus's
# algorithm on the same engine and link, B paused, every dirty page sent,
# outputs buffered as Debian's Remus cannot).
epoch_medians() {   # epoch_medians LOG FROM_LINE: per-epoch medians after that line
  local k; for k in ms_paused ms_await_peer divergent bytes_sent; do
    printf '%s=%s ' "$k" "$(tail -n +"$2" "$1" | grep 'event=epoch_committed' | tr ' ' '\n' |
      sed -n "s/^$k=//p" | sort -n | awk '{v[NR] = $1} END {print NR ? v[int((NR + 1) / 2)] : "-"}')"
  done; echo
}
make_b() { timeout 300 xl save -c guestA /tmp/a.chk && timeout 300 xl restore /tmp/B.cfg /tmp/a.chk; }
vsmr_phase() {   # vsmr_phase NAME EXTRA_CONF_LINES
  start_a || { echo "guestA did not come up"; exit 1; }
  make_b || { echo "could not make B from A"; exit 1; }
  rm -f /tmp/a.chk
  local a b; a=$(domid guestA); b=$(domid guestB)
  count_port 7102
  rm -f "$VW"/vsmrd*.log          # each phase's own logs (vsmrd appends)
  vsmr_start "$a" "$b" "$(printf 'sync_min_ms = %s\nsync_max_ms = %s\n%s' "$INTERVAL_MS" "$INTERVAL_MS" "$2")"
  note "$1: vsmrd with: $(echo "$2" | tr '\n' ' ')"
  if vsmr_wait_protecting 180; then
    local u0 l0; u0=$(grep -c 'event=unprotected' "$VW/vsmrd1.log")
    l0=$(wc -l < "$VW/vsmrd1.log")
    phase "$1" 7102 "$(syncs_now vsmr)"
    note "$1: primary's epochs in the phase, medians: $(epoch_medians "$VW/vsmrd1.log" "$l0")"
    vsmr_st 1 | grep -E '^(guest|sync|last_epoch|network) '
    # A primary without its backup releases outputs at once: that phase
    # measured an unprotected guest, not VSMR.
    [ "$(grep -c 'event=unprotected' "$VW/vsmrd1.log")" -gt "$u0" ] &&
      echo "COMPARE-INVALID $1: the primary lost its backup and ran unprotected (outputs not buffered): $(grep -h -o 'reason=.*' "$VW"/vsmrd2.log | grep -v 'closed by peer\|Broken pipe' | tail -1)"
    note "$1: aborted epochs $(vsmr_field 1 sync aborted)"
  else
    row "$1 - - - - - - - - -"
    echo "$1: VSMR did not reach the protected state"
  fi
  vsmr_stop
  grep -h -E 'level=(warn|error)' "$VW"/vsmrd*.log | head -10
  mkdir -p "/vsmrlab/out/$1"; cp "$VW"/*.log "/vsmrlab/out/$1/" 2>/dev/null
  destroy_all
}
runs vsmr && vsmr_phase vsmr "${BACKUP_WAIT_MS:+sync_backup_wait_ms = $BACKUP_WAIT_MS}"
runs vsmr-nowait && vsmr_phase vsmr-nowait "sync_backup_wait_ms = 0"
runs vsmr-remus && vsmr_phase vsmr-remus "sync_mode = remus"

exit 0
