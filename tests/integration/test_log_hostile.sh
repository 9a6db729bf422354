#!/bin/sh
# test_log_hostile.sh - hostile and broken input against a running
# cluster: a replica with the wrong cluster key is refused (and logged)
# while the others keep committing; garbage and forged hellos sent to the
# port are rejected and logged; bad control commands get "error:" lines.
# Nothing crashes.
. "$(dirname "$0")/lib_cluster.sh"
require_netns
setup_cluster
command -v bash >/dev/null 2>&1 || skip "bash (for /dev/tcp) is not installed"

for i in 1 2 3; do start_node "$i" --bootstrap; done
wait_until 15 "a leader that runs a VM" has_serving_leader 1 2 3
L=$(serving_leader 1 2 3)

note "node 3 restarts with a different cluster key"
kill_node 3 TERM
head -c 32 /dev/urandom > "$WORK/badkey"; chmod 600 "$WORK/badkey"
write_config 3 "$WORK/badkey"
start_node 3
wait_until 10 "node 3 refused by a peer" grep -q 'event=auth_refused' "$WORK/n1.log" "$WORK/n2.log"
grep -h 'event=auth_refused' "$WORK/n1.log" "$WORK/n2.log" | head -n 1
out=$(ctl "$L" propose-batch 20 64 while-bad-key) || fail "cluster stopped committing: $out"
[ "$(field 3 leader)" = 0 ] || [ "$(field 3 role)" != leader ] || fail "node 3 joined with a wrong key"
c1=$(field 1 commit); c3=$(field 3 commit)
[ "$c3" -lt "$c1" ] || fail "node 3 (wrong key) has commit $c3, cluster $c1"

note "node 3 back with the right key catches up"
kill_node 3 TERM
write_config 3 "$WORK/key"
start_node 3
last=$(echo "$out" | sed -n 's/^ok index=\([0-9]*\).*/\1/p')
wait_until 15 "node 3 catches up" all_applied "$last" 1 2 3
same_logs "$last" 1 2 3

send_bytes() {  # send_bytes FROM_NODE TO_NODE PRINTF_FORMAT
  ip netns exec "$NS-$1" bash -c "exec 3<>/dev/tcp/10.77.0.10$2/7001 && printf '$3' >&3 && sleep 0.2" 2>/dev/null
}
note "garbage bytes to node 1's port"
send_bytes 3 1 'GET / HTTP/1.0\r\n\r\n'
wait_until 5 "garbage rejected in node 1's log" grep -q 'event=handshake_rejected' "$WORK/n1.log"
grep -h 'event=handshake_rejected' "$WORK/n1.log" | head -n 1
ip netns exec "$NS-2" bash -c "head -c 100000 /dev/urandom > /dev/tcp/10.77.0.101/7001" 2>/dev/null
note "a well-formed hello from an unknown node id 9"
send_bytes 3 2 '\0\0\0\060VSMR\0\001\0\001\0\0\0\0\0\0\0\001\0\0\0\011\0\0\0\0abcdefghijklmnopqrstuvwx'
wait_until 5 "unknown peer refused by node 2" grep -q 'reason="unknown peer id 9"' "$WORK/n2.log"
note "a hello of another cluster"
send_bytes 1 3 '\0\0\0\060VSMR\0\001\0\001\0\0\0\0\0\0\0\007\0\0\0\001\0\0\0\0abcdefghijklmnopqrstuvwx'
wait_until 5 "foreign cluster refused by node 3" grep -q 'reason="cluster id 7, expected 1"' "$WORK/n3.log"

note "bad control commands"
expect_error() {  # expect_error NODE PATTERN COMMAND...
  n=$1 pat=$2; shift 2
  out=$(ctl "$n" "$@" 2>&1) && fail "'$*' succeeded: $out"
  echo "$out" | grep -q "^error: .*$pat" || fail "'$*' gave '$out', expected error matching '$pat'"
}
expect_error 1 "unknown command" frobnicate
expect_error 1 "usage: log" log one two
expect_error 1 "usage: log" log 1
expect_error 1 "COUNT" log 1 999999
expect_error 1 "usage: propose-hex" propose-hex zz
expect_error 1 "usage: propose-batch" propose-batch 0 64
expect_error 1 "usage: propose TEXT" propose
expect_error 1 "usage: bench" bench 1 2
F=$(for i in 1 2 3; do [ "$i" != "$L" ] && echo "$i"; done | head -n 1)
expect_error "$F" "not the leader" propose on-a-follower
out=$(head -c 150000 /dev/zero | tr '\0' 'b' | "$VSMR_BIN/vsmrctl" -s "$WORK/n1.sock" - 2>&1)
echo "$out" | grep -q "error: line longer than" || fail "over-long line: '$out'"
out=$(printf 'status\0junk\n' | "$VSMR_BIN/vsmrctl" -s "$WORK/n1.sock" - 2>&1)
echo "$out" | grep -q "error: line contains a NUL byte" || fail "NUL byte: '$out'"

note "every node is still alive and the cluster commits"
out=$(ctl "$L" propose still-alive) || fail "final propose: $out"
for i in 1 2 3; do
  ctl "$i" ping >/dev/null || fail "node $i does not answer"
  ! grep -q 'AddressSanitizer\|runtime error' "$WORK/n$i.log" || fail "sanitizer report on node $i"
done
echo "PASS: test_log_hostile"
