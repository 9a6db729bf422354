#!/bin/bash
# pair/failover-b.sh - host B of test_pair_failover: the backup host. xl
# vsmr on A reaches it by ssh (copy, vsmrd); this script only says it is
# up, keeps the logs in the share, and at the end reports the domains.
. /vsmrlab/lib.sh
. /vsmrlab/common-dom0.sh
echo up > /vsmrlab/out/ready.tmp && mv /vsmrlab/out/ready.tmp /vsmrlab/out/ready
wait_for stop
xl list
for f in /run/vsmr/*/backup.log; do grep -a "event=promoted\|event=role_changed\|level=error" "$f" | tail -5; done
true
