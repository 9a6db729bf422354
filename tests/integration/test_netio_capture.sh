#!/bin/sh
# test_netio_capture.sh - input capture and injection (docs/netio.md):
# (a) frames from the client toward the guest (ARP, IPv6 ND, ICMP, UDP) are
#     diverted at the vif's egress and captured, not delivered;
# (a') relayed (capture -> entry codec -> inject) they reach the guest and
#     every exchange completes;
# (b) injected frames are not captured again: each UDP datagram reaches the
#     guest exactly once and the filter counted only what was relayed.
. tests/integration/lib_netio.sh
require_root_netns
require_kernel veth ifb clsact u32-mirred bpf
make_topology

netbuf setup vif1.0 --input-only || fail "setup --input-only"
[ "$(status_val input)" = 1 ] || fail "status does not show the input hook"
ok "input hooks set up"

# --- (a) captured, not delivered ---
bg probe "$G" udp-recv 7000 20000 > "$WORK/guest-udp.out"
wait_for "$WORK/guest-udp.out" ready || fail "guest receiver did not start"
bg netbuf capture vif1.0 "$WORK/cap.bin" --count 200 --timeout 4000 > "$WORK/cap.out"
wait_for "$WORK/cap.out" ready || fail "capture did not start"
rx0=$(rx_packets "$G" eth0)
in_c busybox ping -c 1 -W 2 10.88.0.2 >/dev/null 2>&1 && fail "ping reached the guest while input is captured"
probe "$C" udp-send 10.88.0.2 7000 hello-v4
probe "$C" udp-send fd88::2 7000 hello-v6
wait_for "$WORK/cap.out" "captured" 8 || fail "capture did not finish"
grep -q ' arp' "$WORK/cap.out" || fail "no ARP frame captured"
grep -q ' ipv6' "$WORK/cap.out" || fail "no IPv6 (neighbour solicitation) frame captured"
rx1=$(rx_packets "$G" eth0)
[ "$rx1" = "$rx0" ] || fail "guest received $((rx1 - rx0)) frames while capturing"
grep -q hello "$WORK/guest-udp.out" && fail "guest got UDP while capturing"
ok "ARP, IPv6 ND and the rest captured ($(grep -c '^frame' "$WORK/cap.out") frames); guest received none"

# The captured batch, written as a log entry, injects into the guest.
netbuf inject vif1.0 "$WORK/cap.bin" > "$WORK/inject.out" || fail "inject"
rx2=$(rx_packets "$G" eth0)
[ "$rx2" -gt "$rx1" ] || fail "injected frames did not reach the guest"
ok "injected batch reached the guest ($((rx2 - rx1)) frames)"

# --- (a') relay: the primary's path without the log ---
before=$(tc -n "$D" -s filter show dev vif1.0 egress | sed -n 's/.*Sent [0-9]* bytes \([0-9]*\) pkt.*/\1/p' | head -1)
bg netbuf relay vif1.0 --timeout 9000 > "$WORK/relay.out"
wait_for "$WORK/relay.out" ready || fail "relay did not start"
in_c busybox ping -c 2 -W 3 10.88.0.2 > "$WORK/ping4.out" 2>&1 || fail "IPv4 ping through the relay"
in_c busybox ping6 -c 2 -W 3 fd88::2 > "$WORK/ping6.out" 2>&1 || fail "IPv6 ping through the relay"
probe "$C" udp-send 10.88.0.2 7000 relay-v4
probe "$C" udp-send fd88::2 7000 relay-v6
bg probe "$G" tcp-serve 7100 > "$WORK/guest-tcp.out"
wait_for "$WORK/guest-tcp.out" ready || fail "tcp server"
probe "$C" tcp-echo 10.88.0.2 7100 tcp-through-relay 5000 > "$WORK/tcp.out" || fail "TCP through the relay"
wait_for "$WORK/guest-udp.out" relay-v6 5 || fail "UDP over IPv6 did not arrive through the relay"
wait_for "$WORK/guest-udp.out" relay-v4 5 || fail "UDP over IPv4 did not arrive through the relay"
ok "ICMP, ICMPv6, UDP v4/v6 and TCP reach the guest through capture+inject"

# --- (b) no loop ---
wait_for "$WORK/relay.out" "relayed" 12 || fail "relay did not end"
n4=$(grep -c '^relay-v4$' "$WORK/guest-udp.out"); n6=$(grep -c '^relay-v6$' "$WORK/guest-udp.out")
[ "$n4" = 1 ] && [ "$n6" = 1 ] || fail "datagrams delivered $n4/$n6 times (a loop would repeat them)"
relayed=$(sed -n 's/^relayed \([0-9]*\) frames.*/\1/p' "$WORK/relay.out")
after=$(tc -n "$D" -s filter show dev vif1.0 egress | sed -n 's/.*Sent [0-9]* bytes \([0-9]*\) pkt.*/\1/p' | head -1)
[ -n "$relayed" ] && [ "$relayed" -lt 200 ] || fail "relay handled $relayed frames: injected frames came back"
[ $((after - before)) -le "$relayed" ] || [ $((after - before)) -le $((relayed + 4)) ] || fail "filter diverted $((after - before)) frames, relay saw $relayed"
grep -q failed "$WORK/relay.out" && ! grep -q ', 0 failed' "$WORK/relay.out" && fail "some injections failed"
ok "no loop: $relayed frames relayed, each datagram delivered once"

netbuf teardown vif1.0 || fail "teardown"
no_leftovers || fail "teardown left something behind"
ok "teardown clean"
echo "PASS: test_netio_capture"
