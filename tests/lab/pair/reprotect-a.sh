#!/bin/bash
# pair/reprotect-a.sh - host A of test_pair_reprotect: creates the PVH
# guest, protects it with `xl vsmr` (backup host B), and when the host
# side says so (after B was killed and booted again) stops and protects
# it once more with the new B. Reports through the share.
. /vsmrlab/lib.sh
. /vsmrlab/common-dom0.sh
protect() {   # protect TAG: xl vsmr, its status into the share, a marker
  echo "$(el) xl-vsmr -w $WITNESS guest1 hostb ($1)"
  timeout 900 xl-vsmr -w "$WITNESS" --timeout 600 --election-ms 10000 guest1 hostb > /tmp/p.out 2> /tmp/p.err; local rc=$?
  grep -v 'copy \[' /tmp/p.out | tail -12; cat /tmp/p.err
  lab_check "$1-exit-0" [ "$rc" = 0 ]
  xl-vsmr status guest1 > "/vsmrlab/out/status-$1.txt" 2>&1; cat "/vsmrlab/out/status-$1.txt"
  echo "$rc" > "/vsmrlab/out/$1.tmp" && mv "/vsmrlab/out/$1.tmp" "/vsmrlab/out/$1"
}
lab_check guest-created timeout 120 xl create /etc/xen/guest1.cfg
lab_check guest-service-up wait_console guest1 "VSMR-GUESTD listening" 300
ok=0
for _ in $(seq 1 300); do ssh -o ConnectTimeout=5 hostb true 2>/dev/null && { ok=1; break; }; sleep 2; done
lab_check ssh-to-hostb [ $ok = 1 ]
protect protected
wait_for reprotect
# B died with its copy and its vsmrd: stop says what it could not reach
echo "$(el) xl-vsmr stop guest1 (the backup host was killed)"
timeout 300 xl-vsmr stop guest1 > /tmp/x.out 2>&1; xrc=$?
cat /tmp/x.out
lab_check stop-with-backup-gone-exit-0 [ "$xrc" = 0 ]
lab_check guest-running-after-stop bash -c "xl list guest1 | awk 'NR == 2 { exit (\$5 ~ /p/) }'"
ok=0
for _ in $(seq 1 300); do ssh -o ConnectTimeout=5 hostb true 2>/dev/null && { ok=1; break; }; sleep 2; done
lab_check ssh-to-new-hostb [ $ok = 1 ]
protect reprotected
wait_for stop
[ "$fails" = 0 ]
