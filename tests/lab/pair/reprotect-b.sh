#!/bin/bash
# pair/reprotect-b.sh - host B of test_pair_reprotect (booted twice): the
# backup host. Says it is up, keeps the logs in the share until told to
# stop (or killed).
. /vsmrlab/lib.sh
. /vsmrlab/common-dom0.sh
echo up > /vsmrlab/out/ready.tmp && mv /vsmrlab/out/ready.tmp /vsmrlab/out/ready
wait_for stop
xl list
true
