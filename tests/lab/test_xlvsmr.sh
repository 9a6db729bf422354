#!/bin/bash
# test_xlvsmr.sh - runs in the lab's dom0: `xl vsmr` (xl-vsmr) against a
# real PVH domU, with this host as primary and backup (backup host
# "localhost" through a fake ssh) and a witness vsmrd on 127.0.0.1. Bad
# inputs — an unknown domain, a second run on the same domain, an
# unreachable backup host, an unreachable witness, a wrong cluster key —
# and the full sequence up to a replica that cannot start: each must be a
# clear error, and afterwards the guest must be
# running, not paused, and answering; no backup copy, replica or lock
# left behind.
. /vsmrlab/lib.sh
W=127.0.0.1:7003
KEY=/etc/vsmr/cluster.key

guest_state() { xl list guest1 2>/dev/null | awk 'NR==2{print $5}'; }
guest_fine() {   # running or blocked, never paused, and answering PING
  local s; s=$(guest_state)
  case "$s" in *p*|"") echo "guest1 state '$s'"; return 1;; esac
  ask PING | grep -q '^PONG' || { echo "guest1 did not answer PING"; return 1; }
}
no_leftovers() {
  if xl list guest1--vsmr-backup >/dev/null 2>&1; then echo "backup copy left"; xl list; return 1; fi
  if pgrep -f 'primary.conf|backup.conf' >/dev/null; then echo "a replica vsmrd left:"; pgrep -af vsmrd; return 1; fi
  for l in /run/vsmr/*.lock; do
    [ -e "$l" ] || continue
    flock -n "$l" true || { echo "lock $l still held"; return 1; }
  done
}
# expect NAME STATUS TEXT ARGS...: xl-vsmr exits STATUS, its stderr has TEXT.
expect() {
  local n=$1 want=$2 text=$3; shift 3
  echo "$(el) ----- $n: xl-vsmr $*"
  timeout 300 xl-vsmr "$@" >"/tmp/$n.out" 2>"/tmp/$n.err"; local rc=$?
  sed 's/^/    out: /' "/tmp/$n.out" | grep -v 'copy \[' | tail -15
  sed 's/^/    err: /' "/tmp/$n.err"
  lab_check "$n-exit-$want" [ "$rc" = "$want" ]
  lab_check "$n-says-why" grep -q -- "$text" "/tmp/$n.err"
  lab_check "$n-guest-fine" guest_fine
  lab_check "$n-nothing-left" no_leftovers
}

# A stand-in for ssh (the lab has no sshd): "localhost" runs here; any
# other host must answer on port 22, as ssh would need.
cat > /tmp/fakessh <<'EOF'
#!/bin/sh
h=$1; shift
[ -f /tmp/slowssh ] && sleep 8
case "$h" in localhost|127.0.0.1) exec sh -c "$*";; esac
nc -z -w 5 "$h" 22 2>/dev/null && exec sh -c "$*"
echo "ssh: connect to host $h port 22: Connection timed out" >&2
exit 255
EOF
chmod +x /tmp/fakessh

mkdir -p /etc/vsmr /tmp/w
head -c 32 /dev/urandom > $KEY; chmod 600 $KEY
head -c 32 /dev/urandom > /tmp/wrong.key; chmod 600 /tmp/wrong.key
# The witness: peer 1 is this host at the replica port, peer 2 the
# backup (same host here, so xl-vsmr gives it port + 1).
cat > /tmp/w/witness.conf <<EOF
id = 3
peer.1 = 127.0.0.1:7001 primary
peer.2 = 127.0.0.1:7002 backup
peer.3 = $W witness
key_file = $KEY
control = /tmp/w/witness.sock
data_dir = /tmp/w/data
log_file = /tmp/w/witness.log
election_ticks = 300
EOF
vsmrd --config /tmp/w/witness.conf --bootstrap &
WP=$!

lab_check guest-created timeout 120 xl create /etc/xen/guest1.cfg
lab_check guest-service-up wait_console guest1 "VSMR-GUESTD listening" 240
lab_check guest-answers guest_fine
lab_check witness-up vsmrctl -s /tmp/w/witness.sock ping
xl list

S="-s /tmp/fakessh"
expect unknown-domain 1 "no domain is named 'nosuchguest'" $S -w $W nosuchguest localhost
expect bad-domain-id 1 "not a valid domain id" $S -w $W 99999999 localhost
expect no-witness 2 "a witness is required" $S guest1 localhost
expect backup-unreachable 1 "cannot reach the backup host 10.10.0.99" $S -w $W guest1 10.10.0.99
expect witness-unreachable 1 "the witness 10.10.0.99:7003" $S -w 10.10.0.99:7003 guest1 localhost
expect witness-not-listening 1 "refused the connection" $S -w 127.0.0.1:7999 guest1 localhost
expect wrong-key 1 "refused our cluster key" $S -w $W -k /tmp/wrong.key guest1 localhost

# Twice on one domain: the first run is slowed down (its backup-host check
# takes 8 s) and will fail at its witness (nothing listens there), the
# second must find the lock and name the first's pid.
echo "$(el) ----- twice"
touch /tmp/slowssh
xl-vsmr $S -w 127.0.0.1:7999 guest1 localhost >/tmp/first.out 2>/tmp/first.err &
FIRST=$!
sleep 3
timeout 60 xl-vsmr $S -w $W guest1 localhost >/tmp/second.out 2>/tmp/second.err; rc=$?
rm -f /tmp/slowssh
sed 's/^/    err: /' /tmp/second.err
lab_check twice-exit-1 [ "$rc" = 1 ]
lab_check twice-names-first-pid grep -q "already protected by pid $FIRST" /tmp/second.err
wait $FIRST; frc=$?
echo "    first run: exit $frc"; sed 's/^/    first: /' /tmp/first.err
lab_check twice-first-failed-at-its-witness [ "$frc" = 1 ]
lab_check twice-guest-fine guest_fine
lab_check twice-nothing-left no_leftovers

# The whole sequence up to a replica that cannot start: checks pass, the
# copy is made (xl save -c | xl restore), the replicas start, and vsmrd
# stops at once (transport rdma on a host without an RDMA device): a plain
# error naming vsmrd's reason, everything undone.
expect vsmrd-cannot-start 1 "no RDMA device found" $S -w $W -T rdma -i 20 -I 200 guest1 localhost
lab_check copy-was-made grep -q "copying domain guest1" /tmp/vsmrd-cannot-start.out
lab_check copy-progress grep -q "^copy: " /tmp/vsmrd-cannot-start.out
lab_check copy-destroyed grep -q "destroyed the backup copy guest1--vsmr-backup" /tmp/vsmrd-cannot-start.out
lab_check guest-still-running-at-end guest_fine

echo "$(el) ===== status and stop with nothing protected"
xl-vsmr status; lab_check status-none [ $? = 0 ]
xl-vsmr stop guest1 2>&1; lab_check stop-unprotected-fails [ $? = 1 ]
# The PV case last: building a PV domain next to the running PVH guest was
# followed, seconds later, by the emulator triple-faulting that guest in 3
# of 4 runs (docs/lab.md, "Flakes"); here it can no longer take the other
# cases with it.
if timeout 120 xl create -p /etc/xen/pvguest.cfg; then
  expect pv-guest 1 "PV guests are not supported yet" $S -w $W pvguest localhost
  lab_check pv-guest-names-patches grep -q "xen-patches/" /tmp/pv-guest.err
  xl destroy pvguest
else
  echo "LAB-CHECK pv-guest FAIL (xl create -p of a PV domain failed)"; fails=$((fails + 1))
fi
kill $WP 2>/dev/null; wait $WP 2>/dev/null
echo "$(el) ===== witness log (tail)"; tail -5 /tmp/w/witness.log
echo "$(el) ===== guest1 console (tail)"; tail -5 "$CON/guest-guest1.log"
xl list
echo "$(el) xl-vsmr test done: $fails failure(s)"
[ $fails = 0 ]
