#!/bin/bash
# vsmr-lab: env VSMR_LAB_XENSTORED=oxenstored
# test_statecopy.sh - (in the default set since QEMU_SMP=1; alone: VSMR_LAB_TESTS=statecopy
# make lab-check) runs in the lab's dom0: a running backup B kept in
# step with the primary A by vsmr-xen-statecopy (issue 7 item 4). A serves
# a client that holds one TCP connection; B runs cut off from the network
# (its own bridge to a namespace with A's peer address and MAC, resets
# dropped). N syncs in verify mode, then a final sync, A is destroyed, B's
# vif moves to A's bridge and the client's connection must carry on.
. /vsmrlab/lib.sh
SYNCS=${SYNCS:-20}
askB() { ip netns exec nsB sh -c "echo '$1' | timeout 10 nc -q 3 10.10.0.2 7777 2>/dev/null | head -1"; }

# --- B's isolated network: same peer address and MAC as A's side
modprobe veth
brctl addbr xenbr1; brctl setfd xenbr1 0; ip link set xenbr1 up
ip netns add nsB
ip link add vethB type veth peer name vethB1
brctl addif xenbr1 vethB; ip link set vethB up
# B is a copy of A, so B's neighbour table says 10.10.0.1 is at xenbr0's
# MAC. A bridge takes the lowest MAC of its ports unless one is set, and
# netback's vifs are fe:ff:ff:ff:ff:ff, so xenbr0's MAC changes when A's
# vif joins: fix it first, then give B's peer the same one.
ip link set xenbr0 address 02:00:0a:0a:00:01
ip link set vethB1 address 02:00:0a:0a:00:01
ip link set vethB1 netns nsB
ip netns exec nsB ip link set lo up
ip netns exec nsB ip addr add 10.10.0.1/24 dev vethB1
ip netns exec nsB ip link set vethB1 up
ip netns exec nsB iptables -A OUTPUT -p tcp --tcp-flags RST RST -j DROP

sed 's/^name = .*/name = "guestA"/' /etc/xen/guest1.cfg > /tmp/A.cfg
sed -e 's/^name = .*/name = "guestB"/' -e 's/xenbr0/xenbr1/' /etc/xen/guest1.cfg > /tmp/B.cfg
lab_check A-created timeout 120 xl create /tmp/A.cfg
lab_check A-service-up wait_console guestA "VSMR-GUESTD listening" 240
answers() { [ -n "$(ask PING)" ]; }
answersB() { [ -n "$(askB PING)" ]; }
lab_check A-answers answers

# --- the client: one TCP connection to A for the whole test, INC every 0.3 s,
# every answer must be the previous one + 1
cat > /tmp/client.sh <<'C'
exec 3<>/dev/tcp/10.10.0.2/7777 || { echo "CLIENT cannot connect"; exit 1; }
prev=""; n=0; bad=0
while [ ! -f /tmp/client.stop ]; do
  echo INC >&3
  if ! read -t 120 -r v <&3; then echo "CLIENT no answer after $n answers"; exit 1; fi
  v=${v%$'\r'}
  if [ -n "$prev" ] && [ "$v" != $((prev + 1)) ]; then echo "CLIENT wrong answer $v after $prev"; bad=$((bad + 1)); fi
  prev=$v; n=$((n + 1)); echo "$n $v $(date +%s.%N)" > /tmp/client.last
  sleep 0.3
done
echo "CLIENT done: $n answers, last $prev, $bad wrong"
[ $bad = 0 ]
C
bash /tmp/client.sh > /tmp/client.log 2>&1 &
CLIENT=$!
sleep 3; echo "$(el) client: $(cat /tmp/client.last 2>/dev/null)"

# --- B: a copy of A made by the migration stream (xl save -c + xl restore)
A=$(domid guestA)
lab_check B-saved timeout 300 xl save -c guestA /tmp/a.chk
# xl restore fails when the vif hotplug script times out on a loaded host
# (seen once, load 4 on 2 cores): one retry.
restore_b() {
  timeout 300 xl restore /tmp/B.cfg /tmp/a.chk && return 0
  echo "xl restore failed; retrying once"; xl destroy guestB 2>/dev/null
  for d in $(xl list | awk '$1 ~ /^guestB/ {print $2}'); do xl destroy "$d"; done
  timeout 300 xl restore /tmp/B.cfg /tmp/a.chk; }
