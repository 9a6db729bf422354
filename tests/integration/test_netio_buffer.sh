#!/bin/sh
# test_netio_buffer.sh - output buffering with sch_plug (docs/netio.md):
# every frame from the guest (ARP, IPv4, IPv6, UDP, TCP) is held while
# plugged; release_one lets exactly the closed epoch go, in epoch order;
# unplug lets everything go; drop discards what is held.
. tests/integration/lib_netio.sh
require_root_netns
require_kernel veth ifb clsact u32-mirred plug
make_topology

# Frames reach the qdisc a moment after the probe returns (seconds on an
# emulated host): wait for the count instead of trusting a fixed sleep.
wait_held() {   # wait_held N: until at least N frames are held, 10 s at most
  for _ in $(seq 1 100); do
    [ "$(status_val held_frames)" -ge "$1" ] && return 0
    sleep 0.1
  done
  return 1
}

netbuf setup vif1.0 --output-only || fail "setup --output-only"
[ "$(status_val output)" = 1 ] || fail "status does not show the output hook"
ok "output hooks set up (holding from the start)"

bg probe "$C" udp-recv 7001 60000 > "$WORK/client-udp.out"
wait_for "$WORK/client-udp.out" ready || fail "client receiver"

# Held from birth: the guest's first datagram needs ARP, and the ARP
# request is held too.
probe "$G" udp-send 10.88.1.2 7001 e0
sleep 1
grep -q '^e0$' "$WORK/client-udp.out" && fail "e0 left while plugged"
wait_held 1 || fail "nothing held (the guest's ARP request should be)"
ok "guest's ARP request held ($(status_val held_frames) frames)"

netbuf unplug vif1.0 || fail "unplug"
wait_for "$WORK/client-udp.out" '^e0$' 15 || fail "unplug did not release e0"
ok "unplug released everything held"

# Epoch order: e1 in epoch 1, e2 in epoch 2.
netbuf plug vif1.0 || fail "plug from unplugged"
probe "$G" udp-send 10.88.1.2 7001 e1
sleep 0.5
netbuf plug vif1.0 || fail "plug (close epoch 1)"
probe "$G" udp-send 10.88.1.2 7001 e2
sleep 0.5
grep -q -E '^e[12]$' "$WORK/client-udp.out" && fail "epoch outputs left before release"
netbuf release vif1.0 || fail "release (epoch 1)"
wait_for "$WORK/client-udp.out" '^e1$' 15 || fail "release_one did not release epoch 1"
sleep 0.5
grep -q '^e2$' "$WORK/client-udp.out" && fail "release_one released epoch 2 too"
netbuf plug vif1.0 || fail "plug (close epoch 2)"
netbuf release vif1.0 || fail "release (epoch 2)"
wait_for "$WORK/client-udp.out" '^e2$' 15 || fail "second release_one did not release epoch 2"
ok "release_one releases one epoch at a time, in order"

# Every protocol is held: ARP reply (dom0 must resolve the guest again),
# ICMP, IPv6 with ND, TCP's SYN-ACK.
in_d ip neigh flush dev vif1.0
bg probe "$G" tcp-serve 7101 > "$WORK/guest-tcp.out"
wait_for "$WORK/guest-tcp.out" ready || fail "tcp server"
held0=$(status_val held_frames)
# One echo a second until one is answered (30 s at most): the first may
# be lost when the held ARP reply outlasts the kernel's three probes.
bg in_c busybox ping -c 1 -w 30 10.88.0.2 > "$WORK/ping.out" 2>&1; ping_pid=$!
probe "$G" udp-send fd88:1::2 7001 v6
bg probe "$C" tcp-echo 10.88.0.2 7101 held-tcp 10000 > "$WORK/tcp.out"; tcp_pid=$!
sleep 1.5
grep -q -E '^(v6|held-tcp)$' "$WORK/client-udp.out" "$WORK/tcp.out" && fail "IPv6 or TCP output left while plugged"
wait_held $((held0 + 3))
held1=$(status_val held_frames)
[ "$held1" -ge $((held0 + 3)) ] || fail "only $((held1 - held0)) more frames held (ARP reply, ND, TCP expected)"
ok "ARP reply, IPv6 and TCP outputs held ($((held1 - held0)) more frames)"
netbuf unplug vif1.0 || fail "unplug"
wait $ping_pid || fail "ping did not complete after unplug"
wait $tcp_pid || fail "TCP echo did not complete after unplug"
wait_for "$WORK/client-udp.out" '^v6$' 15 || fail "IPv6 datagram not released"
ok "after unplug: ping, TCP and IPv6 all completed"

# Drop: held frames are discarded, holding continues.
netbuf plug vif1.0 || fail "plug"
probe "$G" udp-send 10.88.1.2 7001 d1
sleep 0.5
wait_held 1 || fail "d1 not held"
netbuf drop vif1.0 || fail "drop"
[ "$(status_val held_frames)" = 0 ] || fail "frames still held after drop"
[ "$(status_val output)" = 1 ] || fail "output hook gone after drop"
probe "$G" udp-send 10.88.1.2 7001 d2
sleep 0.5
grep -q '^d2$' "$WORK/client-udp.out" && fail "d2 left: drop must keep holding"
netbuf unplug vif1.0 || fail "unplug after drop"
wait_for "$WORK/client-udp.out" '^d2$' 15 || fail "d2 not released by unplug"
grep -q '^d1$' "$WORK/client-udp.out" && fail "dropped d1 reached the client"
ok "drop discarded the held frames and kept holding"

netbuf teardown vif1.0 || fail "teardown"
no_leftovers || fail "teardown left something behind"
ok "teardown clean"
echo "PASS: test_netio_buffer"
