#!/bin/bash
# wip_vsmrd_xen.sh - runs in the lab's dom0 (VSMR_LAB_TESTS=vsmrd_xen make
# lab-check): vsmrd protecting a real PVH domU's network on one host.
# Primary guestA (xenbr0, the client's side) and backup guestB (a copy
# made by the migration stream, on the isolated xenbr1) are driven by two
# vsmrd with a witness, all in this dom0 on loopback. Checks: the client's
# frames reach A only through the log (captured, committed, injected) and
# A's answers leave only after a sync committed; a client's one TCP
# connection gets every answer right; B receives the same inputs; a clean
# stop leaves A answering directly, unprotected. Not yet: B's devices
# across syncs (the engine pauses B; docs/xen-device-state.md) and
# failover.
. /vsmrlab/lib.sh
W=/tmp/vsmr; mkdir -p $W
note() { echo "$(el) $*"; }
st() { vsmrctl -s $W/ctl$1.sock status 2>&1; }
field() { st "$1" | grep "^$2 " | tr ' ' '\n' | sed -n "s/^$3=//p"; }   # field NODE LINE KEY

brctl addbr xenbr1; brctl setfd xenbr1 0; ip link set xenbr1 up
sed 's/^name = .*/name = "guestA"/' /etc/xen/guest1.cfg > /tmp/A.cfg
sed -e 's/^name = .*/name = "guestB"/' -e 's/xenbr0/xenbr1/' /etc/xen/guest1.cfg > /tmp/B.cfg
lab_check A-created timeout 120 xl create /tmp/A.cfg
lab_check A-service-up wait_console guestA "VSMR-GUESTD listening" 240
answers() { for _ in $(seq 1 20); do [ -n "$(ask PING)" ] && return 0; sleep 1; done; return 1; }
lab_check A-answers-unprotected answers
make_b() { timeout 300 xl save -c guestA /tmp/a.chk && timeout 300 xl restore /tmp/B.cfg /tmp/a.chk; }
lab_check B-made-from-A make_b
rm -f /tmp/a.chk
A=$(domid guestA); B=$(domid guestB)
note "A=$A (vif$A.0) B=$B (vif$B.0)"

head -c 32 /dev/urandom > $W/key; chmod 600 $W/key
conf() {   # conf ID ROLE [GUEST VIF]
  cat <<EOC
id = $1
peer.1 = 127.0.0.1:7101 primary
peer.2 = 127.0.0.1:7102 backup
peer.3 = 127.0.0.1:7103 witness
key_file = $W/key
control = $W/ctl$1.sock
data_dir = $W/data$1
log_file = $W/vsmrd$1.log
sync_max_ms = 200
EOC
  [ -n "${3:-}" ] && printf 'guest = xen:%s\nguest_vif = %s\n' "$3" "$4"
}
conf 1 primary "$A" "vif$A.0" > $W/1.conf
conf 2 backup "$B" "vif$B.0" > $W/2.conf
conf 3 witness > $W/3.conf
for i in 1 2 3; do vsmrd --config $W/$i.conf --bootstrap & eval "P$i=$!"; done
up() { [ "$(field 2 guest synced)" = yes ] && [ "$(field 1 guest protected)" = yes ]; }
wait_up() { for _ in $(seq 1 120); do up && return 0; sleep 1; done; st 1; st 2; tail -20 $W/vsmrd1.log; return 1; }
lab_check replicas-protecting wait_up
note "primary: $(st 1 | grep -E '^(guest|sync|network) ' | tr '\n' ' ')"

# --- the client: one TCP connection, INC 50 times, each answer previous + 1
client() {
  exec 3<>/dev/tcp/10.10.0.2/7777 || { echo "client cannot connect"; return 1; }
  local prev="" v
  for i in $(seq 1 50); do
    echo INC >&3
    read -t 30 -r v <&3 || { echo "client: no answer to request $i"; return 1; }
    v=${v%$'\r'}
    if [ -n "$prev" ] && [ "$v" != $((prev + 1)) ]; then echo "client: $v after $prev"; return 1; fi
    prev=$v
  done
  exec 3<&-
  echo "client: 50 answers, last $prev"
}
cap0=$(field 1 network captured)
t0=$(date +%s.%N)
lab_check client-one-connection-50-answers client
t1=$(date +%s.%N)
note "client took $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b - a}') s"
st 1 | grep -E '^(guest|sync|last_epoch|network) '
st 2 | grep -E '^(guest|sync|network) '
inputs_logged() { [ "$(field 1 network proposed_entries)" -gt 0 ] && [ "$(field 1 network captured)" -gt "$cap0" ]; }
lab_check inputs-went-through-the-log inputs_logged
b_fed() { [ "$(field 2 network injected)" -gt 0 ] && [ "$(field 2 guest inputs_fed)" -gt 0 ]; }
lab_check backup-got-the-same-inputs b_fed
synced() { [ "$(field 1 sync committed_epoch)" -gt 1 ]; }
lab_check syncs-committed synced

# --- outputs wait for the sync: with the backup stopped, the primary cannot
# commit an epoch and holds A's answers until the witness confirms it may
# go on unprotected (the marker), so a PING takes at least that long.
kill -STOP $P2
sleep 1
ts=$(date +%s.%N); r=$(ask PING); te=$(date +%s.%N)
note "PING with the backup stopped: '$r' after $(awk -v a="$ts" -v b="$te" 'BEGIN{printf "%.1f", b - a}') s; primary: $(st 1 | grep '^guest ')"
kill -CONT $P2

# --- clean stop: hooks removed, A answers directly, never left paused
kill -TERM $P1 $P2 $P3; wait $P1 $P2 $P3 2>/dev/null
lab_check hooks-removed bash -c "! tc qdisc show dev vif$A.0 | grep -q clsact"
lab_check A-running-after-stop bash -c "xl list guestA | awk 'NR == 2 {exit (\$5 ~ /p/)}'"
lab_check A-answers-after-stop answers
grep -h -E 'level=(warn|error)' $W/vsmrd*.log | head -20
for d in $(xl list | awk 'NR > 2 {print $1}'); do xl destroy "$d"; done
[ "$fails" = 0 ]
