#!/bin/bash
# pair/failover-a.sh - host A of test_pair_failover: creates the PVH guest
# running vsmr-guestd, protects it with `xl vsmr` (backup host B over ssh,
# the witness on the host side), reports through the share, and serves
# until the host side kills this whole machine.
. /vsmrlab/lib.sh
. /vsmrlab/common-dom0.sh
lab_check guest-created timeout 120 xl create /etc/xen/guest1.cfg
lab_check guest-service-up wait_console guest1 "VSMR-GUESTD listening" 300
ok=0
for _ in $(seq 1 300); do ssh -o ConnectTimeout=5 hostb true 2>/dev/null && { ok=1; break; }; sleep 2; done
lab_check ssh-to-hostb [ $ok = 1 ]
echo "$(el) xl-vsmr -w $WITNESS guest1 hostb"
timeout 900 xl-vsmr -w "$WITNESS" --timeout 600 --election-ms 10000 guest1 hostb > /tmp/p.out 2> /tmp/p.err; rc=$?
grep -v 'copy \[' /tmp/p.out | tail -12; cat /tmp/p.err
lab_check protect-exit-0 [ "$rc" = 0 ]
xl-vsmr status guest1 > /vsmrlab/out/status-a.txt 2>&1; cat /vsmrlab/out/status-a.txt
echo "$rc" > /vsmrlab/out/protected.tmp && mv /vsmrlab/out/protected.tmp /vsmrlab/out/protected
wait_for stop
[ "$fails" = 0 ]