lab_check B-restored restore_b
rm -f /tmp/a.chk
B=$(domid guestB)
echo "$(el) A=$A B=$B"; xl list
known() { [ -n "$A" ] && [ -n "$B" ]; }
lab_check domids-known known
for _ in $(seq 1 60); do [ -n "$(askB PING)" ] && break; sleep 1; done
lab_check B-answers-on-its-own-network answersB

# --- B's own answers between syncs (its network must survive every sync)
( okb=0; nob=0
  while [ ! -f /tmp/probe.stop ]; do
    if [ -n "$(askB TICK)" ]; then okb=$((okb + 1)); else nob=$((nob + 1)); fi
    echo "$okb $nob" > /tmp/probeB; sleep 2
  done ) &
PROBE=$!

# The probe after each B resume; when it fails it says where packets stop.
cat > /tmp/probeB.sh <<'P'
B=$1
ip netns exec nsB ping -c 1 -w 10 10.10.0.2 >/dev/null && exit 0
echo "PROBE-DIAG B's ICMP probe failed; counters (vif TX = to B, RX = from B):"
ip -s link show "vif$B.0" | sed -n '3,6p'
ip netns exec nsB ip neigh show
ip netns exec nsB ip -s link show vethB1 | sed -n '3,6p'
bridge fdb show br xenbr1 | grep -v permanent
xenstore-read "/local/domain/0/backend/vif/$B/0/state" "/local/domain/$B/device/vif/0/state"
timeout 8 tcpdump -l -n -e -c 60 -i "vif$B.0" 2>/dev/null > /tmp/probe.pcap.txt &
TD=$!; sleep 0.5
ip netns exec nsB ping -c 3 -w 6 10.10.0.2 | tail -2
wait $TD; echo "tcpdump on vif$B.0 during that ping:"; head -40 /tmp/probe.pcap.txt
ip -s link show "vif$B.0" | sed -n '3,6p'
exit 1
P
# Holding A's inputs: its bridge port stops forwarding, then the hold
# waits until netback has delivered what it had queued for A (the vif's
# TX counter and its qdisc backlog still for 3 reads 100 ms apart, at most
# 5 s). Without the wait a packet queued before the hold reached A while
# it was suspended for the sync, after its dirty bitmap was read: its rx
# ring, the buffer and vcpu_info then showed as 3 pages outside the union
# (session 3, 2 runs). vsmrd has no such window: its inputs come from the
# log and the guest stops once every injected input was served.
cat > /tmp/hold.sh <<'H'
vif=$1
bridge link set dev "$vif" state 0
stat() { echo "$(cat /sys/class/net/$vif/statistics/tx_packets) $(tc -s qdisc show dev "$vif" | sed -n 's/.*backlog \([0-9]*b [0-9]*p\).*/\1/p' | tr '\n' ' ')"; }
prev=$(stat); still=0
for _ in $(seq 1 50); do
  sleep 0.1; now=$(stat)
  if [ "$now" = "$prev" ]; then still=$((still + 1)); [ $still -ge 3 ] && exit 0; else still=0; fi
  prev=$now
done
echo "HOLD: $vif still delivering after 5 s ($prev)"
H
echo "$(el) ===== $SYNCS syncs, verify mode, then failover"
# Bounded well inside the harness's 900 s (a normal run takes ~250 s), so
# that a hang is reported with where everything waits, not as a silent
# harness timeout (seen once in CI, 2026-12-08: no output after sync 2).
timeout -k 10 480 vsmr-xen-statecopy "$A" "$B" --syncs "$SYNCS" --interval-ms 1500 --verify --spare-port \
  --hash-threads "${HASH_THREADS:-2}" \
  --probe "bash /tmp/probeB.sh $B" \
  --hold-inputs "bash /tmp/hold.sh vif$A.0" \
  --release-inputs "bridge link set dev vif$A.0 state 3" \
  --failover "xl destroy guestA && brctl delif xenbr1 vif$B.0 && brctl addif xenbr0 vif$B.0" \
  | tee /tmp/statecopy.log
