#!/bin/sh
# test_log_cluster.sh - three vsmrd replicas in three network namespaces:
# entries commit in the same order everywhere; kill -9 of the leader
# elects a new one and loses no committed entry; a cut link heals; a
# replica restarted with its data and one rebuilt from nothing catch up.
. "$(dirname "$0")/lib_cluster.sh"
require_netns
setup_cluster

note "start three replicas"
for i in 1 2 3; do start_node "$i" --bootstrap; done
wait_until 15 "a leader that runs a VM" has_serving_leader 1 2 3
L=$(serving_leader 1 2 3)
note "leader is node $L"

note "propose 20 single entries and a batch of 200"
for k in $(seq 1 20); do ctl "$L" propose "entry-$k" >/dev/null || fail "propose entry-$k"; done
out=$(ctl "$L" propose-batch 200 64 b1) || fail "propose-batch: $out"
last=$(echo "$out" | sed -n 's/^ok index=\([0-9]*\).*/\1/p')
[ -n "$last" ] || fail "no index in '$out'"
wait_until 10 "all replicas apply $last" all_applied "$last" 1 2 3
same_logs "$last" 1 2 3
ctl "$L" log 1 "$last" > "$WORK/committed-before-kill"

note "kill -9 the leader (node $L)"
kill_node "$L" 9
OTHERS=$(for i in 1 2 3; do [ "$i" != "$L" ] && printf '%s ' "$i"; done)
wait_until 15 "a new leader among $OTHERS" has_serving_leader $OTHERS
L2=$(serving_leader $OTHERS)
[ "$L2" != "$L" ] || fail "leader did not change"
note "new leader is node $L2"
ctl "$L2" log 1 "$last" > "$WORK/committed-after-kill"
cmp -s "$WORK/committed-before-kill" "$WORK/committed-after-kill" ||
  fail "a committed entry changed or vanished after the leader died"
out=$(ctl "$L2" propose-batch 50 64 b2) || fail "propose after failover: $out"
last=$(echo "$out" | sed -n 's/^ok index=\([0-9]*\).*/\1/p')

note "restart node $L with its data"
start_node "$L"
wait_until 15 "node $L catches up to $last" all_applied "$last" 1 2 3
same_logs "$last" 1 2 3

L=$(serving_leader 1 2 3) || { wait_until 15 "a leader" has_serving_leader 1 2 3; L=$(serving_leader 1 2 3); }
F=$(for i in 1 2 3; do [ "$i" != "$L" ] && echo "$i"; done | head -n 1)
note "cut the link between leader $L and follower $F"
link_set "$L" "$F" down
out=$(ctl "$L" propose-batch 100 64 b3) || fail "propose with one link cut: $out"
last=$(echo "$out" | sed -n 's/^ok index=\([0-9]*\).*/\1/p')
note "heal the link"
link_set "$L" "$F" up
wait_until 20 "all replicas apply $last after the heal" all_applied "$last" 1 2 3
same_logs "$last" 1 2 3

L=$(serving_leader 1 2 3) || { wait_until 15 "a leader" has_serving_leader 1 2 3; L=$(serving_leader 1 2 3); }
W=$(for i in 1 2 3; do [ "$i" != "$L" ] && echo "$i"; done | tail -n 1)
note "wipe node $W and restart it from scratch"
kill_node "$W" 9
rm -rf "$WORK/d$W"
out=$(ctl "$L" propose-batch 30 64 b4) || fail "propose with one node down: $out"
last=$(echo "$out" | sed -n 's/^ok index=\([0-9]*\).*/\1/p')
start_node "$W"
wait_until 20 "rebuilt node $W catches up to $last" all_applied "$last" "$W"
wait_until 10 "rebuilt node $W votes again" sh -c "[ \"\$($VSMR_BIN/vsmrctl -s $WORK/n$W.sock status | head -n1 | tr ' ' '\n' | sed -n 's/^voter=//p')\" = yes ]"
grep -q 'event=store_loaded .*fresh=yes learner=yes' "$WORK/n$W.log" ||
  fail "node $W did not start as a learner"
same_logs "$last" 1 2 3

note "SIGTERM everything: clean shutdown"
for i in 1 2 3; do kill_node "$i" TERM; done
for i in 1 2 3; do
  grep -q 'event=stopped clean=yes' "$WORK/n$i.log" || fail "node $i did not stop cleanly"
  ! grep -q 'AddressSanitizer\|runtime error' "$WORK/n$i.log" || fail "sanitizer report on node $i"
done
echo "PASS: test_log_cluster"
