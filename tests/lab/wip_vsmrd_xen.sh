#!/bin/bash
# wip_vsmrd_xen.sh - runs in the lab's dom0 (VSMR_LAB_TESTS=vsmrd_xen make
# lab-check): vsmrd protecting a real PVH domU on one host. The primary
# guestA and the running backup guestB (a copy made by the migration
# stream) sit on the same bridge with the same MAC, as a two-host setup's
# would on one L2 network: B's vif hooks keep it off the wire (it gets only
# committed inputs, its outputs are dropped) until it is promoted. Two
# vsmrd and a witness run in this dom0 on loopback.
# Checks: the client's frames reach A only through the log and A's answers
# leave only after a sync; B gets the same inputs; syncs commit; with the
# backup stopped, answers wait until the witness lets the primary go on
# unprotected; the primary dies (its vsmrd killed -9 and A destroyed
# together, as when its host dies) and B takes over: the client's
# connection carries on (or reconnects) and the counter never goes back —
# no acknowledged write lost.
. /vsmrlab/lib.sh
trap 'cp "$VW"/*.log /tmp/client*.log /vsmrlab/out/ 2>/dev/null' EXIT   # the daemons' logs
note() { echo "$(el) $*"; }
st() { vsmr_st "$@"; }
field() { vsmr_field "$@"; }
sed 's/^name = .*/name = "guestA"/' /etc/xen/guest1.cfg > /tmp/A.cfg
sed -e 's/^name = .*/name = "guestB"/' /etc/xen/guest1.cfg > /tmp/B.cfg
lab_check A-created timeout 120 xl create /tmp/A.cfg
lab_check A-service-up wait_console guestA "VSMR-GUESTD listening" 240
answers() { for _ in $(seq 1 20); do [ -n "$(ask PING)" ] && return 0; sleep 1; done; return 1; }
lab_check A-answers-unprotected answers
# B restored paused; its vif's hooks go on before it runs (the hotplug
# script vif-vsmr does this in a real deployment).
make_b() {
  timeout 300 xl save -c guestA /tmp/a.chk && timeout 300 xl restore -p /tmp/B.cfg /tmp/a.chk || return 1
  vsmr-netbuf setup "vif$(domid guestB).0" && xl unpause guestB
}
lab_check B-made-from-A-behind-hooks make_b
rm -f /tmp/a.chk
A=$(domid guestA); B=$(domid guestB)
note "A=$A (vif$A.0) B=$B (vif$B.0)"

vsmr_start "$A" "$B" "sync_max_ms = ${SYNC_MS:-200}"
lab_check replicas-protecting vsmr_wait_protecting 180
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
num() { [ -n "$1" ] && [ "$1" -gt "${2:-0}" ]; }
inputs_logged() { num "$(field 1 network proposed_entries)" && num "$(field 1 network captured)" "$cap0"; }
lab_check inputs-went-through-the-log inputs_logged
b_fed() { num "$(field 2 network injected)" && num "$(field 2 guest inputs_fed)"; }
lab_check backup-got-the-same-inputs b_fed
synced() { num "$(field 1 sync committed_epoch)" 1; }
lab_check syncs-committed synced

# --- outputs wait for a sync: with the backup stopped the primary cannot
# commit an epoch, so an answer waits until the witness has let it go on
# unprotected (the marker commits after the backup's idle timeout, 20 s).
kill -STOP $VP2
sleep 0.5
ts=$(date +%s.%N); r=$(echo PING | timeout 60 nc -q 45 10.10.0.2 7777 2>/dev/null | head -1); te=$(date +%s.%N)
held=$(awk -v a="$ts" -v b="$te" 'BEGIN{printf "%.1f", b - a}')
note "PING with the backup stopped: '$r' after $held s; primary: $(st 1 | grep '^guest ')"
waited() { [ -n "$r" ] && awk -v h="$held" 'BEGIN{exit !(h >= 0.3)}'; }
lab_check answer-held-until-unprotected waited
kill -CONT $VP2
lab_check protected-again vsmr_wait_protecting 120

# --- failover: a client with one connection, INC every 0.2 s; the
# primary's host "dies" (vsmrd -9 and A destroyed); B must take over.
cat > /tmp/client.sh <<'C'
conn() { exec 3<>/dev/tcp/10.10.0.2/7777; }
conn || { echo "CLIENT cannot connect"; exit 1; }
prev=0; n=0; back=0; reconnects=0
while [ ! -f /tmp/client.stop ]; do
  if ! { echo INC >&3 && read -t 20 -r v <&3; }; then
    reconnects=$((reconnects + 1)); echo "CLIENT reconnect after $n answers (last $prev)"
    exec 3<&-; sleep 1; conn || continue; continue
  fi
  v=${v%$'\r'}
  [ "$v" -le "$prev" ] 2>/dev/null && { echo "CLIENT went back: $v after $prev"; back=$((back + 1)); }
  prev=$v; n=$((n + 1)); echo "$n $v" > /tmp/client.last
  sleep 0.2
done
echo "CLIENT done: $n answers, last $prev, $back went back, $reconnects reconnects"
[ $back = 0 ]
C
rm -f /tmp/client.stop
bash /tmp/client.sh > /tmp/client.log 2>&1 &
CL=$!
sleep 5
note "before failover: client $(cat /tmp/client.last 2>/dev/null)"
kill -9 $VP1; xl destroy guestA
note "primary killed"
promoted() { [ "$(field 2 guest promoted)" = yes ]; }
wait_promoted() { for _ in $(seq 1 60); do promoted && return 0; sleep 1; done; st 2; return 1; }
lab_check backup-promoted wait_promoted
last0=$(cut -d' ' -f1 /tmp/client.last 2>/dev/null)
progress() { for _ in $(seq 1 60); do [ "$(cut -d' ' -f1 /tmp/client.last)" -gt $((last0 + 10)) ] && return 0; sleep 1; done; return 1; }
lab_check client-served-by-B progress
touch /tmp/client.stop; wait $CL; crc=$?
cat /tmp/client.log
lab_check no-acknowledged-write-lost [ $crc = 0 ]
st 2 | grep -E '^(guest|sync|network) '

# --- clean stop of what is left: hooks removed, B running and answering
vsmr_stop
lab_check hooks-removed bash -c "! tc qdisc show dev vif$B.0 | grep -q clsact"
lab_check B-running-after-stop bash -c "xl list guestB | awk 'NR == 2 {exit (\$5 ~ /p/)}'"
lab_check B-answers-after-stop answers
grep -h -E 'level=(warn|error)' "$VW"/vsmrd*.log | head -20
for d in $(xl list | awk 'NR > 2 {print $1}'); do xl destroy "$d"; done
[ "$fails" = 0 ]