rc=${PIPESTATUS[0]}
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then   # hung: who waits where
  echo "$(el) statecopy timed out: blocked processes and xenstored's health"
  ps -eo pid,stat,wchan:32,etimes,cmd | awk '$2 ~ /D|S/ && $0 !~ /\[/' | grep -v "ps -eo" | tail -40
  timeout 5 xenstore-read /local/domain/0/name || echo "xenstored does not answer within 5 s"
  xl list
fi
if [ "$rc" != 0 ]; then   # evidence for a hung domain: event channels, vCPUs
  echo "$(el) statecopy failed: Xen's view of event channels and vCPUs"
  xl debug-keys e; xl debug-keys q; xl dmesg | grep -v "HVM.*\(save\|restore\)" | tail -150
fi
touch /tmp/probe.stop; wait $PROBE 2>/dev/null
lab_check statecopy-tool [ "$rc" = 0 ]
# Pages Xen or a backend writes without a dirty mark are learned from the
# verify pass (and repaired); after 3 syncs of learning every sync must verify.
lab_check all-syncs-ran [ "$(grep -c '^SYNC [0-9]* dirtyA' /tmp/statecopy.log)" -ge "$SYNCS" ]
nsync=$(grep -c '^SYNC [0-9]* dirtyA' /tmp/statecopy.log)
# One exception, measured: Xen marks a suspended guest's event channels
# pending in its vcpu_info (guest memory) without a dirty mark, so a watch
# event that reaches A after its bitmap was read shows as one or two pages
# outside the union at a later sync (seen in 1 of 4 runs, sync 7: one
# page). They are copied by the repair, compared at every sync after, and
# B's resume rewrites that state anyway. Allowed: at most 2 such pages in
# at most 2 syncs after the third; anything more fails.
late_learned() { grep '^SYNC ' /tmp/statecopy.log | awk '$2 > 3' | grep 'verify=MISMATCH' \
  | sed -n 's/.*(differing: \([0-9]*\) new.*/\1/p'; }
verified() { [ "$nsync" -ge "$SYNCS" ] || return 1
  local l; l=$(late_learned)
  [ -z "$l" ] && return 0
  echo "pages outside the union found late by verify (per sync): $(echo $l)"
  [ "$(echo "$l" | wc -l)" -le 2 ] && [ "$(echo "$l" | sort -n | tail -1)" -le 2 ]; }
# (the final sync leaves B paused for the failover: not probed)
b_net_up() { [ "$nsync" -ge "$SYNCS" ] && [ "$(grep '^SYNC ' /tmp/statecopy.log | awk -v n="$SYNCS" '$2 < n' | grep -c 'B_net=DOWN')" = 0 ]; }
lab_check syncs-verified-after-learning verified
lab_check B-network-after-every-sync b_net_up
# Under oxenstored B's connection is renewed by release + introduce (its
# nodes walked and put back): the path C xenstored's lab runs never take.
store_released() { [ "$(grep '^SYNC ' /tmp/statecopy.log | grep -c 'store released')" -ge "$SYNCS" ]; }
[ "${VSMR_LAB_XENSTORED:-}" = oxenstored ] && lab_check B-store-released-and-restored store_released
echo "B probes between syncs (ok failed): $(cat /tmp/probeB 2>/dev/null)"
# (TCP probes from B's side cannot pass a sync: B's memory, its sockets
# included, becomes A's at every sync; informational only)

# --- after failover the client's same connection must carry on against B
before=$(cut -d' ' -f1 /tmp/client.last)
for _ in $(seq 1 90); do
  now=$(cut -d' ' -f1 /tmp/client.last); [ $((now - before)) -ge 10 ] && break; sleep 1; done
echo "$(el) client answers: before failover $before, now $(cut -d' ' -f1 /tmp/client.last)"
touch /tmp/client.stop; wait $CLIENT; crc=$?
cat /tmp/client.log
lab_check client-connection-survived [ "$crc" = 0 ]
lab_check client-kept-going [ $(( $(cut -d' ' -f1 /tmp/client.last) - before )) -ge 10 ]
xl list
echo "$(el) ===== guestB console (tail)"; tail -15 "$CON"/guest-guestB*.log
echo "$(el) statecopy test done: $fails failure(s)"
[ $fails = 0 ]
